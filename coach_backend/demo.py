"""``make demo`` / ``python -m coach_backend.demo``: replay the shipped example clip.

Runs the whole offline path on examples/walk_shot.mp4 (MediaPipe -> GC-SSN -> zero-phase
smoothing), writes SMPL (npz + json), the session recording and an overlay video to
out/walk_shot/, and prints a short summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from coach_backend.resources import repo_path

os.environ.setdefault("GLOG_minloglevel", "2")  # quiet MediaPipe's C++ logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EXAMPLE = repo_path("examples", "walk_shot.mp4")  # in the repository, not in the wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=EXAMPLE)
    parser.add_argument("--out", type=Path, default=repo_path("out", "walk_shot"))
    parser.add_argument(
        "--weights", type=Path, default=None, help="GC-SSN weights (default: the shipped ones)"
    )
    args = parser.parse_args(argv)
    # Imported after the arguments are parsed: `--help` needs no torch (seconds).
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS
    from coach_backend.replay.cli import progress_bar, summary
    from coach_backend.replay.run import ReplayOptions, run_replay
    from coach_backend.replay.video import VideoError

    args.weights = args.weights or DEFAULT_WEIGHTS
    if not args.weights.is_file():
        print(
            f"error: GC-SSN weights {args.weights} not found. They ship in "
            f"{DEFAULT_WEIGHTS.parent}; train and export them with `python -m "
            f"coach_backend.gcssn.train_lifter --export {DEFAULT_WEIGHTS}`.",
            file=sys.stderr,
        )
        return 1
    options = ReplayOptions(
        out_dir=args.out, weights=args.weights, overlay=args.out / "overlay.mp4", overwrite=True
    )
    print(f"replaying {args.video} through the pipeline (MediaPipe -> GC-SSN -> smoothing) ...")
    try:
        result = run_replay(args.video, options, progress=progress_bar(quiet=False))
    except (VideoError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(result))
    print(
        f"\nsummary: {result.frames} frames, person detected in "
        f"{100 * result.detected_fraction:.0f} % of them, {result.fps:.1f} fps achieved "
        f"({result.realtime_factor:.2f}x real time). Open {result.overlay} to see the body."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
