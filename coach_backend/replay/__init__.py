"""Offline replay: a video file -> per-frame SMPL (npz + json), a recording, an overlay video.

CLI: ``python -m coach_backend.replay session.mp4 [--out DIR] [--overlay [PATH]] [--serve]``.
API: ``run_replay(path, ReplayOptions(out_dir=...)) -> ReplayOutputs``; video input with phone
rotation honoured: ``VideoReader(path)``. Output format: docs/replay_format.md.

The names below are imported on first use (PEP 562): ``python -m coach_backend.replay --help``
must not pay for torch, MediaPipe and PyAV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the names are, for type checkers and readers (explicit re-exports)
    from coach_backend.replay.preflight import OutputExistsError as OutputExistsError
    from coach_backend.replay.preflight import OutputPathError as OutputPathError
    from coach_backend.replay.preflight import VideoError as VideoError
    from coach_backend.replay.preflight import WeightsError as WeightsError
    from coach_backend.replay.run import FORMAT as FORMAT
    from coach_backend.replay.run import ReplayOptions as ReplayOptions
    from coach_backend.replay.run import ReplayOutputs as ReplayOutputs
    from coach_backend.replay.run import run_replay as run_replay
    from coach_backend.replay.run import serve_recording as serve_recording
    from coach_backend.replay.video import VideoInfo as VideoInfo
    from coach_backend.replay.video import VideoReader as VideoReader
    from coach_backend.replay.video import rotation_cw_degrees as rotation_cw_degrees
    from coach_backend.replay.video import upright as upright
    from coach_backend.replay.video import write_video as write_video

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "preflight": ("OutputExistsError", "OutputPathError", "VideoError", "WeightsError"),
        "run": ("FORMAT", "ReplayOptions", "ReplayOutputs", "run_replay", "serve_recording"),
        "video": ("VideoInfo", "VideoReader", "rotation_cw_degrees", "upright", "write_video"),
    },
)
