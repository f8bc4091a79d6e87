"""GC-SSN: geometric representation -> SMPL parameters and camera.

A small CNN reads the image-like channels (silhouette + one Gaussian heatmap per keypoint,
weighted by confidence); an MLP reads the CNN features with the keypoint coordinates and
confidences, and refines the parameters from a mean pose in a few feedback steps (HMR-style).
Rotations are regressed in the continuous 6D representation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from coach_backend.body.skeleton import NUM_BETAS, NUM_JOINTS, NUM_KEYPOINTS
from coach_backend.gcssn.rotations import rotmat_to_rotvec, six_d_to_rotmat
from coach_backend.perception.types import RepresentationBatch


@dataclass(frozen=True)
class NetworkConfig:
    resolution: int = 64
    heatmap_sigma_px: float = 1.5
    channels: tuple[int, ...] = (32, 64, 96, 128)
    # Stages from this index on get a second 3x3 conv; the early, high-resolution stages
    # don't, which keeps one frame under ~2 ms of CNN time on one core.
    double_conv_from: int = 2
    hidden: int = 512
    feedback_steps: int = 3


@dataclass
class Prediction:
    """Network output for a batch. Rotations are in the camera frame (OpenCV axes)."""

    rotmats: torch.Tensor  # (B,24,3,3): global orientation then 23 body joints
    betas: torch.Tensor  # (B,10)
    camera: torch.Tensor  # (B,3): scale (crop-normalised size of 1 m at the pelvis), x, y

    def rotvecs(self) -> torch.Tensor:
        return rotmat_to_rotvec(self.rotmats)


NUM_OUTPUTS = NUM_JOINTS * 6 + NUM_BETAS + 3


def _mean_parameters() -> torch.Tensor:
    """Start of the feedback loop: zero body pose, upright body facing the camera (a 180 deg
    rotation about x turns SMPL's y-up into the camera's y-down), mean shape, the body filling
    the crop at its centre."""
    rot = torch.eye(3).repeat(NUM_JOINTS, 1, 1)
    rot[0] = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
    six_d = rot[:, :, :2].transpose(1, 2).reshape(-1)  # two columns, as special_gramschmidt reads
    return torch.cat([six_d, torch.zeros(NUM_BETAS), torch.tensor([0.9, 0.0, 0.0])])


def keypoint_heatmaps(batch: RepresentationBatch, sigma: float) -> torch.Tensor:
    """(B,K,R,R) Gaussian blobs at the keypoints, scaled by confidence (0 for missing)."""
    r = batch.resolution
    grid = torch.arange(r, dtype=torch.float32)
    dx = grid[None, None, None, :] - batch.keypoints[..., 0, None, None]
    dy = grid[None, None, :, None] - batch.keypoints[..., 1, None, None]
    return torch.exp(-(dx**2 + dy**2) / (2 * sigma**2)) * batch.conf[..., None, None]


class GCSSN(nn.Module):
    def __init__(self, config: NetworkConfig | None = None) -> None:
        super().__init__()
        self.config = config or NetworkConfig()
        c = self.config
        layers: list[nn.Module] = []
        width = 1 + NUM_KEYPOINTS
        for stage, out in enumerate(c.channels):
            layers += [
                nn.Conv2d(width, out, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
            ]
            if stage >= c.double_conv_from:
                layers += [
                    nn.Conv2d(out, out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(out),
                    nn.ReLU(inplace=True),
                ]
            width = out
        self.cnn = nn.Sequential(*layers)
        side = c.resolution // 2 ** len(c.channels)
        self.image_features = nn.Linear(width * side * side, 256)
        vector = NUM_KEYPOINTS * 3 + 1  # x, y, confidence per keypoint; silhouette present
        self.mlp = nn.Sequential(
            nn.Linear(256 + vector + NUM_OUTPUTS, c.hidden),
            nn.ReLU(inplace=True),
            nn.Linear(c.hidden, c.hidden),
            nn.ReLU(inplace=True),
        )
        self.delta = nn.Linear(c.hidden, NUM_OUTPUTS)
        nn.init.zeros_(self.delta.weight)
        nn.init.zeros_(self.delta.bias)
        self.register_buffer("mean_parameters", _mean_parameters())

    def encode(self, batch: RepresentationBatch) -> torch.Tensor:
        """The network's input planes: (B, 1+K, R, R)."""
        heatmaps = keypoint_heatmaps(batch, self.config.heatmap_sigma_px)
        return torch.cat([batch.silhouette, heatmaps], dim=1)

    def forward(self, batch: RepresentationBatch) -> Prediction:
        if batch.resolution != self.config.resolution:
            raise ValueError(
                f"GC-SSN expects {self.config.resolution}px representations, "
                f"got {batch.resolution}px"
            )
        planes = self.encode(batch)
        features = F.relu(self.image_features(self.cnn(planes).flatten(1)))
        vector = torch.cat(
            [
                batch.normalized_keypoints().flatten(1) * (batch.conf > 0).repeat_interleave(2, 1),
                batch.conf,
                batch.silhouette_present.float()[:, None],
            ],
            dim=1,
        )
        params = self.mean_parameters.expand(len(batch), -1)
        for _ in range(self.config.feedback_steps):
            hidden = self.mlp(torch.cat([features, vector, params], dim=1))
            params = params + self.delta(hidden)
        six_d = params[:, : NUM_JOINTS * 6].reshape(-1, NUM_JOINTS, 2, 3).transpose(2, 3)
        rotmats = six_d_to_rotmat(six_d)
        betas = params[:, NUM_JOINTS * 6 : NUM_JOINTS * 6 + NUM_BETAS]
        cam = params[:, -3:]
        # Keep the scale positive and smooth near its start value.
        scale = F.softplus(cam[:, :1] * 4.0) / 4.0 + 1e-3
        return Prediction(rotmats, betas, torch.cat([scale, cam[:, 1:]], dim=1))


def parameter_count(model: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in model.parameters())
