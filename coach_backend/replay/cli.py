"""CLI of ``python -m coach_backend.replay session.mp4``: replay a video through the pipeline.

Exit status: 0 done, 1 unusable input / outputs in the way / missing weights, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach_backend.replay.run import ReplayOutputs

# Quiet MediaPipe/TFLite's C++ logging (set before mediapipe is first imported).
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_PORT = 50051


def build_parser() -> argparse.ArgumentParser:
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS

    p = argparse.ArgumentParser(
        prog="python -m coach_backend.replay",
        description="Run a recorded video through the coaching pipeline (MediaPipe -> GC-SSN "
        "-> smoothing) and write per-frame SMPL, a session recording and optionally an "
        "overlay video; optionally stream the result over gRPC.",
    )
    p.add_argument("video", type=Path, help="input video file (mp4, mov, webm, ...)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default out/<stem>/)")
    p.add_argument(
        "--smoothing",
        choices=["causal", "zero_phase"],
        default="zero_phase",
        help="zero_phase: forward-backward, no lag (default); causal: what the live stream shows",
    )
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="GC-SSN weights (.pt)")
    p.add_argument("--refine-steps", type=int, default=0, help="test-time fitting steps (slow)")
    p.add_argument(
        "--overlay",
        type=Path,
        nargs="?",
        const=Path("overlay.mp4"),
        default=None,
        help="write the body mesh drawn over the video (default name overlay.mp4 in --out)",
    )
    p.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="perception threads, each on its own chunk of the file (default: one per core, "
        "at most 2; 1 = strictly sequential)",
    )
    p.add_argument("--force", action="store_true", help="overwrite outputs of an earlier run")
    p.add_argument("--serve", action="store_true", help="then stream the result over gRPC")
    p.add_argument("--host", default="127.0.0.1", help="--serve address (0.0.0.0 for the LAN)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="--serve port (0 = any free)")
    p.add_argument("--token", default=None, help="--serve access token (default: random)")
    p.add_argument(
        "--wait-for-subscriber",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="--serve: wait up to this long for a first subscriber before streaming",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def progress_bar(quiet: bool) -> Callable[[int | None], Callable[[int], None]]:
    def make(total: int | None) -> Callable[[int], None]:
        from tqdm import tqdm

        # disable=None: no bar when stderr is not a terminal (logs, CI, subprocess tests).
        bar = tqdm(total=total, unit="frame", disable=True if quiet else None, file=sys.stderr)
        return bar.update

    return make


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error("--max-frames must be >= 1")
    if args.refine_steps < 0:
        parser.error("--refine-steps must be >= 0")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be >= 1")

    from coach_backend.replay.run import OutputExistsError, ReplayOptions, run_replay
    from coach_backend.replay.video import VideoError

    out_dir = args.out if args.out is not None else Path("out") / args.video.stem
    overlay = None
    if args.overlay is not None:
        overlay = args.overlay if args.overlay.parent != Path() else out_dir / args.overlay
    options = ReplayOptions(
        out_dir=out_dir,
        weights=args.weights,
        smoothing=args.smoothing,
        refine_steps=args.refine_steps,
        overlay=overlay,
        overwrite=args.force,
        max_frames=args.max_frames,
        workers=args.workers,
    )
    try:
        result = run_replay(args.video, options, progress=progress_bar(args.quiet))
    except (VideoError, OutputExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(result))
    if args.serve:
        from coach_backend.replay.run import serve_recording

        try:
            sent = serve_recording(
                result.recording, args.host, args.port, args.token, args.wait_for_subscriber
            )
        except OSError as exc:
            print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        print(f"streamed {sent} frames; done")
    return 0


def summary(result: ReplayOutputs) -> str:
    """Human-readable report of a replay: input, detection rate, speed, where outputs are."""
    v = result.video
    lines = [
        f"video:     {v.path} ({v.width}x{v.height}, {v.fps:.2f} fps, {v.codec}"
        + (f", rotated {v.rotation_cw} deg cw" if v.rotation_cw else "")
        + ")",
        f"frames:    {result.frames}, person detected in {100 * result.detected_fraction:.1f} %",
        f"speed:     {result.fps:.1f} fps processed = {result.realtime_factor:.2f}x real time "
        f"({result.workers} perception thread{'s' if result.workers > 1 else ''}; work per "
        f"frame p50 {result.latency_p50_ms:.1f} ms, p95 {result.latency_p95_ms:.1f} ms)",
        f"outputs:   {result.out_dir}/",
        f"  SMPL:      {result.npz}",
        f"  JSON:      {result.json}",
        f"  recording: {result.recording}",
    ]
    if result.overlay is not None:
        lines.append(f"  overlay:   {result.overlay}")
    return "\n".join(lines)
