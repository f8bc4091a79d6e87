"""Durable session recording (length-delimited StreamMessage log) and paced replay.

Record a live session: ``HubRecording(hub, "out/s1.coachrec")`` (stops at ``hub.end()``).
Review it in AR: ``hub = server.add_session(recorded_session_info(path, "s1-review",
at_frame=0), token)``, then ``ReplayThread(path, hub).start()``. Read offline:
``read_recording(path)``. Every replay (this one, the dashboard's WebSocket replay) paces and
shapes frames through ``player`` (:class:`PacedPlayer`, :class:`ReplayTimeline`). The session's
video goes beside the log, time-aligned and crash-safe: ``VideoRecorder`` (``video.py``).
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
from .player import PacedPlayer, ReplayTimeline
from .replay import ReplayResult, ReplayThread, recorded_session_info, replay
from .video import VideoRecorder, read_video_meta, read_video_times, video_paths

__all__ = [
    "DEFAULT_SYNC_INTERVAL_S",
    "HubRecording",
    "PacedPlayer",
    "Recording",
    "RecordingError",
    "RecordingReader",
    "ReplayResult",
    "ReplayThread",
    "ReplayTimeline",
    "SessionRecorder",
    "VideoRecorder",
    "read_recording",
    "recorded_session_info",
    "read_video_meta",
    "read_video_times",
    "replay",
    "video_paths",
]
