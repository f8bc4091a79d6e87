"""Test-time fitting with the self-supervised losses (SPIN/SMPLify style).

`fit_to_representation` optimises body parameters against one batch of representations with
2D reprojection, silhouette agreement, the pose prior and a shape term. Initialised from the
network it is GC-SSN's optional refinement; initialised from a mean pose it is the
SMPLify-style optimisation baseline of the accuracy benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from coach_backend.body import NUM_BETAS, NUM_JOINTS, BodyModel
from coach_backend.gcssn.geometry import pelvis_position, rest_pelvis
from coach_backend.gcssn.losses import (
    LossWeights,
    distance_fields,
    keypoint_reprojection,
    shape_regulariser,
    silhouette_agreement,
)
from coach_backend.gcssn.network import Prediction
from coach_backend.gcssn.rotations import nearest_rotation, rotmat_to_rotvec, rotvec_to_rotmat
from coach_backend.optim import Adam
from coach_backend.perception.types import RepresentationBatch
from coach_backend.prior.model import PosePrior


@dataclass(frozen=True)
class FitConfig:
    steps: int = 30
    lr: float = 0.03
    weights: LossWeights = LossWeights()


@dataclass
class FitResult:
    rotmats: torch.Tensor  # (B,24,3,3) camera frame
    betas: torch.Tensor  # (B,10)
    pelvis: torch.Tensor  # (B,3) camera frame, metres


def mean_initialisation(reps: RepresentationBatch) -> Prediction:
    """A standing body facing the camera at the crop centre, sized to fill it."""
    from coach_backend.gcssn.network import _mean_parameters

    b = len(reps)
    rot = torch.eye(3).repeat(b, NUM_JOINTS, 1, 1)
    rot[:, 0] = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
    camera = _mean_parameters()[-3:].expand(b, 3).clone()
    return Prediction(rot, torch.zeros(b, NUM_BETAS), camera)


def fit_to_representation(
    reps: RepresentationBatch,
    init: Prediction,
    body: BodyModel,
    prior: PosePrior,
    vertex_ids: torch.Tensor,
    config: FitConfig | None = None,
) -> FitResult:
    config = config or FitConfig()
    w = config.weights
    r = reps.resolution
    pelvis0 = pelvis_position(init.camera.detach(), reps.crop_intrinsics, r)
    # Parameters: a rotation update per joint (axis-angle, starting at zero, so no
    # singularity), betas, and the pelvis in log-depth / image-plane form.
    delta = torch.zeros(len(reps), 24, 3, requires_grad=True)
    betas = init.betas.detach().clone().requires_grad_(True)
    pelvis = pelvis0.clone().requires_grad_(True)
    base = init.rotmats.detach()
    optimizer = torch.optim.Adam([delta, betas, pelvis], lr=config.lr)
    distance = distance_fields(reps.silhouette)
    for _ in range(config.steps):
        rotmats = rotvec_to_rotmat(delta) @ base
        transl = pelvis - rest_pelvis(body, betas)
        out = body.from_rotmats(rotmats, betas, transl, vertex_ids)
        body_pose = rotmat_to_rotvec(rotmats[:, 1:])
        loss = (
            w.keypoints * keypoint_reprojection(out.keypoints, reps)
            + w.silhouette * silhouette_agreement(out.vertices, reps, distance)
            + w.prior * prior.nll(body_pose)
            + w.shape * shape_regulariser(betas)
        ).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        rotmats = rotvec_to_rotmat(delta) @ base
    return FitResult(rotmats, betas.detach(), pelvis.detach())


def similarity_aligned(
    points: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """(B,K,3) points moved by the weighted similarity transform (rotation, scale,
    translation; Umeyama) that best fits them onto (B,K,3) target; rows with fewer than three
    weighted points are returned as the target (no pull)."""
    w = weights / weights.sum(1, keepdim=True).clamp_min(1e-9)
    mu_p = (w[..., None] * points).sum(1, keepdim=True)
    mu_t = (w[..., None] * target).sum(1, keepdim=True)
    p, t = points - mu_p, target - mu_t
    cov = torch.einsum("bk,bki,bkj->bij", w, t, p)
    rot = nearest_rotation(cov)
    spread = (w * (p**2).sum(-1)).sum(1).clamp_min(1e-9)
    scale = (rot * cov).sum((-1, -2)) / spread  # trace(R^T cov): the sign-fixed singular values
    aligned = scale[:, None, None] * torch.einsum("bij,bkj->bki", rot, p) + mu_t
    enough = ((weights > 0).sum(1) >= 3)[:, None, None]
    return torch.where(enough, aligned, target)


def fit_lifted_to_keypoints(
    body: BodyModel,
    rotmats: torch.Tensor,
    betas: torch.Tensor,
    rays: torch.Tensor,
    weights: torch.Tensor,
    steps: int,
    lr: float = 0.02,
    stay_close: float = 0.02,
    detector_3d: torch.Tensor | None = None,
    detector_3d_weights: torch.Tensor | None = None,
    detector_3d_pull: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The lifter's short 2D fit: small rotation corrections (per joint, camera frame for the
    root) that lay the body's keypoints onto the detected rays, kept close to the network's
    answer (2D alone cannot tell depth; the network can). The translation is re-solved in
    closed form at every step. Returns (rotmats, transl).

    detector_3d: (B,K,3) the detector's own 3D keypoints (MediaPipe's world landmarks), with
    (B,K) weights: once aligned (similarity) to the network's answer they pull each keypoint
    with `detector_3d_pull`; their errors are not the network's, so the pair beats either."""
    from coach_backend.gcssn.lifter import place_body, reprojection_error

    zero = torch.zeros(len(rotmats), 3)
    correction = torch.zeros(rotmats.shape[:2] + (3,), requires_grad=True)
    optimizer = Adam([correction], lr=lr)  # (torch.optim's imports torch._dynamo: 1.5 s)
    ids = torch.zeros(0, dtype=torch.long)
    anchor = None
    if detector_3d is not None and detector_3d_weights is not None and detector_3d_pull > 0:
        with torch.no_grad():
            start = body.from_rotmats(rotmats, betas, zero, ids).keypoints
            anchor = similarity_aligned(detector_3d, start, detector_3d_weights)
    for _ in range(steps):
        fitted = rotmats @ rotvec_to_rotmat(correction)
        rooted = body.from_rotmats(fitted, betas, zero, ids).keypoints
        points = rooted + place_body(rooted, rays, weights)[:, None]
        loss = (
            reprojection_error(points, rays, weights).sum()
            + stay_close * (correction**2).sum((-1, -2)).sum()
        )
        if anchor is not None:
            gap = ((rooted - anchor) ** 2).sum(-1) * detector_3d_weights
            loss = (
                loss
                + detector_3d_pull * (gap.sum(1) / detector_3d_weights.sum(1).clamp_min(1e-6)).sum()
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        fitted = rotmats @ rotvec_to_rotmat(correction)
        rooted = body.from_rotmats(fitted, betas, zero, ids).keypoints
        return fitted, place_body(rooted, rays, weights)
