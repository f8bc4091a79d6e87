"""GC-SSN lifter: the keypoint half of the geometric representation -> SMPL pose and shape.

The keypoints are turned into camera rays (pixel -> (u - cx) / fx), centred on their bounding
box and divided by its size, so the input no longer depends on the image size, the crop rule or
the detector's box; the box centre and size are kept as two extra inputs because they carry the
perspective (a body off the optical axis is seen from the side; a large box means close).
A residual MLP regresses every SMPL rotation (6D, camera frame) and the shape. The translation
is not regressed: `place_body` solves it in closed form so the body's keypoints project onto the
detected ones, which is what keeps an overlay on the athlete.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from coach_backend.body.skeleton import (
    KEYPOINT_NAMES,
    MIRRORED_JOINTS,
    MIRRORED_KEYPOINTS,
    NUM_BETAS,
    NUM_JOINTS,
    NUM_KEYPOINTS,
)
from coach_backend.gcssn.rotations import nearest_rotation, six_d_to_rotmat
from coach_backend.perception.types import RepresentationBatch

NETWORK_TYPE = "lifter"
NUM_FEATURES = NUM_KEYPOINTS * 3 + 3  # centred ray (2) + confidence per keypoint; box centre, size
NUM_WORLD_FEATURES = NUM_KEYPOINTS * 3 + 1  # the detector's 3D keypoints, and whether it gave any
HIPS = (KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip"))


@dataclass(frozen=True)
class LifterConfig:
    hidden: int = 1024
    blocks: int = 3
    dropout: float = 0.0
    # Also read the detector's own 3D keypoints (MediaPipe's world landmarks) when present.
    world_input: bool = False
    # Temporal lifter: also read `window_radius` frames either side of the one it lifts, taken
    # 1 / `window_fps` s apart (0 = one frame, the live network).
    window_radius: int = 0
    window_fps: float = 30.0

    @property
    def window(self) -> int:
        return 2 * self.window_radius + 1


@dataclass
class LiftedPose:
    rotmats: torch.Tensor  # (B,24,3,3) camera frame: global orientation then 23 body joints
    betas: torch.Tensor  # (B,10)


def keypoint_rays(batch: RepresentationBatch) -> torch.Tensor:
    """(B,K,2) camera rays (x/z, y/z) of the crop keypoints, the same for every crop rule."""
    fx, fy, cx, cy = batch.crop_intrinsics.unbind(-1)
    x = (batch.keypoints[..., 0] - cx[:, None]) / fx[:, None]
    y = (batch.keypoints[..., 1] - cy[:, None]) / fy[:, None]
    return torch.stack([x, y], dim=-1)


def ray_features(rays: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
    """(B,K,2) rays + (B,K) confidences (0 = missing) -> (B, NUM_FEATURES) network input."""
    seen = conf > 0
    big = torch.finfo(rays.dtype).max
    lo = torch.where(seen[..., None], rays, big).amin(1)
    hi = torch.where(seen[..., None], rays, -big).amax(1)
    any_seen = seen.any(1, keepdim=True)
    centre = torch.where(any_seen, (lo + hi) / 2, 0.0)
    size = torch.where(any_seen, (hi - lo).amax(1, keepdim=True), 1.0).clamp_min(1e-4)
    centred = (rays - centre[:, None]) / size[:, None] * seen[..., None]
    return torch.cat([centred.flatten(1), conf, centre, torch.log(size)], dim=1)


def world_features(world: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """(B,K,3) detector 3D keypoints + (B,) presence -> (B, NUM_WORLD_FEATURES): re-centred
    between the hips (metres, camera axes), zeros when absent."""
    centred = world - world[:, list(HIPS)].mean(1, keepdim=True)
    keep = present.float()
    return torch.cat([centred.flatten(1) * keep[:, None], keep[:, None]], dim=1)


class ResidualBlock(nn.Module):
    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(width, width),
            nn.LayerNorm(width),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(width, width),
            nn.LayerNorm(width),
            nn.GELU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


def _rest_six_d() -> torch.Tensor:
    """6D of the start pose: zero body pose, upright and facing the camera (a 180 deg turn
    about x maps SMPL's y-up onto the camera's y-down)."""
    rot = torch.eye(3).repeat(NUM_JOINTS, 1, 1)
    rot[0] = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
    return rot[:, :, :2].transpose(1, 2).reshape(-1)


class KeypointLifter(nn.Module):
    """`input_features` -> SMPL rotations (camera frame) and shape."""

    network_type = NETWORK_TYPE

    def __init__(self, config: LifterConfig | None = None) -> None:
        super().__init__()
        self.config = config or LifterConfig()
        c = self.config
        inputs = NUM_FEATURES * c.window + (NUM_WORLD_FEATURES if c.world_input else 0)
        self.stem = nn.Sequential(nn.Linear(inputs, c.hidden), nn.GELU())
        self.blocks = nn.Sequential(*[ResidualBlock(c.hidden, c.dropout) for _ in range(c.blocks)])
        self.head = nn.Linear(c.hidden, NUM_JOINTS * 6 + NUM_BETAS)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("rest_six_d", _rest_six_d())

    def forward(self, features: torch.Tensor) -> LiftedPose:
        out = self.head(self.blocks(self.stem(features)))
        six_d = out[:, : NUM_JOINTS * 6] + self.rest_six_d
        rotmats = six_d_to_rotmat(six_d.reshape(-1, NUM_JOINTS, 2, 3).transpose(2, 3))
        return LiftedPose(rotmats, out[:, NUM_JOINTS * 6 :])

    def input_features(
        self,
        rays: torch.Tensor,
        conf: torch.Tensor,
        world: torch.Tensor | None = None,
        world_present: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The network input for rays + confidences (+ the detector's 3D, if this network
        reads it; absent when None). A temporal lifter takes (B,W,K,2) rays and (B,W,K)
        confidences, W = its window (see `window_indices`), and the centre frame's 3D."""
        if rays.ndim == 4:
            b, w = rays.shape[:2]
            features = ray_features(rays.flatten(0, 1), conf.flatten(0, 1)).reshape(b, -1)
        else:
            features = ray_features(rays, conf)
        if not self.config.world_input:
            return features
        if world is None or world_present is None:
            world = torch.zeros(rays.shape[0], NUM_KEYPOINTS, 3)
            world_present = torch.zeros(rays.shape[0], dtype=torch.bool)
        return torch.cat([features, world_features(world, world_present)], dim=1)

    def lift(self, batch: RepresentationBatch) -> LiftedPose:
        rays = keypoint_rays(batch)
        return self(self.input_features(rays, batch.conf, batch.world, batch.world_present))


def mirror_inputs(
    rays: torch.Tensor, conf: torch.Tensor, world: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The left/right mirror image of a lifter's input: x -> -x in the camera (rays (...,K,2),
    the detector's 3D (B,K,3)), left and right keypoints swapped."""
    flip_rays = rays[..., MIRRORED_KEYPOINTS, :] * rays.new_tensor([-1.0, 1.0])
    flip_world = None
    if world is not None:
        flip_world = world[..., MIRRORED_KEYPOINTS, :] * world.new_tensor([-1.0, 1.0, 1.0])
    return flip_rays, conf[..., MIRRORED_KEYPOINTS], flip_world


def mirror_pose(pose: LiftedPose) -> LiftedPose:
    """The mirror image (x -> -x, camera frame) of a pose: M R M for every joint with
    M = diag(-1, 1, 1), left and right joints swapped; the shape is kept."""
    m = torch.diag(pose.rotmats.new_tensor([-1.0, 1.0, 1.0]))
    return LiftedPose((m @ pose.rotmats @ m)[:, MIRRORED_JOINTS], pose.betas)


def mirror_averaged(
    net: KeypointLifter,
    rays: torch.Tensor,
    conf: torch.Tensor,
    world: torch.Tensor | None = None,
    world_present: torch.Tensor | None = None,
) -> LiftedPose:
    """The network's pose averaged with the mirror image of its pose for the mirrored input
    (test-time flip augmentation, one batch of twice the size; chordal mean of each rotation,
    mean shape). A trained network is only nearly left/right symmetric, so the two answers
    differ; whether their mean is closer depends on the weights
    (`coach_backend.config.OFFLINE_MIRROR_AVERAGE`). Mirroring an input mirrors the result
    exactly."""
    flip_rays, flip_conf, flip_world = mirror_inputs(rays, conf, world)
    both = torch.cat(
        [
            net.input_features(rays, conf, world, world_present),
            net.input_features(flip_rays, flip_conf, flip_world, world_present),
        ]
    )
    out = net(both)
    n = len(rays)
    direct = LiftedPose(out.rotmats[:n], out.betas[:n])
    mirrored = mirror_pose(LiftedPose(out.rotmats[n:], out.betas[n:]))
    return LiftedPose(
        nearest_rotation(direct.rotmats + mirrored.rotmats), (direct.betas + mirrored.betas) / 2
    )


def window_indices(length: int, radius: int, stride: int) -> torch.Tensor:
    """(length, 2 radius + 1) frame indices of each frame's window, `stride` frames apart,
    clamped at the clip's ends (the first frame repeats before it, the last after it)."""
    offsets = torch.arange(-radius, radius + 1) * stride
    return (torch.arange(length)[:, None] + offsets).clamp(0, max(length - 1, 0))


def window_stride(fps: float, window_fps: float) -> int:
    """Frames between window entries for a clip at `fps` (at least 1)."""
    return max(1, round(fps / window_fps))


def widen_to_window(per_frame: dict[str, torch.Tensor], config: LifterConfig) -> dict:
    """A one-frame lifter's weights as the start of a temporal lifter with `config`'s window:
    the centre frame reads exactly what the one-frame network read, the other frames start at
    zero weight, so training begins from the one-frame network's answers."""
    state = dict(per_frame)
    stem = state["stem.0.weight"]
    wide = torch.zeros(stem.shape[0], NUM_FEATURES * config.window + stem.shape[1] - NUM_FEATURES)
    centre = config.window_radius * NUM_FEATURES
    wide[:, centre : centre + NUM_FEATURES] = stem[:, :NUM_FEATURES]
    wide[:, NUM_FEATURES * config.window :] = stem[:, NUM_FEATURES:]
    state["stem.0.weight"] = wide
    return state


def place_body(
    points: torch.Tensor, rays: torch.Tensor, weights: torch.Tensor, min_depth: float = 0.5
) -> torch.Tensor:
    """(B,3) translation t that makes the root-relative (B,K,3) points project onto the (B,K,2)
    rays, weighted by (B,K): least squares of the linear reprojection residuals
    (X + t)_x - r_x (X + t)_z and (X + t)_y - r_y (X + t)_z. Samples with fewer than two seen
    points are left at `min_depth` * 10 on the optical axis."""
    b = points.shape[0]
    rx, ry = rays[..., 0], rays[..., 1]
    zeros, ones = torch.zeros_like(rx), torch.ones_like(rx)
    # Rows: [1, 0, -rx] t = rx Z - X and [0, 1, -ry] t = ry Z - Y.
    a = torch.stack(
        [torch.stack([ones, zeros, -rx], -1), torch.stack([zeros, ones, -ry], -1)], dim=2
    ).reshape(b, -1, 3)
    rhs = torch.stack(
        [rx * points[..., 2] - points[..., 0], ry * points[..., 2] - points[..., 1]], dim=2
    ).reshape(b, -1)
    w = weights.repeat_interleave(2, dim=1)
    ata = torch.einsum("bki,bk,bkj->bij", a, w, a) + 1e-6 * torch.eye(3)
    atb = torch.einsum("bki,bk,bk->bi", a, w, rhs)
    t = torch.linalg.solve(ata, atb)
    enough = (weights > 0).sum(1) >= 2
    fallback = torch.tensor([0.0, 0.0, min_depth * 10])
    t = torch.where(enough[:, None], t, fallback)
    # A body behind the camera is never the answer; clamp the depth.
    return torch.cat([t[:, :2], t[:, 2:].clamp_min(min_depth)], dim=1)


def reprojection_error(
    points: torch.Tensor, rays: torch.Tensor, weights: torch.Tensor, huber: float = 0.05
) -> torch.Tensor:
    """(B,) robust, weighted distance between camera-frame (B,K,3) points projected and (B,K,2)
    rays, in units of the seen rays' extent (the body's image size): quadratic below `huber`
    (5 % of the body's height), linear above, so a stray detection cannot dominate."""
    projected = points[..., :2] / points[..., 2:].clamp_min(0.1)
    seen = weights > 0
    big = torch.finfo(rays.dtype).max
    extent = (
        torch.where(seen[..., None], rays, -big).amax(1)
        - torch.where(seen[..., None], rays, big).amin(1)
    ).amax(-1, keepdim=True)
    error = (projected - rays).norm(dim=-1) / extent.clamp_min(1e-3)
    robust = torch.where(error < huber, 0.5 * error**2 / huber, error - 0.5 * huber)
    return (robust * weights).sum(1) / weights.sum(1).clamp_min(1e-6)


def parameter_count(model: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in model.parameters())
