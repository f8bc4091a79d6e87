"""Temporal smoothing of per-frame SMPL parameters.

Live:     CausalSmoother(SmoothingConfig()).update(frame) -> frame   (One-Euro on quaternions)
Recorded: smooth_sequence(frames_or_sequence, mode="zero_phase")     (forward-backward)
"""

from .causal import CausalSmoother, RobustBetasMean, RotationOneEuro, VectorOneEuro
from .config import SmoothingConfig
from .offline import SmoothingMode, sign_continuous, smooth_sequence, valid_segments
from .types import NUM_BETAS, NUM_BODY_JOINTS, NUM_JOINTS, SmplFrame, SmplSequence

__all__ = [
    "NUM_BETAS",
    "NUM_BODY_JOINTS",
    "NUM_JOINTS",
    "CausalSmoother",
    "RobustBetasMean",
    "RotationOneEuro",
    "SmoothingConfig",
    "SmoothingMode",
    "SmplFrame",
    "SmplSequence",
    "VectorOneEuro",
    "sign_continuous",
    "smooth_sequence",
    "valid_segments",
]
