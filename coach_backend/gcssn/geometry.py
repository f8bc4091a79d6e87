"""From a prediction in crop terms to a body in the camera frame, and back to crop pixels.

The crop is a virtual camera (`RepresentationBatch.crop_intrinsics`): projecting a camera-frame
point with it gives the same pixel as projecting with the full-frame camera and then cropping,
so 3D predictions are in the real camera's frame and metres.
"""

from __future__ import annotations

import torch

from coach_backend.body import BodyModel, BodyOutput, BodyParams
from coach_backend.gcssn.network import Prediction


def pelvis_position(camera: torch.Tensor, crop_intrinsics: torch.Tensor, resolution: int):
    """(B,3) pelvis in the camera frame from (scale, x, y): scale is the crop-normalised length
    of 1 m at the pelvis' depth, (x, y) its crop-normalised image position."""
    fx, fy, cx, cy = crop_intrinsics.unbind(-1)
    scale, x, y = camera.unbind(-1)
    depth = 2.0 * fx / (resolution * scale)
    u = (x + 1.0) * resolution / 2.0 - 0.5
    v = (y + 1.0) * resolution / 2.0 - 0.5
    return torch.stack([(u - cx) * depth / fx, (v - cy) * depth / fy, depth], dim=-1)


def camera_from_pelvis(pelvis: torch.Tensor, crop_intrinsics: torch.Tensor, resolution: int):
    """Inverse of `pelvis_position`: (B,3) camera-frame pelvis -> (B,3) (scale, x, y)."""
    fx, fy, cx, cy = crop_intrinsics.unbind(-1)
    depth = pelvis[:, 2]
    u = fx * pelvis[:, 0] / depth + cx
    v = fy * pelvis[:, 1] / depth + cy
    return torch.stack(
        [
            2.0 * fx / (resolution * depth),
            (u + 0.5) * 2 / resolution - 1,
            (v + 0.5) * 2 / resolution - 1,
        ],
        dim=-1,
    )


def rest_pelvis(body: BodyModel, betas: torch.Tensor) -> torch.Tensor:
    """(B,3) the pelvis joint of the shaped body in its zero pose (what transl is added to)."""
    return body.rest_joints(betas)[:, 0]


def prediction_to_params(
    prediction: Prediction, body: BodyModel, crop_intrinsics: torch.Tensor, resolution: int
) -> BodyParams:
    """Camera-frame SMPL parameters: root rotation about the pelvis, transl placing it."""
    rotvecs = prediction.rotvecs()
    pelvis = pelvis_position(prediction.camera, crop_intrinsics, resolution)
    return BodyParams(
        global_orient=rotvecs[:, 0],
        body_pose=rotvecs[:, 1:],
        betas=prediction.betas,
        transl=pelvis - rest_pelvis(body, prediction.betas),
    )


def posed_body(
    prediction: Prediction,
    body: BodyModel,
    crop_intrinsics: torch.Tensor,
    resolution: int,
    vertex_ids: torch.Tensor | None = None,
) -> tuple[BodyParams, BodyOutput]:
    params = prediction_to_params(prediction, body, crop_intrinsics, resolution)
    return params, body.from_rotmats(prediction.rotmats, params.betas, params.transl, vertex_ids)
