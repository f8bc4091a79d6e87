"""Perception: video frame or body parameters -> the person's geometric representation.

Sources (same output type, same camera + crop convention):
- `MediaPipeDetector` (mediapipe_source): a BGR frame -> `Representation`.
- `BodyRenderer` (render): body parameters -> `RepresentationBatch` (training data, fast, CPU).
"""

from coach_backend.perception.types import (
    DEFAULT_HFOV_DEG,
    NUM_KEYPOINTS,
    SURFACE_KEYPOINT_NAMES,
    Camera,
    CropBox,
    PerceptionConfig,
    Representation,
    RepresentationBatch,
    square_box,
    stack,
)

__all__ = [
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
]
