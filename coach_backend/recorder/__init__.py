"""Durable session recording (length-delimited StreamMessage log) and paced replay.

Record a live session: ``HubRecording(hub, "out/s1.coachrec")`` (stops at ``hub.end()``).
Review it in AR: ``hub = server.add_session(recorded_session_info(path, "s1-review",
at_frame=0), token)``, then ``ReplayThread(path, hub).start()``. Read offline:
``read_recording(path)``. Every replay (this one, the dashboard's WebSocket replay) paces and
shapes frames through ``player`` (:class:`PacedPlayer`, :class:`ReplayTimeline`). The session's
video goes beside the log, time-aligned and crash-safe: ``VideoRecorder`` (``video.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.recorder.log import DEFAULT_SYNC_INTERVAL_S as DEFAULT_SYNC_INTERVAL_S
    from coach_backend.recorder.log import HubRecording as HubRecording
    from coach_backend.recorder.log import Recording as Recording
    from coach_backend.recorder.log import RecordingError as RecordingError
    from coach_backend.recorder.log import RecordingReader as RecordingReader
    from coach_backend.recorder.log import SessionRecorder as SessionRecorder
    from coach_backend.recorder.log import read_recording as read_recording
    from coach_backend.recorder.player import PacedPlayer as PacedPlayer
    from coach_backend.recorder.player import ReplayTimeline as ReplayTimeline
    from coach_backend.recorder.replay import ReplayResult as ReplayResult
    from coach_backend.recorder.replay import ReplayThread as ReplayThread
    from coach_backend.recorder.replay import recorded_session_info as recorded_session_info
    from coach_backend.recorder.replay import replay as replay
    from coach_backend.recorder.video import VideoRecorder as VideoRecorder
    from coach_backend.recorder.video import read_video_meta as read_video_meta
    from coach_backend.recorder.video import read_video_times as read_video_times
    from coach_backend.recorder.video import video_paths as video_paths

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "log": (
            "DEFAULT_SYNC_INTERVAL_S",
            "HubRecording",
            "Recording",
            "RecordingError",
            "RecordingReader",
            "SessionRecorder",
            "read_recording",
        ),
        "player": ("PacedPlayer", "ReplayTimeline"),
        "replay": ("ReplayResult", "ReplayThread", "recorded_session_info", "replay"),
        "video": ("VideoRecorder", "read_video_meta", "read_video_times", "video_paths"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
