"""Pose prior over SMPL body-joint rotations, learned from the CMU training split.

from coach_backend.prior import load_pose_prior
prior = load_pose_prior()            # the shipped coach_backend/models/pose_prior.npz
loss = prior.nll(body_pose).mean()   # body_pose (B,23,3) axis-angle, differentiable
"""

from coach_backend.prior.gmm import GaussianMixture, fit_gmm
from coach_backend.prior.model import POSE_PRIOR_PATH, PosePrior, load_pose_prior
from coach_backend.prior.poses import UNNATURAL_FAMILIES, mirror_body_pose, unnatural_poses

__all__ = [
    "POSE_PRIOR_PATH",
    "UNNATURAL_FAMILIES",
    "GaussianMixture",
    "PosePrior",
    "fit_gmm",
    "load_pose_prior",
    "mirror_body_pose",
    "unnatural_poses",
]
