"""Replay at phone resolution, measured as a user runs it: whole process, launch to files written.

    .venv/bin/python benchmarks/bench_phone.py [--seconds 30] [--seconds-4k 10]
        [--weights models/X.pt] [--out benchmarks/results/phone.md]

One command. It makes its clips once under .cache/phone_clips/ (git-ignored) by scaling real
footage with ffmpeg (the sports2d demo and pose2sim's portrait phone videos cached by
bench_real.py under .cache/real_media/, else the shipped example):
- landscape 1920x1080, 30 fps, `--seconds` long;
- portrait 1080x1920, stored as phones store it (1920x1080 pixels plus a display rotation);
- landscape 3840x2160, `--seconds-4k` long;
- and the shipped example, examples/walk_shot.mp4 (640x480).

Measured, each in a fresh process as a user would start it (`subprocess`, wall clock from launch
to exit, all outputs written):
- `python -m coach_backend.replay CLIP` without and with `--overlay`, and `make demo`'s command
  (`python -m coach_backend.demo`, which writes the overlay too) on the example;
- time to first poses: the replay's `--timings` file says when its first batch of poses was done;
- steady state: the replay's own speed (after model loading, before writing outputs);
- `--help` of replay, export and serve;
- a start-up breakdown (imports, model loading, MediaPipe graph, first frame) in one process.
Baselines from the same run: MediaPipe alone at the clip's native resolution on the clip's first
frames (one graph, one thread, frames decoded beforehand), with and without its person mask
(the keypoint lifter needs none, so the pipeline turns it off), and decoding alone. And the
perception-resolution sweep behind `PerceptionConfig.max_input_side`: MediaPipe's time and its
keypoints' distance from those at native resolution when frames are shrunk first.

Speed figures from a loaded machine are not worth much: the machine's load average before and
after the run is written into the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")  # quiet MediaPipe's C++ logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CACHE = REPO / ".cache" / "phone_clips"
REAL_MEDIA = REPO / ".cache" / "real_media"
EXAMPLE = REPO / "examples" / "walk_shot.mp4"
SPORTS2D = REAL_MEDIA / "Sports2D" / "Demo" / "demo.mp4"
POSE2SIM_VIDEOS = REAL_MEDIA / "Pose2Sim" / "Demo_Batch"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "phone.md"
FPS = 30
# The targets (x real time, seconds, fps, ms).
TARGET_1080_X, TARGET_1080_OVERLAY_X, TARGET_4K_X, TARGET_EXAMPLE_X = 1.5, 1.0, 0.5, 1.5
TARGET_HELP_S, TARGET_FIRST_POSE_S = 0.3, 1.5
# Frames held in memory for the MediaPipe-alone baselines (a 4K frame is 25 MB).
BASELINE_FRAMES = {"4K": 45}
# (long side or None = native, person mask on): the keypoint distances are measured from the
# first, what the pipeline runs with the keypoint lifter.
SWEEP: tuple[tuple[int | None, bool], ...] = (
    (None, False), (1280, False), (960, False), (640, False), (None, True), (960, True),
)  # fmt: skip
SWEEP_FRAMES = 60
CONFIDENT = 0.5  # keypoints compared in the sweep: confident at native and when shrunk
CLI_COMMANDS = (
    "coach_backend.replay",
    "coach_backend.export",
    "coach_backend.serve",
    "coach_backend.compare",
    "coach_backend.demo",
)


# ---- clips ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clip:
    key: str  # "landscape", "portrait", "4K", "example"
    label: str
    path: Path
    source: str  # what it was made from


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def encode_looped(source: Path, out: Path, seconds: float, width: int, height: int) -> None:
    """`source` looped to `seconds`, letterboxed into width x height at FPS, H.264."""
    fit = (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={FPS}"
    )
    ffmpeg("-stream_loop", "-1", "-i", str(source), "-t", f"{seconds}", "-an", "-vf", fit,
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
           str(out))  # fmt: skip


def portrait_sources() -> list[Path]:
    """pose2sim's portrait phone videos (1080x1920), or nothing when they are not cached."""
    return sorted(POSE2SIM_VIDEOS.glob("Trial_*/videos/cam*.mp4"))


def encode_portrait(out: Path, seconds: float) -> str:
    """A portrait 1080x1920 clip stored as phones do: landscape pixels (the picture turned 90
    degrees clockwise) and a display rotation that turns it upright again."""
    sources = portrait_sources()
    with tempfile.TemporaryDirectory() as tmp:
        joined = Path(tmp) / "joined.mp4"
        if sources:
            inputs = [arg for s in sources for arg in ("-i", str(s))]
            fit = "scale=1080:1920:force_original_aspect_ratio=decrease,pad=1080:1920:-1:-1,"
            chains = "".join(f"[{i}:v]{fit}setsar=1,fps={FPS}[v{i}];" for i in range(len(sources)))
            cat = "".join(f"[v{i}]" for i in range(len(sources)))
            ffmpeg(*inputs, "-filter_complex", f"{chains}{cat}concat=n={len(sources)}:v=1[v]",
                   "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "16",
                   str(joined))  # fmt: skip
            source = f"pose2sim demo videos ({len(sources)} portrait phone clips, concatenated)"
        else:
            ffmpeg("-i", str(EXAMPLE), "-vf", "transpose=clock", "-c:v", "libx264", "-crf", "16",
                   str(joined))  # fmt: skip
            source = f"{EXAMPLE.name} turned to portrait"
        stored = Path(tmp) / "stored.mp4"
        encode_looped(joined, Path(tmp) / "upright.mp4", seconds, 1080, 1920)
        ffmpeg("-i", str(Path(tmp) / "upright.mp4"), "-vf", "transpose=clock", "-c:v", "libx264",
               "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(stored))  # fmt: skip
        # The legacy rotate tag: ffmpeg writes it as the display matrix VideoReader honours.
        ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(out))
    return source


def make_clips(seconds: float, seconds_4k: float, keys: list[str]) -> list[Clip]:
    from coach_backend.replay.video import VideoReader

    CACHE.mkdir(parents=True, exist_ok=True)
    landscape_source = SPORTS2D if SPORTS2D.is_file() else EXAMPLE
    landscape_note = f"{landscape_source.relative_to(REPO)} scaled and looped"
    clips = []
    for key in keys:
        if key == "example":
            clips.append(Clip(key, "shipped example 640x480", EXAMPLE, "examples/walk_shot.mp4"))
            continue
        s = seconds_4k if key == "4K" else seconds
        name = {"landscape": "landscape_1080p", "portrait": "portrait_1080p", "4K": "4k"}[key]
        path = CACHE / f"{name}{FPS}_{s:g}s.mp4"
        note_path = path.with_suffix(".source.txt")
        if not path.is_file() or not note_path.is_file():
            print(f"making {path.relative_to(REPO)} ...", flush=True)
            partial = path.with_name("partial_" + path.name)
            if key == "portrait":
                note = encode_portrait(partial, s)
            else:
                w, h = (3840, 2160) if key == "4K" else (1920, 1080)
                encode_looped(landscape_source, partial, s, w, h)
                note = landscape_note
            partial.rename(path)
            note_path.write_text(note + "\n")
        with VideoReader(path) as video:
            info = video.info
        expected = {"landscape": (1920, 1080), "portrait": (1080, 1920), "4K": (3840, 2160)}
        assert (info.width, info.height) == expected[key], (path, info)
        assert key != "portrait" or info.rotation_cw in (90, 270), info  # the rotation path
        label = {
            "landscape": f"1080p30 landscape, {s:g} s",
            "portrait": f"1080p30 portrait (landscape pixels + display rotation), {s:g} s",
            "4K": f"4K30 landscape, {s:g} s",
        }[key]
        clips.append(Clip(key, label, path, note_path.read_text().strip()))
    return clips


# ---- whole-process runs --------------------------------------------------------------------
@dataclass
class ProcessRun:
    wall_s: float
    frames: int
    video_s: float
    first_poses_s: float | None = None  # launch -> first batch of poses done
    steady_x: float | None = None  # the replay's own speed (models loaded, outputs not written)

    @property
    def whole_x(self) -> float:
        return self.video_s / self.wall_s

    @property
    def whole_fps(self) -> float:
        return self.frames / self.wall_s


def timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(launch time.time(), wall seconds, result); raises with stderr when the command fails."""
    launched = time.time()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return launched, wall, proc


def run_replay(clip: Path, overlay: bool, weights: Path | None, workdir: Path) -> ProcessRun:
    out = workdir / "replay"
    timings = workdir / "timings.json"
    cmd = [sys.executable, "-m", "coach_backend.replay", str(clip), "--out", str(out),
           "--force", "--quiet", "--timings", str(timings)]  # fmt: skip
    if overlay:
        cmd.append("--overlay")
    if weights is not None:
        cmd += ["--weights", str(weights)]
    launched, wall, _ = timed(cmd)
    t = json.loads(timings.read_text())
    first = t["first_poses_at"]
    shutil.rmtree(out)
    return ProcessRun(
        wall_s=wall,
        frames=t["frames"],
        video_s=t["video_duration_s"],
        first_poses_s=None if first is None else first - launched,
        steady_x=t["steady_realtime_factor"],
    )


def run_demo(weights: Path | None, workdir: Path) -> ProcessRun:
    """`make demo`'s command (the example, with the overlay), as it prints its speed."""
    cmd = [sys.executable, "-m", "coach_backend.demo", "--out", str(workdir / "demo")]
    if weights is not None:
        cmd += ["--weights", str(weights)]
    _, wall, proc = timed(cmd)
    frames = int(re.search(r"summary: (\d+) frames", proc.stdout).group(1))  # type: ignore[union-attr]
    steady = float(re.search(r"\(([\d.]+)x real time\)", proc.stdout).group(1))  # type: ignore[union-attr]
    shutil.rmtree(workdir / "demo")
    return ProcessRun(wall_s=wall, frames=frames, video_s=frames / FPS, steady_x=steady)


def help_seconds(module: str, repeats: int = 3) -> float:
    """Best of `repeats` wall times of `python -m module --help`."""
    return min(timed([sys.executable, "-m", module, "--help"])[1] for _ in range(repeats))


def startup_breakdown(weights: Path | None) -> dict[str, float]:
    """The start-up phases of a replay, timed in a fresh process (`--startup-probe`)."""
    cmd = [sys.executable, __file__, "--startup-probe"]
    if weights is not None:
        cmd += ["--weights", str(weights)]
    env = {**os.environ, "BENCH_LAUNCHED_AT": repr(time.time())}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup_probe(weights: Path | None) -> None:
    """Runs in the probe process: what a replay does before its first poses, step by step."""
    phases: dict[str, float] = {
        "interpreter start": time.time() - float(os.environ["BENCH_LAUNCHED_AT"])
    }
    last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        phases[name] = now - last
        last = now

    from coach_backend.replay import run as _run  # noqa: F401  (torch, GC-SSN, pipeline, gRPC)

    lap("import replay (torch, GC-SSN, pipeline, stream; not the report's modules)")
    from coach_backend.body import load_body_model
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS, load_gcssn

    network = load_gcssn(DEFAULT_WEIGHTS if weights is None else weights)
    lap("load GC-SSN weights")
    body = load_body_model()
    lap("load body model")
    import mediapipe  # noqa: F401

    lap("import mediapipe")
    from coach_backend.config import (
        OFFLINE_MIRROR_AVERAGE,
        OFFLINE_REFINE_STEPS,
        REPLAY_PERCEPTION_MAX_SIDE,
    )
    from coach_backend.perception import PerceptionConfig
    from coach_backend.pipeline import PipelineConfig, SessionPipeline, perceive
    from coach_backend.replay.run import GCSSN_FIRST_BATCH
    from coach_backend.replay.video import VideoReader

    config = PipelineConfig(  # the replay's
        perception=PerceptionConfig(max_input_side=REPLAY_PERCEPTION_MAX_SIDE),
        weights=network,
        refine_steps=OFFLINE_REFINE_STEPS,
        mirror_average=OFFLINE_MIRROR_AVERAGE,
    )
    pipeline = SessionPipeline("probe", config, body=body)
    lap("SessionPipeline (GC-SSN + body ready)")
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    detector = MediaPipeDetector(pipeline.config.perception)
    lap("MediaPipe graph")
    n = GCSSN_FIRST_BATCH
    with VideoReader(EXAMPLE) as video:
        frames = [frame for _, (frame, _) in zip(range(n), video, strict=False)]
    lap(f"open video, decode {n} frames")
    perceived = [perceive(detector, frame, 33_333 * i) for i, frame in enumerate(frames)]
    lap(f"MediaPipe, {n} frames")
    pipeline.finish_batch(perceived)
    lap(f"GC-SSN + {OFFLINE_REFINE_STEPS}-step fit + smoothing, {n} frames (the first poses)")
    phases["total"] = time.time() - float(os.environ["BENCH_LAUNCHED_AT"])
    detector.close()
    pipeline.close()
    print(json.dumps(phases))


# ---- in-process baselines ------------------------------------------------------------------
def decode(path: Path, limit: int | None = None) -> tuple[list[Any], float]:
    """The first `limit` upright frames, and the decoding rate (fps) while reading them."""
    from coach_backend.replay.video import VideoReader

    frames = []
    t0 = time.perf_counter()
    with VideoReader(path) as video:
        for frame, _ in video:
            frames.append(frame)
            if limit is not None and len(frames) >= limit:
                break
    return frames, len(frames) / (time.perf_counter() - t0)


def mediapipe_alone_fps(frames: list[Any], segmentation: bool) -> float:
    """MediaPipe at the frames' native resolution, video mode, one graph: frames per second."""
    from coach_backend.perception import PerceptionConfig
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    config = PerceptionConfig(max_input_side=None, segmentation=segmentation)
    with MediaPipeDetector(config) as detector:
        detector.detect(frames[0])  # graph warm-up (first inference allocates)
    with MediaPipeDetector(config) as detector:
        t0 = time.perf_counter()
        for frame in frames:
            detector.detect(frame)
        return len(frames) / (time.perf_counter() - t0)


@dataclass
class SweepRow:
    side: int | None
    mask: bool
    ms_per_frame: float
    detected: float
    median_pct: float  # keypoint distance from native, % of the person's height
    p95_pct: float


def resolution_sweep(frames: list[Any]) -> list[SweepRow]:
    """MediaPipe with frames shrunk to each long side, with and without the mask (`SWEEP`), the
    graphs fed in turn frame by frame so that load changes hit them alike."""
    import numpy as np

    from coach_backend.perception import PerceptionConfig
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    detectors = {
        key: MediaPipeDetector(PerceptionConfig(max_input_side=key[0], segmentation=key[1]))
        for key in SWEEP
    }
    spent = dict.fromkeys(SWEEP, 0.0)
    reps: dict[tuple[int | None, bool], list[Any]] = {key: [] for key in SWEEP}
    try:
        for i, frame in enumerate(frames):
            for key in SWEEP if i % 2 else SWEEP[::-1]:
                t0 = time.perf_counter()
                reps[key].append(detectors[key].detect(frame))
                spent[key] += time.perf_counter() - t0
    finally:
        for detector in detectors.values():
            detector.close()
    native = reps[SWEEP[0]]
    rows = []
    for key in SWEEP:
        distances = []
        for ref, rep in zip(native, reps[key], strict=True):
            if not (ref.has_person and rep.has_person):
                continue
            ok = (ref.confidences > CONFIDENT) & (rep.confidences > CONFIDENT)
            ref_px, rep_px = ref.keypoints_frame(), rep.keypoints_frame()
            height = np.ptp(ref_px[ref.confidences > CONFIDENT, 1])
            if ok.sum() < 5 or height <= 0:
                continue
            distances.extend(np.linalg.norm(rep_px[ok] - ref_px[ok], axis=1) / height * 100)
        d = np.asarray(distances) if distances else np.array([np.nan])
        rows.append(
            SweepRow(
                side=key[0],
                mask=key[1],
                ms_per_frame=spent[key] / len(frames) * 1e3,
                detected=float(np.mean([r.has_person for r in reps[key]])),
                median_pct=float(np.median(d)),
                p95_pct=float(np.percentile(d, 95)),
            )
        )
    return rows


# ---- report --------------------------------------------------------------------------------
def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} cores usable, {platform.platform()}, Python {platform.python_version()}"


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout

    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "coach_backend") else ""
    return git("rev-parse", "--short", "HEAD").strip() + dirty


def steady_ratio(run: ProcessRun, mediapipe_fps: float) -> str:
    """The replay's steady-state frame rate over MediaPipe alone's (same run)."""
    if run.steady_x is None:
        return "-"
    return f"{run.steady_x * run.frames / run.video_s / mediapipe_fps:.2f}"


def verdict(value: float | None, target: float, higher_is_better: bool = True) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "**not met**"


def fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=30.0, help="length of the 1080p clips")
    p.add_argument("--seconds-4k", type=float, default=10.0, help="length of the 4K clip")
    p.add_argument(
        "--clips",
        nargs="+",
        choices=["landscape", "portrait", "4K", "example"],
        default=["landscape", "portrait", "4K", "example"],
    )
    p.add_argument("--baseline-frames", type=int, default=90, help="frames for MediaPipe alone")
    p.add_argument("--weights", type=Path, default=None, help="GC-SSN weights (default: shipped)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.startup_probe:
        startup_probe(args.weights)
        return 0
    if shutil.which("ffmpeg") is None:
        p.error("ffmpeg is needed to make the clips (apt-get install ffmpeg)")

    command = "python benchmarks/bench_phone.py " + " ".join(sys.argv[1:])
    load_before = os.getloadavg()
    clips = make_clips(args.seconds, args.seconds_4k, args.clips)
    log: Callable[[str], None] = lambda line: print(line, flush=True)  # noqa: E731

    helps = {module: help_seconds(module) for module in CLI_COMMANDS}
    log(f"--help: {helps}")
    startup = startup_breakdown(args.weights)
    log(f"start-up: {startup}")

    rows: list[dict[str, Any]] = []
    sweeps: dict[str, list[SweepRow]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for clip in clips:
            limit = BASELINE_FRAMES.get(clip.key, args.baseline_frames)
            frames, decode_fps = decode(clip.path, limit)
            mp_mask = mediapipe_alone_fps(frames, segmentation=True)
            mp_plain = mediapipe_alone_fps(frames, segmentation=False)
            if clip.key != "example":
                sweeps[clip.label] = resolution_sweep(frames[:SWEEP_FRAMES])
            del frames
            plain = run_replay(clip.path, False, args.weights, workdir)
            log(f"{clip.label}: replay {plain}")
            overlay = (
                None if clip.key == "4K" else run_replay(clip.path, True, args.weights, workdir)
            )
            log(f"{clip.label}: replay --overlay {overlay}")
            rows.append(dict(clip=clip, decode_fps=decode_fps, mp_mask=mp_mask,
                             mp_plain=mp_plain, plain=plain, overlay=overlay))  # fmt: skip
        demo = run_demo(args.weights, workdir) if "example" in args.clips else None
        log(f"make demo: {demo}")
    load_after = os.getloadavg()

    text = report(command, rows, demo, helps, startup, sweeps, load_before, load_after, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


def report(
    command: str,
    rows: list[dict[str, Any]],
    demo: ProcessRun | None,
    helps: dict[str, float],
    startup: dict[str, float],
    sweeps: dict[str, list[SweepRow]],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    args: argparse.Namespace,
) -> str:
    from coach_backend.config import REPLAY_PERCEPTION_MAX_SIDE
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS

    weights = args.weights or DEFAULT_WEIGHTS
    out = [
        "# Replay at phone resolution, whole process (issue 13)",
        "",
        f"Command (repo root): `{command.strip()}`",
        "",
        f"Machine: {machine()}. Load average (1 min) {load_before[0]:.1f} before the run, "
        f"{load_after[0]:.1f} after. Code: {git_revision()}. GC-SSN weights: "
        f"{Path(weights).relative_to(REPO) if Path(weights).is_relative_to(REPO) else weights}. "
        f"The replay's perception input: long side at most {REPLAY_PERCEPTION_MAX_SIDE or 'native'}"
        " (`REPLAY_PERCEPTION_MAX_SIDE`, `--perception-max-side`).",
        "",
        "Whole process = clip length / wall time from launching `python -m coach_backend.replay "
        "CLIP --out DIR --force --quiet` to its exit (imports, model loading, decoding, "
        "processing, all outputs written). Steady state = the replay's own figure (after model "
        "loading, before writing outputs). First poses = launch to the first batch of poses, "
        "from the replay's `--timings` file. MediaPipe alone: one graph at the clip's native "
        "resolution on its first frames, decoded beforehand; `with mask` is what the pipeline "
        "ran before, `keypoints only` what it runs with the keypoint lifter.",
        "",
        "| clip | frames | decode alone fps | MediaPipe alone fps (with mask / keypoints only) "
        "| replay, whole process | ratio to MediaPipe alone (with mask / keypoints only) "
        "| steady state (ratio to MediaPipe alone, keypoints only) | first poses "
        "| `--overlay`, whole process | steady state |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        clip, plain, overlay = r["clip"], r["plain"], r["overlay"]
        out.append(
            f"| {clip.label} | {plain.frames} | {r['decode_fps']:.1f} "
            f"| {r['mp_mask']:.1f} / {r['mp_plain']:.1f} "
            f"| {plain.whole_x:.2f}x ({plain.whole_fps:.1f} fps) "
            f"| {plain.whole_fps / r['mp_mask']:.2f} / {plain.whole_fps / r['mp_plain']:.2f} "
            f"| {fmt(plain.steady_x, suffix='x')} ({steady_ratio(plain, r['mp_plain'])}) "
            f"| {fmt(plain.first_poses_s, suffix=' s')} "
            f"| {'-' if overlay is None else f'{overlay.whole_x:.2f}x'} "
            f"| {'-' if overlay is None else fmt(overlay.steady_x, suffix='x')} |"
        )
    if demo is not None:
        out += [
            "",
            f"`make demo` (`python -m coach_backend.demo`: the example with the overlay): "
            f"{demo.whole_x:.2f}x real time whole process ({demo.wall_s:.1f} s for "
            f"{demo.frames} frames), {fmt(demo.steady_x)}x steady state.",
        ]
    sources = "; ".join(f"{r['clip'].label}: {r['clip'].source}" for r in rows)
    out += ["", f"Clips (in .cache/phone_clips/): {sources}.", ""]

    by_key = {r["clip"].key: r for r in rows}

    def whole(key: str, overlay: bool = False) -> float | None:
        r = by_key.get(key)
        run = None if r is None else r["overlay" if overlay else "plain"]
        return None if run is None else run.whole_x

    first_poses = [r["plain"].first_poses_s for r in rows if r["plain"].first_poses_s is not None]
    landscape_portrait = [x for x in (whole("landscape"), whole("portrait")) if x is not None]
    overlays = [x for x in (whole("landscape", True), whole("portrait", True)) if x is not None]
    worst_1080 = min(landscape_portrait) if landscape_portrait else None
    worst_overlay = min(overlays) if overlays else None
    worst_help = max(helps.values())
    worst_first = max(first_poses) if first_poses else None
    out += [
        "## Targets",
        "",
        "| target | measured (worst case) | |",
        "|---|---:|---|",
        f"| 1080p30, whole process >= {TARGET_1080_X}x | {fmt(worst_1080, suffix='x')} "
        f"| {verdict(worst_1080, TARGET_1080_X)} |",
        f"| 1080p30 with `--overlay` >= {TARGET_1080_OVERLAY_X}x "
        f"| {fmt(worst_overlay, suffix='x')} | {verdict(worst_overlay, TARGET_1080_OVERLAY_X)} |",
        f"| 4K >= {TARGET_4K_X}x | {fmt(whole('4K'), suffix='x')} "
        f"| {verdict(whole('4K'), TARGET_4K_X)} |",
        f"| shipped example >= {TARGET_EXAMPLE_X}x (replay / `make demo`) "
        f"| {fmt(whole('example'), suffix='x')} / {fmt(demo and demo.whole_x, suffix='x')} "
        f"| {verdict(whole('example'), TARGET_EXAMPLE_X)} / "
        f"{verdict(demo and demo.whole_x, TARGET_EXAMPLE_X)} |",
        f"| `--help` <= {TARGET_HELP_S} s | {worst_help:.2f} s "
        f"| {verdict(worst_help, TARGET_HELP_S, higher_is_better=False)} |",
        f"| first poses <= {TARGET_FIRST_POSE_S} s after launch | {fmt(worst_first, suffix=' s')} "
        f"| {verdict(worst_first, TARGET_FIRST_POSE_S, higher_is_better=False)} |",
        "",
        "`--help` (best of 3): " + ", ".join(f"`{m}` {s:.2f} s" for m, s in helps.items()) + ".",
        "",
        "## Start-up of a replay, step by step (one fresh process)",
        "",
        "| step | seconds |",
        "|---|---:|",
        *(f"| {name} | {seconds:.2f} |" for name, seconds in startup.items()),
        "",
        "## Perception resolution (`PerceptionConfig.max_input_side`)",
        "",
        f"MediaPipe on the first {SWEEP_FRAMES} frames, shrunk with cv2 INTER_AREA to the "
        "given long side first, with or without the person mask; the graphs are fed in turn, "
        "frame by frame. Keypoint distance from native = distance between the confident "
        "keypoints found this way and at native resolution without the mask (what the pipeline "
        "runs with the keypoint lifter), in % of the person's height.",
        "",
        "| clip | long side | mask | ms/frame (resize included) | person found "
        "| keypoint distance from native, median | p95 |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for label, sweep in sweeps.items():
        for row in sweep:
            out.append(
                f"| {label} | {row.side or 'native'} | {'yes' if row.mask else 'no'} "
                f"| {row.ms_per_frame:.1f} "
                f"| {100 * row.detected:.0f} % | {row.median_pct:.2f} % | {row.p95_pct:.2f} % |"
            )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
