"""Durable session recording (length-delimited StreamMessage log) and paced replay.

Record a live session: ``HubRecording(hub, "out/s1.coachrec")`` (stops at ``hub.end()``).
Review it in AR: ``hub = server.add_session(recorded_session_info(path, "s1-review"), token)``,
then ``ReplayThread(path, hub).start()``. Read offline: ``read_recording(path)``.
"""

from .log import (
    DEFAULT_SYNC_INTERVAL_S,
    HubRecording,
    Recording,
    RecordingError,
    RecordingReader,
    SessionRecorder,
    read_recording,
)
from .replay import ReplayResult, ReplayThread, recorded_session_info, replay

__all__ = [
    "DEFAULT_SYNC_INTERVAL_S",
    "HubRecording",
    "Recording",
    "RecordingError",
    "RecordingReader",
    "ReplayResult",
    "ReplayThread",
    "SessionRecorder",
    "read_recording",
    "recorded_session_info",
    "replay",
]
