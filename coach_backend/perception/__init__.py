"""Perception: video frame or body parameters -> the person's geometric representation.

Sources (same output type, same camera + crop convention):
- `MediaPipeDetector` (mediapipe_source): a BGR frame -> `Representation`.
- `BodyRenderer` (render): body parameters -> `RepresentationBatch` (training data, fast, CPU).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.perception.types import DEFAULT_HFOV_DEG as DEFAULT_HFOV_DEG
    from coach_backend.perception.types import NUM_KEYPOINTS as NUM_KEYPOINTS
    from coach_backend.perception.types import SURFACE_KEYPOINT_NAMES as SURFACE_KEYPOINT_NAMES
    from coach_backend.perception.types import Camera as Camera
    from coach_backend.perception.types import CropBox as CropBox
    from coach_backend.perception.types import PerceptionConfig as PerceptionConfig
    from coach_backend.perception.types import Representation as Representation
    from coach_backend.perception.types import RepresentationBatch as RepresentationBatch
    from coach_backend.perception.types import square_box as square_box
    from coach_backend.perception.types import stack as stack

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "types": (
            "DEFAULT_HFOV_DEG",
            "NUM_KEYPOINTS",
            "SURFACE_KEYPOINT_NAMES",
            "Camera",
            "CropBox",
            "PerceptionConfig",
            "Representation",
            "RepresentationBatch",
            "square_box",
            "stack",
        ),
    },
)

__all__ = _LAZY  # every public name is a lazy one
