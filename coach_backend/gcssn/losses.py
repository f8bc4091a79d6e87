"""GC-SSN losses. The self-supervised ones compare the predicted body with the *input
representation* only (2D keypoints, silhouette) or with the network itself (cycle), plus a
pose prior and a shape regulariser; none of them sees 3D ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from coach_backend.gcssn.network import Prediction
from coach_backend.perception.render import project_to_crop
from coach_backend.perception.types import RepresentationBatch

MIN_LOSS_DEPTH = 0.1  # metres: a body predicted at the lens must not blow up the 2D terms


@dataclass(frozen=True)
class LossWeights:
    keypoints: float = 1.0
    silhouette: float = 0.5
    cycle: float = 0.2
    prior: float = 5e-3
    shape: float = 2e-3
    # supervised baseline only
    rotations: float = 1.0
    joints_3d: float = 5.0
    betas: float = 0.1


def keypoint_reprojection(
    keypoints_3d: torch.Tensor, reps: RepresentationBatch, delta: float = 0.05
) -> torch.Tensor:
    """(B,) confidence-weighted robust distance between projected body keypoints and the input
    keypoints, in crop-normalised units (1 = half the crop)."""
    projected = project_to_crop(keypoints_3d, reps.crop_intrinsics, MIN_LOSS_DEPTH)
    scale = 2.0 / reps.resolution
    error = (projected - reps.keypoints) * scale
    per_point = F.huber_loss(error, torch.zeros_like(error), delta=delta, reduction="none").sum(-1)
    weight = reps.conf
    return (per_point * weight).sum(1) / weight.sum(1).clamp(min=1e-6)


def distance_fields(silhouettes: torch.Tensor) -> torch.Tensor:
    """(B,1,R,R) distance (px) from each pixel to the nearest silhouette pixel; 0 inside."""
    masks = (silhouettes[:, 0].numpy() < 0.5).astype(np.uint8)
    r = masks.shape[-1]
    # An empty silhouette has no pixel to be near: cap at the crop's diagonal, not infinity.
    fields = [np.minimum(cv2.distanceTransform(m, cv2.DIST_L2, 3), 2.0 * r) for m in masks]
    return torch.from_numpy(np.stack(fields)[:, None])


def silhouette_agreement(
    vertices_3d: torch.Tensor,
    reps: RepresentationBatch,
    distance: torch.Tensor | None = None,
    samples: int = 96,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(B,) symmetric silhouette term, zero where no silhouette was given:
    body points outside the silhouette (looked up in its distance field) plus silhouette pixels
    far from every projected body point (a one-sided chamfer), both in crop-normalised units."""
    r = reps.resolution
    points = project_to_crop(vertices_3d, reps.crop_intrinsics, MIN_LOSS_DEPTH)  # (B,N,2) px
    if distance is None:
        distance = distance_fields(reps.silhouette)
    grid = (points + 0.5) * (2.0 / r) - 1.0
    outside = F.grid_sample(
        distance, grid[:, :, None, :], align_corners=False, padding_mode="border"
    )[:, 0, :, 0]
    outside_term = outside.mean(1) * (2.0 / r)

    flat = reps.silhouette.flatten(1) + 1e-6  # avoids an all-zero row in multinomial
    picks = torch.multinomial(flat, samples, replacement=True, generator=generator)
    pixels = torch.stack([picks % r, picks // r], dim=-1).float()
    nearest = torch.cdist(pixels, points).amin(dim=2)  # (B,samples)
    cover_term = F.huber_loss(
        nearest * (2.0 / r), torch.zeros_like(nearest), delta=0.1, reduction="none"
    ).mean(1)
    present = reps.silhouette_present & (reps.silhouette.flatten(1).amax(1) > 0.5)
    return torch.where(present, outside_term + cover_term, torch.zeros_like(outside_term))


def cycle_consistency(first: Prediction, second: Prediction) -> torch.Tensor:
    """(B,) the re-prediction from the rendered representation of the first prediction must
    agree with it: rotations (Frobenius), shape, and camera. The first is the target."""
    rot = ((second.rotmats - first.rotmats.detach()) ** 2).sum((-1, -2)).mean(1)
    betas = ((second.betas - first.betas.detach()) ** 2).mean(1)
    return rot + 0.1 * betas


def shape_regulariser(betas: torch.Tensor) -> torch.Tensor:
    return (betas**2).sum(1)


def rotation_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) squared Frobenius distance averaged over joints (supervised baseline)."""
    return ((predicted - target) ** 2).sum((-1, -2)).mean(1)


def root_relative_joint_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) mean joint distance after aligning pelvises (metres; supervised baseline)."""
    a = predicted - predicted[:, :1]
    b = target - target[:, :1]
    return (a - b).norm(dim=-1).mean(1)
