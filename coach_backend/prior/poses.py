"""Pose utilities for the prior: left/right mirroring and families of unnatural poses."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.body.skeleton import MIRRORED_JOINTS

# body_pose rows (= SMPL joint - 1), left and right swapped.
_MIRROR_ROWS = np.array(MIRRORED_JOINTS[1:]) - 1
LEFT_KNEE, RIGHT_KNEE, LEFT_ELBOW, RIGHT_ELBOW = 3, 4, 17, 18  # body_pose rows

UNNATURAL_FAMILIES = ("knees_backward", "elbows_backward", "random_rotations")


def mirror_body_pose(body_pose: np.ndarray) -> np.ndarray:
    """Left/right mirror image (reflection x -> -x) of (N,23,3) poses.

    Reflecting a rotation by M = diag(-1, 1, 1) gives M R M, whose rotvec is (x, -y, -z);
    left and right joints swap.
    """
    out = body_pose[:, _MIRROR_ROWS].copy()
    out[..., 1:] *= -1
    return out


def unnatural_poses(body_pose: np.ndarray, family: str, rng: np.random.Generator) -> np.ndarray:
    """Corrupt natural poses (N,23,3) into a family of anatomically impossible ones."""
    out = body_pose.copy()
    n = len(out)
    if family == "knees_backward":
        # SMPL knees flex about +x; hyperextend both 30-70 deg the wrong way (bend forward).
        for row in (LEFT_KNEE, RIGHT_KNEE):
            out[:, row] = 0.0
            out[:, row, 0] = -rng.uniform(np.radians(30), np.radians(70), n)
    elif family == "elbows_backward":
        # Left elbow flexes about -y, right about +y; bend both 30-80 deg the other way.
        for row, sign in ((LEFT_ELBOW, 1.0), (RIGHT_ELBOW, -1.0)):
            out[:, row] = 0.0
            out[:, row, 1] = sign * rng.uniform(np.radians(30), np.radians(80), n)
    elif family == "random_rotations":
        # Uniformly random rotation at every joint.
        out = Rotation.random(n * 23, random_state=rng).as_rotvec().reshape(n, 23, 3)
    else:
        raise ValueError(f"unknown family {family!r}; one of {UNNATURAL_FAMILIES}")
    return out
