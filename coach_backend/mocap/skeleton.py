"""SMPL-24 kinematic tree and a numpy forward kinematics for it (no body model needed)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.body.skeleton import SMPL_JOINT_NAMES, SMPL_PARENTS

__all__ = ["SMPL_JOINT_NAMES", "SMPL_PARENTS", "pose_to_world", "smpl_skeleton_fk"]


def pose_to_world(global_orient: np.ndarray, body_pose: np.ndarray) -> np.ndarray:
    """Local rotvecs -> world rotation matrices (..., 24, 3, 3)."""
    lead = global_orient.shape[:-1]
    local = np.concatenate([global_orient[..., None, :], body_pose], axis=-2)
    mats = Rotation.from_rotvec(local.reshape(-1, 3)).as_matrix().reshape(*lead, 24, 3, 3)
    world = np.empty_like(mats)
    for j, p in enumerate(SMPL_PARENTS):
        local_j = mats[..., j, :, :]
        world[..., j, :, :] = local_j if p < 0 else world[..., p, :, :] @ local_j
    return world


def smpl_skeleton_fk(
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    rest_joints: np.ndarray,
    root_position: np.ndarray | None = None,
) -> np.ndarray:
    """Joint positions (..., 24, 3) of the SMPL tree with the given rest joints (24, 3).

    Same kinematics as the body model's joints (rotate each rest bone vector by its parent's
    world rotation), so it can check retargeting without the mesh model. The pelvis is placed at
    `root_position` (defaults to its rest position).
    """
    world = pose_to_world(global_orient, body_pose)
    pos = np.empty((*global_orient.shape[:-1], 24, 3))
    pos[..., 0, :] = rest_joints[0] if root_position is None else root_position
    for j in range(1, 24):
        p = SMPL_PARENTS[j]
        bone = rest_joints[j] - rest_joints[p]
        pos[..., j, :] = pos[..., p, :] + np.einsum("...ij,j->...i", world[..., p, :, :], bone)
    return pos
