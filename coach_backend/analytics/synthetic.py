"""Synthetic exercises as SMPL rotations with a known rep structure (tests, docs, demos).

A rep profile p(t) in [0, 1] (0 = rest, 1 = the rep's extreme) is built from per-rep timings
with raised-cosine ramps; each exercise maps p to joint rotations of the SMPL tree (y-up frame,
body facing +z, left at +x). Joint angles then come from :func:`angles_from_rotations` or the
body model, so the motion goes through the same kinematics as a real take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach_backend.body.skeleton import SMPL_JOINT_NAMES

_ROW = {name: i - 1 for i, name in enumerate(SMPL_JOINT_NAMES) if i > 0}  # body_pose rows
_X, _Y, _Z = 0, 1, 2
# Arms hanging by the sides: the zero pose is a T-pose, so lower each arm 80 deg about z.
ARM_DOWN_DEG = 80.0


@dataclass(frozen=True)
class RepTiming:
    """One rep: seconds going down, held at the extreme, coming up, then at rest after it."""

    down_s: float = 1.0
    hold_s: float = 0.2
    up_s: float = 1.0
    rest_s: float = 0.5

    @property
    def duration_s(self) -> float:
        return self.down_s + self.hold_s + self.up_s


def rep_profile(
    times: np.ndarray, timings: list[RepTiming], lead_s: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """(p, rep) at ``times``: p in [0, 1], rep = index of the rep the frame belongs to (the
    last one started; -1 before the first). The first rep starts at ``lead_s``."""
    t = np.asarray(times, np.float64)
    p = np.zeros_like(t)
    rep = np.full(t.shape, -1)
    start = lead_s
    for k, r in enumerate(timings):
        down = (t >= start) & (t < start + r.down_s)
        p[down] = 0.5 - 0.5 * np.cos(np.pi * (t[down] - start) / r.down_s)
        hold = (t >= start + r.down_s) & (t < start + r.down_s + r.hold_s)
        p[hold] = 1.0
        up_start = start + r.down_s + r.hold_s
        up = (t >= up_start) & (t < up_start + r.up_s)
        p[up] = 0.5 + 0.5 * np.cos(np.pi * (t[up] - up_start) / r.up_s)
        rep[t >= start] = k
        start = up_start + r.up_s + r.rest_s
    return p, rep


def total_duration(timings: list[RepTiming], lead_s: float = 0.5, tail_s: float = 0.5) -> float:
    return lead_s + sum(r.duration_s + r.rest_s for r in timings) + tail_s


def exercise_rotations(
    exercise: str, p: np.ndarray, rep: np.ndarray | None = None, knee_deg: float = 110.0
) -> tuple[np.ndarray, np.ndarray]:
    """(global_orient (T, 3), body_pose (T, 23, 3)) axis-angle for ``exercise`` at profile p.
    ``knee_deg``: knee rotation at the bottom of a squat / lunge (lower = a shallower knee bend,
    everything else unchanged). Lunges alternate the front leg with ``rep`` (left first)."""
    p = np.asarray(p, np.float64)
    n = len(p)
    go = np.zeros((n, 3))
    bp = np.zeros((n, 23, 3))
    bp[:, _ROW["left_shoulder"], _Z] = -np.radians(ARM_DOWN_DEG)
    bp[:, _ROW["right_shoulder"], _Z] = np.radians(ARM_DOWN_DEG)
    rad = np.radians
    if exercise == "squat":
        for side in ("left", "right"):
            bp[:, _ROW[f"{side}_hip"], _X] = -rad(95.0) * p  # thigh forward
            bp[:, _ROW[f"{side}_knee"], _X] = rad(knee_deg) * p
            bp[:, _ROW[f"{side}_ankle"], _X] = rad(25.0) * p
        bp[:, _ROW["spine1"], _X] = rad(25.0) * p  # lean forward
    elif exercise == "lunge":
        front_left = (np.maximum(rep, 0) % 2 == 0) if rep is not None else np.ones(n, bool)
        for side, front in (("left", front_left), ("right", ~front_left)):
            hip = np.where(front, -rad(80.0), rad(15.0))  # front thigh forward, back one behind
            bp[:, _ROW[f"{side}_hip"], _X] = hip * p
            bp[:, _ROW[f"{side}_knee"], _X] = rad(knee_deg * 95.0 / 110.0) * p
    elif exercise == "jumping_jack":
        raise_by = rad(160.0) * p  # arms from hanging (10 deg) to overhead (170 deg)
        bp[:, _ROW["left_shoulder"], _Z] += raise_by
        bp[:, _ROW["right_shoulder"], _Z] -= raise_by
        bp[:, _ROW["left_hip"], _Z] = rad(15.0) * p  # legs apart
        bp[:, _ROW["right_hip"], _Z] = -rad(15.0) * p
        bp[:, _ROW["left_knee"], _X] = rad(10.0) * p
        bp[:, _ROW["right_knee"], _X] = rad(10.0) * p
    elif exercise == "push_up":
        go[:, _X] = np.pi / 2  # face down, head along +z
        bp[:, _ROW["left_shoulder"]] = [0.0, -np.pi / 2, 0.0]  # arms towards the floor
        bp[:, _ROW["right_shoulder"]] = [0.0, np.pi / 2, 0.0]
        bp[:, _ROW["left_elbow"], _Y] = -rad(95.0) * p
        bp[:, _ROW["right_elbow"], _Y] = rad(95.0) * p
    else:
        raise ValueError(f"unknown exercise {exercise!r}")
    return go, bp


def add_rotation_noise(
    global_orient: np.ndarray, body_pose: np.ndarray, noise_deg: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Independent per-frame, per-joint rotation noise (small-angle: added to the rotvecs),
    rms angle ``noise_deg`` per joint: what a jittery per-frame fit looks like."""
    rng = np.random.default_rng(seed)
    sigma = np.radians(noise_deg) / np.sqrt(3.0)
    return (
        global_orient + rng.normal(0.0, sigma, global_orient.shape),
        body_pose + rng.normal(0.0, sigma, body_pose.shape),
    )
