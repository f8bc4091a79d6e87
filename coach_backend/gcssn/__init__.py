"""GC-SSN: geometric representation -> SMPL parameters, trained self-supervised.

- `GCSSN` (network): CNN over silhouette + keypoint heatmaps, MLP with iterative feedback.
- `Reconstructor` / `reconstruct_from_keypoints` (api): inference, optional refinement.
- `python -m coach_backend.gcssn.train`: self-supervised training or the supervised GC-N.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
    from coach_backend.gcssn.api import Reconstruction as Reconstruction
    from coach_backend.gcssn.api import Reconstructor as Reconstructor
    from coach_backend.gcssn.api import load_gcssn as load_gcssn
    from coach_backend.gcssn.api import reconstruct_from_keypoints as reconstruct_from_keypoints
    from coach_backend.gcssn.api import (
        representation_from_keypoints as representation_from_keypoints,
    )
    from coach_backend.gcssn.network import GCSSN as GCSSN
    from coach_backend.gcssn.network import NetworkConfig as NetworkConfig
    from coach_backend.gcssn.network import Prediction as Prediction

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "api": (
            "DEFAULT_WEIGHTS",
            "Reconstruction",
            "Reconstructor",
            "load_gcssn",
            "reconstruct_from_keypoints",
            "representation_from_keypoints",
        ),
        "network": ("GCSSN", "NetworkConfig", "Prediction"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
