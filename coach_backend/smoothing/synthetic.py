"""Deterministic synthetic SMPL motion with known ground truth, for tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from .types import NUM_BETAS, NUM_JOINTS, SmplSequence


@dataclass
class SyntheticMotion:
    truth: SmplSequence
    noisy: SmplSequence


def synthetic_motion(
    n_frames: int = 300,
    fps: float = 30.0,
    rot_noise_deg: float = 2.5,
    transl_noise_m: float = 0.01,
    betas_noise: float = 0.1,
    timestamp_jitter_s: float = 0.0,
    seed: int = 0,
) -> SyntheticMotion:
    """Smooth sinusoidal joint motion plus Gaussian jitter.

    Each joint axis: amplitude 5-35 deg, frequency 0.2-1.0 Hz (peak speeds up to ~220 deg/s,
    exercise-like). The global orientation swings +-30 deg of yaw around a body turned 180 deg
    about x (camera frame), so its rotvec sits near angle pi and flips axis: a sign-flip trap.
    Rotation noise: random rotvec with rms angle rot_noise_deg, applied in the joint frame.
    timestamp_jitter_s: frames are captured at uneven times (truth evaluated at those times).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / fps
    if timestamp_jitter_s > 0:
        t = t + rng.uniform(-timestamp_jitter_s, timestamp_jitter_s, n_frames)
        t = np.sort(t)

    amp = np.radians(rng.uniform(5.0, 35.0, (NUM_JOINTS, 3)))
    freq = rng.uniform(0.2, 1.0, (NUM_JOINTS, 3))
    phase = rng.uniform(0.0, 2 * np.pi, (NUM_JOINTS, 3))
    angles = amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)  # (T, 24, 3)
    angles[:, 0] *= np.array([0.3, 30.0 / 35.0, 0.3])  # global: mostly yaw, a little pitch/roll
    local = Rotation.from_euler("xyz", angles.reshape(-1, 3))
    rv = local.as_rotvec().reshape(n_frames, NUM_JOINTS, 3)
    turn = Rotation.from_euler("x", np.pi)
    rv[:, 0] = (turn * Rotation.from_rotvec(rv[:, 0])).as_rotvec()

    transl = np.stack(
        [
            0.3 * np.sin(2 * np.pi * 0.3 * t),
            0.05 * np.sin(2 * np.pi * 0.8 * t + 1.0),
            3.0 + 0.4 * np.sin(2 * np.pi * 0.2 * t + 2.0),
        ],
        axis=1,
    )
    betas = np.tile(rng.normal(0.0, 0.8, NUM_BETAS), (n_frames, 1))
    valid = np.ones(n_frames, dtype=bool)
    truth = SmplSequence(rv[:, 0], rv[:, 1:], betas, transl, valid, t)

    sigma = np.radians(rot_noise_deg) / np.sqrt(3.0)  # per axis, so the rms angle is as given
    noise = Rotation.from_rotvec(rng.normal(0.0, sigma, (n_frames * NUM_JOINTS, 3)))
    noisy_rv = (Rotation.from_rotvec(rv.reshape(-1, 3)) * noise).as_rotvec()
    noisy_rv = noisy_rv.reshape(n_frames, NUM_JOINTS, 3)
    noisy = SmplSequence(
        noisy_rv[:, 0],
        noisy_rv[:, 1:],
        betas + rng.normal(0.0, betas_noise, betas.shape),
        transl + rng.normal(0.0, transl_noise_m, transl.shape),
        valid.copy(),
        t.copy(),
    )
    return SyntheticMotion(truth=truth, noisy=noisy)
