"""Known poses for the reference-ghost browser tests: squat sets in the wire format, with the
feet kept on the floor (the pelvis goes down as the knees bend, as a reconstructed squat's does),
and a session recording written from them."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from analytics_support import exercise_take, rest_joints

from coach_backend.mocap.skeleton import smpl_skeleton_fk
from coach_backend.stream import encode_poses, pb

PELVIS = np.array([0.0, 0.9, -3.0])  # standing: 3 m in front of the camera


def squat_poses(timings: list, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
    """(times, (T, 104) wire poses) of a squat set (``kw``: exercise_take's speed, warp,
    knee_deg), the lower foot at its standing height."""
    t, go, bp = exercise_take("squat", timings, **kw)
    joints = smpl_skeleton_fk(go, bp, rest_joints())
    foot = np.minimum(joints[:, 10, 1], joints[:, 11, 1]) - joints[:, 0, 1]  # below the pelvis
    pelvis = np.tile(PELVIS, (len(t), 1))
    pelvis[:, 1] += foot[0] - foot
    return t, encode_poses(np.concatenate([go[:, None], bp], axis=1), pelvis)


def pose_frame(i: int, t_us: int, pose: np.ndarray) -> pb.PoseFrame:
    return pb.PoseFrame(
        sequence=i, capture_time_us=t_us, confidence=1.0, flags=int(pose[1]), pose=pose.tobytes()
    )


def write_squats(recorder: Any, timings: list, **kw: Any) -> None:
    """A squat set into a session's own recording, as its pipeline would write it."""
    t, poses = squat_poses(timings, **kw)
    t0 = time.time_ns() // 1000
    for i, pose in enumerate(poses):
        recorder.append(pose_frame(i, t0 + round(t[i] * 1e6), pose))
