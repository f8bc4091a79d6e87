"""Offline replay: a video file -> per-frame SMPL (npz + json), a recording, an overlay video.

CLI: ``python -m coach_backend.replay session.mp4 [--out DIR] [--overlay [PATH]] [--serve]``.
API: ``run_replay(path, ReplayOptions(out_dir=...)) -> ReplayOutputs``; video input with phone
rotation honoured: ``VideoReader(path)``. Output format: docs/replay_format.md.
"""

from coach_backend.replay.run import (
    FORMAT,
    OutputExistsError,
    ReplayOptions,
    ReplayOutputs,
    run_replay,
    serve_recording,
)
from coach_backend.replay.video import (
    VideoError,
    VideoInfo,
    VideoReader,
    rotation_cw_degrees,
    upright,
    write_video,
)

__all__ = [
    "FORMAT",
    "OutputExistsError",
    "ReplayOptions",
    "ReplayOutputs",
    "VideoError",
    "VideoInfo",
    "VideoReader",
    "rotation_cw_degrees",
    "run_replay",
    "serve_recording",
    "upright",
    "write_video",
]
