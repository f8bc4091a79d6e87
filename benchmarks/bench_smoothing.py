"""Benchmark coach_backend.smoothing: acceleration error before/after and lag, causal vs
zero-phase, on synthetic jittered motion, and on real CMU motion (retargeted to SMPL by
coach_backend.mocap) with the same added jitter when a CMU BVH folder is available.

Run:  python benchmarks/bench_smoothing.py [--frames 900] [--seeds 3] [--cmu-dir DIR]
Ratios compare smoothed vs the raw noisy input, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.smoothing import CausalSmoother, SmoothingConfig, SmplSequence, smooth_sequence
from coach_backend.smoothing.metrics import (
    accel_error,
    estimate_lag_frames,
    joint_positions,
    rotation_accel_error_deg,
)
from coach_backend.smoothing.synthetic import synthetic_motion

Row = dict[str, tuple[float, float, float]]  # mode -> (pos ratio, rot ratio, lag frames)


def add_noise(
    truth: SmplSequence, rot_noise_deg: float, transl_noise_m: float, seed: int
) -> SmplSequence:
    """Same jitter model as synthetic_motion, for clean clips from elsewhere."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    rv = truth.rotvecs().reshape(-1, 3)
    sigma = np.radians(rot_noise_deg) / np.sqrt(3.0)
    noisy = Rotation.from_rotvec(rv) * Rotation.from_rotvec(rng.normal(0, sigma, rv.shape))
    noisy_rv = noisy.as_rotvec().reshape(n, -1, 3)
    return SmplSequence(
        noisy_rv[:, 0],
        noisy_rv[:, 1:],
        truth.betas.copy(),
        truth.transl + rng.normal(0, transl_noise_m, truth.transl.shape),
        truth.valid.copy(),
        truth.timestamp_s.copy(),
    )


def evaluate(name: str, truth: SmplSequence, noisy: SmplSequence, cfg: SmoothingConfig) -> Row:
    """Print one table row per mode and return the ratios and lags."""
    truth_pos = joint_positions(truth.rotvecs(), truth.transl)
    raw_pos = joint_positions(noisy.rotvecs(), noisy.transl)
    raw_acc = accel_error(raw_pos, truth_pos)
    raw_rot = rotation_accel_error_deg(noisy.rotvecs(), truth.rotvecs())
    result: Row = {}
    for mode in ("causal", "zero_phase"):
        t0 = time.perf_counter()
        out = smooth_sequence(noisy, cfg, mode=mode)  # type: ignore[arg-type]
        ms_per_frame = 1e3 * (time.perf_counter() - t0) / len(noisy)
        pos = joint_positions(out.rotvecs(), out.transl)
        acc = accel_error(pos, truth_pos)
        rot = rotation_accel_error_deg(out.rotvecs(), truth.rotvecs())
        lag = estimate_lag_frames(pos, truth_pos)
        result[mode] = (acc / raw_acc, rot / raw_rot, lag)
        print(
            f"| {name} | {mode} | {1e3 * raw_acc:.2f} | {1e3 * acc:.2f} | {acc / raw_acc:.3f} "
            f"| {raw_rot:.3f} | {rot:.3f} | {rot / raw_rot:.3f} | {lag:+.2f} | {ms_per_frame:.3f} |"
        )
    return result


def summarize(name: str, rows: list[Row]) -> None:
    for mode in ("causal", "zero_phase"):
        r = np.array([row[mode] for row in rows])
        print(
            f"| **{name}: mean of {len(rows)}** | {mode} | | | **{r[:, 0].mean():.3f}** | | "
            f"| **{r[:, 1].mean():.3f}** | **{r[:, 2].mean():+.2f}** (max {r[:, 2].max():+.2f}) | |"
        )


GLITCH_STEP_DEG = 60.0  # a joint turning more than this in 1/30 s (1800 deg/s) is a data glitch


def max_step_deg(seq: SmplSequence) -> float:
    """Largest frame-to-frame rotation of any joint, degrees."""
    rv = seq.rotvecs()
    a = Rotation.from_rotvec(rv[:-1].reshape(-1, 3))
    b = Rotation.from_rotvec(rv[1:].reshape(-1, 3))
    return float(np.degrees((a.inv() * b).magnitude()).max())


def cmu_clips(cmu_dir: Path, count: int) -> Iterator[tuple[str, SmplSequence]]:
    """`count` CMU trials spread evenly over the sorted folder, retargeted to SMPL at 30 fps
    by coach_backend.mocap (transl = retargeted root position; betas zero)."""
    try:
        from coach_backend.mocap.bvh import load_bvh
        from coach_backend.mocap.retarget import retarget
    except ImportError as exc:  # that package is being written alongside this one
        print(f"\n(coach_backend.mocap unavailable: {exc})")
        return
    files = sorted(cmu_dir.glob("*.bvh"))
    if 0 < count < len(files):
        files = [files[i] for i in np.linspace(0, len(files) - 1, count).round().astype(int)]
    for path in files:
        m = retarget(load_bvh(path), target_fps=30.0)
        n = m.num_frames
        clip = SmplSequence(
            m.global_orient,
            m.body_pose,
            np.zeros((n, 10)),
            m.root_position,
            np.ones(n, dtype=bool),
            np.arange(n) / m.fps,
        )
        yield path.stem, clip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=900, help="frames per synthetic clip (30 fps)")
    ap.add_argument("--seeds", type=int, default=3, help="synthetic clips (seeds 0..N-1)")
    ap.add_argument("--rot-noise-deg", type=float, default=2.5)
    ap.add_argument("--transl-noise-m", type=float, default=0.01)
    ap.add_argument(
        "--cmu-dir",
        type=Path,
        default=Path(os.environ.get("COACH_CMU_DIR", "../shared/data/mocap/cmu")),
        help="CMU .bvh folder (default $COACH_CMU_DIR, else ../shared/data/mocap/cmu)",
    )
    ap.add_argument("--cmu-clips", type=int, default=0, help="trials to use, 0 = all")
    args = ap.parse_args()
    cfg = SmoothingConfig()

    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"config: {cfg}")
    print(
        f"noise: {args.rot_noise_deg} deg rms rotation per joint, "
        f"{args.transl_noise_m * 100:.1f} cm per translation axis\n"
    )
    print(
        "| clip | mode | pos accel raw mm/f^2 | smoothed | ratio | rot accel raw deg/f^2 "
        "| smoothed | ratio | lag frames | ms/frame |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    synth_rows = []
    for seed in range(args.seeds):
        m = synthetic_motion(
            n_frames=args.frames,
            rot_noise_deg=args.rot_noise_deg,
            transl_noise_m=args.transl_noise_m,
            seed=seed,
        )
        synth_rows.append(evaluate(f"synthetic seed {seed}", m.truth, m.noisy, cfg))
    summarize("synthetic", synth_rows)
    m = synthetic_motion(
        n_frames=args.frames,
        rot_noise_deg=args.rot_noise_deg,
        transl_noise_m=args.transl_noise_m,
        timestamp_jitter_s=0.008,
        seed=100,
    )
    evaluate("synthetic, +-8 ms frame jitter", m.truth, m.noisy, cfg)

    if args.cmu_dir.is_dir():
        cmu_rows: list[Row] = []
        clean_rows: list[Row] = []
        for k, (name, clip) in enumerate(cmu_clips(args.cmu_dir, args.cmu_clips)):
            noisy = add_noise(clip, args.rot_noise_deg, args.transl_noise_m, seed=1000 + k)
            # Retargeted CMU has some implausible per-frame jumps (twist flips); flag them, since
            # the rotation-space metric then measures the truth's glitches more than smoothing.
            step = max_step_deg(clip)
            label = f"CMU {name} ({len(clip)} f, max step {step:.0f} deg)"
            row = evaluate(label, clip, noisy, cfg)
            cmu_rows.append(row)
            if step <= GLITCH_STEP_DEG:
                clean_rows.append(row)
        if cmu_rows:
            summarize("CMU all", cmu_rows)
        if clean_rows:
            summarize(f"CMU without >{GLITCH_STEP_DEG:.0f} deg/frame truth jumps", clean_rows)
    else:
        print(f"\n(no CMU clips: {args.cmu_dir} not found)")

    # Live cost: one update() per frame, as the stream would call it.
    frames = synthetic_motion(n_frames=300, seed=0).noisy.to_frames()
    smoother = CausalSmoother(cfg)
    t0 = time.perf_counter()
    for f in frames:
        smoother.update(f)
    us = 1e6 * (time.perf_counter() - t0) / len(frames)
    print(f"\nCausalSmoother.update: {us:.0f} us/frame (24 joints + transl + betas)")


if __name__ == "__main__":
    main()
