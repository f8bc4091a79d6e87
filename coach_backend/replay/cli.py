"""CLI of ``python -m coach_backend.replay session.mp4``: replay a video through the pipeline.

Exit status: 0 done, 1 unusable input / outputs in the way or not writable / missing or bad
weights, 2 bad arguments, 130 interrupted. Errors are one line on stderr, ``error: ...``.

Arguments are checked before anything is processed, and those that need no model before torch,
MediaPipe and PyAV are even imported: ``--help`` and a wrong path answer at once.

Outputs: ``--out`` is a folder. The outputs of an earlier replay in it (and an existing
``--overlay`` file) are replaced only with ``--force``; an existing file named as ``--out`` is
refused even with ``--force``, which replaces nothing but a replay's own outputs. The recording
is written while frames are processed: a replay that is stopped or killed keeps it.

A file holding fewer frames than its container declares (a truncated download or copy) is
replayed as far as it goes, with a warning on stderr and the shortfall in the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coach_backend.replay.run import ReplayOutputs

# Quiet MediaPipe/TFLite's C++ logging (set before mediapipe is first imported).
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_PORT = 50051
EXIT_FAILED, EXIT_INTERRUPTED = 1, 130  # (argparse exits with 2 for bad arguments)
MIN_PERCEPTION_SIDE = 16  # (PerceptionConfig.max_input_side's own lower bound)


def build_parser() -> argparse.ArgumentParser:
    # Only the standard library here and in main() before the checks: `--help` imports
    # nothing heavy (the default weights path lives with the network, so it is named in words).
    from coach_backend.compare.names import EXERCISE_CHOICES
    from coach_backend.config import OFFLINE_REFINE_STEPS, REPLAY_PERCEPTION_MAX_SIDE, SETTLE_STEPS
    from coach_backend.replay.preflight import OVERLAY_SUFFIXES

    p = argparse.ArgumentParser(
        prog="python -m coach_backend.replay",
        description="Run a recorded video through the coaching pipeline (MediaPipe -> GC-SSN "
        "-> smoothing) and write per-frame SMPL, a session recording and optionally an "
        "overlay video; optionally stream the result over gRPC.",
    )
    p.add_argument("video", type=Path, help="input video file (mp4, mov, webm, ...)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default out/<stem>/; not an existing file)",
    )
    p.add_argument(
        "--smoothing",
        choices=["causal", "zero_phase"],
        default="zero_phase",
        help="zero_phase: forward-backward, no lag (default); causal: what the live stream shows",
    )
    p.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="GC-SSN weights (.pt; default: the shipped weights in models/)",
    )
    p.add_argument(
        "--refine-steps",
        type=int,
        default=OFFLINE_REFINE_STEPS,
        help="test-time 2D fitting steps after the network (0 = network only, as live)",
    )
    p.add_argument(
        "--settle-steps",
        type=int,
        default=None,
        help="zero_phase: 2D fitting steps that lay the smoothed body back onto each frame "
        f"(default {SETTLE_STEPS}; 0 = translation only)",
    )
    p.add_argument(
        "--overlay",
        type=Path,
        nargs="?",
        const=Path("overlay.mp4"),
        default=None,
        help=f"write the body mesh drawn over the video ({'/'.join(OVERLAY_SUFFIXES)}; "
        "default name overlay.mp4 in --out)",
    )
    p.add_argument(
        "--exercise",
        choices=EXERCISE_CHOICES,
        default="auto",
        help="which angle the session report counts reps on (default: auto, the angle with the "
        "largest periodic range)",
    )
    p.add_argument(
        "--reference",
        type=Path,
        default=None,
        metavar="TAKE",
        help="compare with this reference take in the report (a replay smpl.npz or .coachrec)",
    )
    p.add_argument(
        "--perception-max-side",
        type=int,
        default=REPLAY_PERCEPTION_MAX_SIDE or 0,
        metavar="PIXELS",
        help="frames whose long side is larger are shrunk to this before MediaPipe (default "
        f"{REPLAY_PERCEPTION_MAX_SIDE or 0}; 0 = native resolution); the outputs stay in the "
        "video's own pixels",
    )
    p.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="perception threads, each on its own chunk of the file (default: one per core, "
        "at most 2; never more than the cores available; 1 = strictly sequential)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the outputs of an earlier replay (they are removed when this one starts)",
    )
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
    p.add_argument(
        "--timings",
        type=Path,
        default=None,
        metavar="FILE",
        help="write when the replay started, produced its first poses, finished processing and "
        "ended (JSON, seconds since the epoch) and its steady-state speed: for benchmarks",
    )
    return p


# The bar's layout: frames done, time spent < time left, processing rate. Without a known total
# (the file does not say how long it is) there is no percentage and no time left.
_BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} frames [{elapsed}<{remaining}, {fps} fps]"
_BAR_FORMAT_NO_TOTAL = "{n_fmt} frames [{elapsed}, {fps} fps]"


class ProgressBar:
    """`progress` for `run_replay`: a tqdm bar of frames with the rate in fps and the time left
    (when the file declares its length). Drawn only on a terminal; `close` when done."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._bar: Any = None
        self.first_update_at: float | None = None  # time.time() when the first poses were done

    def __call__(self, total: int | None) -> Callable[[int], None]:
        self._bar = _frames_bar(
            total=total,
            unit="frame",
            bar_format=_BAR_FORMAT if total else _BAR_FORMAT_NO_TOTAL,
            # disable=None: no bar when stderr is not a terminal (logs, CI, subprocess tests).
            disable=True if self.quiet else None,
            file=sys.stderr,
        )
        return self._update

    def _update(self, frames: int) -> None:
        if self.first_update_at is None:
            self.first_update_at = time.time()
        self._bar.update(frames)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def progress_bar(quiet: bool) -> ProgressBar:
    return ProgressBar(quiet)


def _frames_bar(**kwargs: Any) -> Any:
    """A tqdm bar whose format has `{fps}`: tqdm's own rate field is "<rate><unit>/s", or None
    before the first update (which a format spec cannot take)."""
    from tqdm import tqdm

    class FramesBar(tqdm):
        @property
        def format_dict(self) -> dict[str, Any]:
            d = super().format_dict
            rate = d["rate"] or (d["n"] / d["elapsed"] if d["n"] and d["elapsed"] else None)
            d["fps"] = f"{rate:.1f}" if rate else "?"
            return d

    return FramesBar(**kwargs)


def main(argv: list[str] | None = None) -> int:
    started_at = time.time()  # (this module imports only the standard library)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error("--max-frames must be >= 1")
    if args.refine_steps < 0:
        parser.error("--refine-steps must be >= 0")
    if args.settle_steps is not None and args.settle_steps < 0:
        parser.error("--settle-steps must be >= 0")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    if 0 < args.perception_max_side < MIN_PERCEPTION_SIDE or args.perception_max_side < 0:
        parser.error(f"--perception-max-side must be 0 (native) or >= {MIN_PERCEPTION_SIDE}")

    from coach_backend.replay import preflight  # the standard library only

    out_dir = args.out if args.out is not None else Path("out") / args.video.stem
    overlay = None
    if args.overlay is not None:
        overlay = args.overlay if args.overlay.parent != Path() else out_dir / args.overlay
    workers = args.workers
    if workers is not None:
        workers, workers_note = preflight.capped_workers(workers)
        if workers_note:
            print(f"warning: {workers_note}", file=sys.stderr)
    try:
        preflight.check_input_file(args.video)
        preflight.check_outputs(out_dir, preflight.OUTPUT_NAMES, overlay, args.force)
        if args.weights is not None:  # (the default is checked once the network is imported)
            preflight.check_weights_file(args.weights)
        if args.reference is not None:
            preflight.check_reference_file(args.reference)
    except (preflight.VideoError, preflight.WeightsError, preflight.ReferenceError, OSError) as exc:
        return _fail(exc)
    from coach_backend.replay.video import VideoReader  # PyAV: a fraction of a second

    try:  # is it a video at all: decodes the first frame, before the models load (seconds)
        with VideoReader(args.video):
            pass
    except preflight.VideoError as exc:
        return _fail(exc)

    from coach_backend.replay.run import ReplayOptions, run_replay

    options = ReplayOptions(
        out_dir=out_dir,
        weights=args.weights,
        smoothing=args.smoothing,
        refine_steps=args.refine_steps,
        **({} if args.settle_steps is None else {"settle_steps": args.settle_steps}),
        overlay=overlay,
        overwrite=args.force,
        max_frames=args.max_frames,
        workers=workers,
        exercise=args.exercise,
        reference=args.reference,
        perception_max_side=args.perception_max_side or None,
    )
    bar = progress_bar(args.quiet)
    try:
        result = run_replay(args.video, options, progress=bar)
    except (preflight.VideoError, preflight.WeightsError, preflight.ReferenceError, OSError) as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        bar.close()
        recording = out_dir / preflight.RECORDING_NAME
        kept = f"; {recording} keeps the frames done so far" if recording.exists() else ""
        print(f"interrupted{kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        bar.close()
    if result.missing_frames:
        print(f"warning: {missing_frames_note(result)}", file=sys.stderr)
    print(summary(result))
    if args.timings is not None:
        write_timings(args.timings, result, started_at, bar.first_update_at)
    if args.serve:
        from coach_backend.replay.run import serve_recording

        try:
            sent = serve_recording(
                result.recording, args.host, args.port, args.token, args.wait_for_subscriber
            )
        except OSError as exc:
            print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"streamed {sent} frames; done")
    return 0


def write_timings(
    path: Path, result: ReplayOutputs, started_at: float, first_poses_at: float | None
) -> None:
    """The `--timings` file: wall-clock moments (time.time(), so a launcher can subtract its own
    launch time) and the steady-state speed (`processing_s`: after model loading, before the
    outputs are written)."""
    doc = {
        "started_at": started_at,
        "first_poses_at": first_poses_at,
        "outputs_written_at": time.time(),
        "frames": result.frames,
        "processing_s": result.processing_s,
        "steady_fps": result.fps,
        "steady_realtime_factor": result.realtime_factor,
        "video_duration_s": result.video_duration_s,
        "workers": result.workers,
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")


def _fail(exc: BaseException) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return EXIT_FAILED


def missing_frames_note(result: ReplayOutputs) -> str:
    """One line: how many declared frames were not in the file, and what the outputs hold."""
    return (
        f"{result.video.path}: only {result.frames} of the {result.expected_frames} frames "
        f"the file declares could be decoded ({result.missing_frames} missing: truncated or "
        f"damaged file?); the outputs cover {result.video_duration_s:.2f} s"
    )


def summary(result: ReplayOutputs) -> str:
    """Human-readable report of a replay: input, detection rate, speed, where outputs are."""
    v = result.video
    frames = f"{result.frames}"
    if result.missing_frames:
        frames += (
            f" of {result.expected_frames} declared ({result.missing_frames} MISSING: "
            "truncated or damaged file?)"
        )
    lines = [
        f"video:     {v.path} ({v.width}x{v.height}, {v.fps:.2f} fps, {v.codec}"
        + (f", rotated {v.rotation_cw} deg cw" if v.rotation_cw else "")
        + ")",
        f"frames:    {frames}, person detected in {100 * result.detected_fraction:.1f} %",
        f"speed:     {result.fps:.1f} fps processed = {result.realtime_factor:.2f}x real time "
        f"({result.workers} perception thread{'s' if result.workers > 1 else ''}; work per "
        f"frame p50 {result.latency_p50_ms:.1f} ms, p95 {result.latency_p95_ms:.1f} ms)",
        f"reps:      {result.reps_headline}",
        f"outputs:   {result.out_dir}/",
        f"  SMPL:      {result.npz}",
        f"  JSON:      {result.json}",
        f"  recording: {result.recording}",
        f"  summary:   {result.summary}",
        f"  report:    {result.report}",
    ]
    if result.overlay is not None:
        lines.append(f"  overlay:   {result.overlay}")
    return "\n".join(lines)
