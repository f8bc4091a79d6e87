"""Per-frame detection quality, for consumers that must not read a detector's landmark table.

The live detector (MediaPipe, `mediapipe_source`) cannot report every surface keypoint (it has
no small toes): those always come with confidence 0 and would drag a plain mean down.
"""

from __future__ import annotations

import numpy as np

from coach_backend.perception.mediapipe_source import MEDIAPIPE_TO_SURFACE
from coach_backend.perception.types import Representation

# (NUM_KEYPOINTS,) bool: the surface keypoints the live detector can report at all.
LIVE_REPORTED_KEYPOINTS: np.ndarray = np.array([src is not None for src in MEDIAPIPE_TO_SURFACE])
LIVE_REPORTED_KEYPOINTS.setflags(write=False)


def person_confidence(rep: Representation, reported: np.ndarray = LIVE_REPORTED_KEYPOINTS) -> float:
    """Mean keypoint confidence over the keypoints the detector can report; 0 with no person."""
    return float(rep.confidences[reported].mean()) if rep.has_person else 0.0
