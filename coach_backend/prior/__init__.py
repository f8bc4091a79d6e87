"""Pose prior over SMPL body-joint rotations, learned from the CMU training split.

from coach_backend.prior import load_pose_prior
prior = load_pose_prior()            # the shipped coach_backend/models/pose_prior.npz
loss = prior.nll(body_pose).mean()   # body_pose (B,23,3) axis-angle, differentiable
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.prior.gmm import GaussianMixture as GaussianMixture
    from coach_backend.prior.gmm import fit_gmm as fit_gmm
    from coach_backend.prior.model import POSE_PRIOR_PATH as POSE_PRIOR_PATH
    from coach_backend.prior.model import PosePrior as PosePrior
    from coach_backend.prior.model import load_pose_prior as load_pose_prior
    from coach_backend.prior.poses import UNNATURAL_FAMILIES as UNNATURAL_FAMILIES
    from coach_backend.prior.poses import mirror_body_pose as mirror_body_pose
    from coach_backend.prior.poses import unnatural_poses as unnatural_poses

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "gmm": ("GaussianMixture", "fit_gmm"),
        "model": ("POSE_PRIOR_PATH", "PosePrior", "load_pose_prior"),
        "poses": ("UNNATURAL_FAMILIES", "mirror_body_pose", "unnatural_poses"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
