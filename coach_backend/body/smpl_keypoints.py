"""Surface keypoints for a real SMPL file, which has no keypoint regressor of its own.

Face and foot keypoints are single SMPL vertices (the indices widely published for SMPL's
6890-vertex topology); limb keypoints reuse the SMPL joint regressor rows, which is how
detectors' shoulder/elbow/wrist/hip/knee/ankle points are usually matched to SMPL.
"""

from __future__ import annotations

import numpy as np

from coach_backend.body.skeleton import KEYPOINT_NAMES, SMPL_JOINT_NAMES

SMPL_NUM_VERTICES = 6890

SMPL_SURFACE_VERTEX: dict[str, int] = {
    "nose": 332,
    "left_eye": 2800,
    "right_eye": 6260,
    "left_ear": 583,
    "right_ear": 4071,
    "left_big_toe": 3216,
    "left_small_toe": 3226,
    "left_heel": 3387,
    "right_big_toe": 6617,
    "right_small_toe": 6624,
    "right_heel": 6787,
}


def smpl_keypoint_regressor(j_regressor: np.ndarray, num_vertices: int) -> np.ndarray:
    """(23,V) keypoint regressor for SMPL's topology, built from its joint regressor."""
    if num_vertices != SMPL_NUM_VERTICES:
        raise ValueError(
            f"a body file without 'keypoint_regressor' must have SMPL's {SMPL_NUM_VERTICES}-vertex "
            f"topology, got {num_vertices} vertices"
        )
    joints = np.asarray(j_regressor.todense() if hasattr(j_regressor, "todense") else j_regressor)
    regressor = np.zeros((len(KEYPOINT_NAMES), num_vertices), dtype=np.float32)
    for k, name in enumerate(KEYPOINT_NAMES):
        if name in SMPL_SURFACE_VERTEX:
            regressor[k, SMPL_SURFACE_VERTEX[name]] = 1.0
        else:
            regressor[k] = joints[SMPL_JOINT_NAMES.index(name)]
    return regressor
