"""GC-SSN: geometric representation -> SMPL parameters, trained self-supervised.

- `GCSSN` (network): CNN over silhouette + keypoint heatmaps, MLP with iterative feedback.
- `Reconstructor` / `reconstruct_from_keypoints` (api): inference, optional refinement.
- `python -m coach_backend.gcssn.train`: self-supervised training or the supervised GC-N.
"""

from coach_backend.gcssn.api import (
    DEFAULT_WEIGHTS,
    Reconstruction,
    Reconstructor,
    load_gcssn,
    reconstruct_from_keypoints,
    representation_from_keypoints,
)
from coach_backend.gcssn.network import GCSSN, NetworkConfig, Prediction

__all__ = [
    "DEFAULT_WEIGHTS",
    "GCSSN",
    "NetworkConfig",
    "Prediction",
    "Reconstruction",
    "Reconstructor",
    "load_gcssn",
    "reconstruct_from_keypoints",
    "representation_from_keypoints",
]
