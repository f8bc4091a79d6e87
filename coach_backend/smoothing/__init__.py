"""Temporal smoothing of per-frame SMPL parameters.

Live:     CausalSmoother(SmoothingConfig()).update(frame) -> frame   (One-Euro on quaternions)
Recorded: smooth_sequence(frames_or_sequence, mode="zero_phase")     (forward-backward)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.smoothing.causal import CausalSmoother as CausalSmoother
    from coach_backend.smoothing.causal import RobustBetasMean as RobustBetasMean
    from coach_backend.smoothing.causal import RotationOneEuro as RotationOneEuro
    from coach_backend.smoothing.causal import VectorOneEuro as VectorOneEuro
    from coach_backend.smoothing.config import SmoothingConfig as SmoothingConfig
    from coach_backend.smoothing.offline import SmoothingMode as SmoothingMode
    from coach_backend.smoothing.offline import sign_continuous as sign_continuous
    from coach_backend.smoothing.offline import smooth_sequence as smooth_sequence
    from coach_backend.smoothing.offline import valid_segments as valid_segments
    from coach_backend.smoothing.types import NUM_BETAS as NUM_BETAS
    from coach_backend.smoothing.types import NUM_BODY_JOINTS as NUM_BODY_JOINTS
    from coach_backend.smoothing.types import NUM_JOINTS as NUM_JOINTS
    from coach_backend.smoothing.types import SmplFrame as SmplFrame
    from coach_backend.smoothing.types import SmplSequence as SmplSequence

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "causal": ("CausalSmoother", "RobustBetasMean", "RotationOneEuro", "VectorOneEuro"),
        "config": ("SmoothingConfig",),
        "offline": ("SmoothingMode", "sign_continuous", "smooth_sequence", "valid_segments"),
        "types": ("NUM_BETAS", "NUM_BODY_JOINTS", "NUM_JOINTS", "SmplFrame", "SmplSequence"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
