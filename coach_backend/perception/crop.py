"""The crop rule every perception source shares: a square box around the person's 2D points.

Its own module so that consumers of 2D keypoints (GC-SSN's `reconstruct_from_keypoints`, the
renderer, MediaPipe) crop alike without importing one particular detector.
"""

from __future__ import annotations

import numpy as np

from coach_backend.perception.types import CropBox, PerceptionConfig, resize_map, square_box


def box_around(
    points: np.ndarray,
    mask: np.ndarray | None,
    config: PerceptionConfig,
    frame_size: tuple[int, int] | None = None,
) -> CropBox:
    """The crop box around (N,2) frame points united with a mask > 0.5, by the shared margin
    rule. Used by every source that starts from 2D points. The mask is full-frame, or a resized
    copy of a `frame_size` (width, height) frame (its extent is then mapped back to frame
    pixels: within half a mask pixel of what a full-size mask would give)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    if mask is not None:
        ys, xs = np.nonzero(mask > 0.5)
        if len(xs):
            corners = np.array([[xs.min(), ys.min(), 1.0], [xs.max(), ys.max(), 1.0]])
            mask_size = (mask.shape[1], mask.shape[0])
            if frame_size is not None and tuple(frame_size) != mask_size:
                corners = corners @ resize_map(mask_size, frame_size).T
            lo = np.minimum(lo, corners[0, :2])
            hi = np.maximum(hi, corners[1, :2])
    cx, cy, side = square_box(lo, hi, config.margin, config.min_box_side)
    return CropBox(float(cx), float(cy), float(side), config.resolution)
