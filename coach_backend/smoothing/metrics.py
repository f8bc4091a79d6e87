"""Evaluation helpers for smoothing: a light kinematic-chain joint-position proxy, acceleration
error and lag. Used by tests and benchmarks; no body model needed."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.body.skeleton import SMPL_PARENTS

from .offline import sign_continuous

# Rough adult rest-pose (T-pose) joint positions in metres, pelvis at the origin, SMPL body
# axes (y up, +x = body's left, +z forward). Only bone lengths/directions matter for the
# acceleration proxy, so hand-picked round numbers are enough.
APPROX_REST_JOINTS = np.array(
    [
        [0.00, 0.00, 0.00],  # pelvis
        [0.06, -0.09, 0.00],  # left_hip
        [-0.06, -0.09, 0.00],  # right_hip
        [0.00, 0.11, -0.01],  # spine1
        [0.10, -0.47, 0.00],  # left_knee
        [-0.10, -0.47, 0.00],  # right_knee
        [0.00, 0.25, 0.00],  # spine2
        [0.09, -0.87, -0.04],  # left_ankle
        [-0.09, -0.87, -0.04],  # right_ankle
        [0.00, 0.30, 0.01],  # spine3
        [0.12, -0.93, 0.08],  # left_foot
        [-0.12, -0.93, 0.08],  # right_foot
        [0.00, 0.52, -0.01],  # neck
        [0.08, 0.42, 0.00],  # left_collar
        [-0.08, 0.42, 0.00],  # right_collar
        [0.00, 0.60, 0.04],  # head
        [0.19, 0.46, -0.01],  # left_shoulder
        [-0.19, 0.46, -0.01],  # right_shoulder
        [0.45, 0.44, -0.03],  # left_elbow
        [-0.45, 0.44, -0.03],  # right_elbow
        [0.70, 0.45, -0.03],  # left_wrist
        [-0.70, 0.45, -0.03],  # right_wrist
        [0.78, 0.44, -0.04],  # left_hand
        [-0.78, 0.44, -0.04],  # right_hand
    ]
)


def joint_positions(rotvecs: np.ndarray, transl: np.ndarray) -> np.ndarray:
    """Forward kinematics of the proxy skeleton. rotvecs (T, 24, 3) local (joint 0 = global
    orient), transl (T, 3) -> joint positions (T, 24, 3) in metres."""
    t, j = rotvecs.shape[:2]
    local = Rotation.from_rotvec(rotvecs.reshape(-1, 3)).as_matrix().reshape(t, j, 3, 3)
    world = np.empty_like(local)
    pos = np.empty((t, j, 3))
    world[:, 0] = local[:, 0]
    pos[:, 0] = transl
    for k in range(1, j):
        p = SMPL_PARENTS[k]
        world[:, k] = world[:, p] @ local[:, k]
        bone = APPROX_REST_JOINTS[k] - APPROX_REST_JOINTS[p]
        pos[:, k] = pos[:, p] + world[:, p] @ bone
    return pos


def accel_error(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean L2 norm of (second difference of pred - second difference of truth), per frame^2,
    over frames and joints. pred/truth: (T, J, 3) positions (or any (T, ..., D) signal)."""
    d2 = np.diff(pred, n=2, axis=0) - np.diff(truth, n=2, axis=0)
    return float(np.linalg.norm(d2, axis=-1).mean())


def rotation_accel_error_deg(pred_rotvecs: np.ndarray, truth_rotvecs: np.ndarray) -> float:
    """Rotation-space acceleration error in deg/frame^2: frame-to-frame relative rotations
    (local axes, taken the short way) differenced once more, compared with the truth."""

    def ang_accel(rv: np.ndarray) -> np.ndarray:
        r = Rotation.from_rotvec(rv.reshape(-1, 3))
        t, j = rv.shape[:2]
        flat = np.arange(t * j).reshape(t, j)
        step = (r[flat[:-1].ravel()].inv() * r[flat[1:].ravel()]).as_rotvec()
        return np.diff(step.reshape(t - 1, j, 3), axis=0)

    err = ang_accel(pred_rotvecs) - ang_accel(truth_rotvecs)
    return float(np.degrees(np.linalg.norm(err, axis=-1)).mean())


def continuous_quats(rotvecs: np.ndarray) -> np.ndarray:
    """(T, J, 3) rotvecs -> (T, J, 4) sign-continuous quaternions: a rotation signal that can be
    compared sample by sample (e.g. for lag), unlike rotvecs, which jump near 180 deg."""
    t = len(rotvecs)
    quats = Rotation.from_rotvec(rotvecs.reshape(-1, 3)).as_quat().reshape(t, -1, 4)
    return sign_continuous(quats)


def estimate_lag_frames(pred: np.ndarray, truth: np.ndarray, max_shift: int = 6) -> float:
    """Delay of pred behind truth in frames (positive = pred late), as the shift s minimising
    mean squared error between pred[t] and truth[t - s], refined to sub-frame by a parabola
    through the best integer shift and its neighbours. Same frame range for every shift."""
    t = len(pred)
    if t <= 2 * max_shift + 2:
        raise ValueError("sequence too short for this max_shift")
    rows = np.arange(max_shift, t - max_shift)
    shifts = np.arange(-max_shift, max_shift + 1)
    err = np.array([np.mean((pred[rows] - truth[rows - s]) ** 2) for s in shifts])
    k = int(np.argmin(err))
    if 0 < k < len(shifts) - 1:
        denom = err[k - 1] - 2 * err[k] + err[k + 1]
        frac = 0.5 * (err[k - 1] - err[k + 1]) / denom if denom > 0 else 0.0
        return float(shifts[k] + frac)
    return float(shifts[k])
