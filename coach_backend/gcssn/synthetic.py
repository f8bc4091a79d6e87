"""Synthetic training and test inputs: retargeted CMU motion on the open body, random shapes,
camera views and distances, rendered to the geometric representation, plus detector-like noise.

The 3D parameters that make an input travel in `SyntheticTruth`, separately from the
representation: self-supervised training never receives them (see `train.py`); only the
supervised baseline and the accuracy benchmark do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from coach_backend.body import NUM_BETAS, BodyModel, BodyParams
from coach_backend.gcssn.geometry import rest_pelvis
from coach_backend.perception.render import MEDIAPIPE_MISSING, BodyRenderer
from coach_backend.perception.types import Camera, PerceptionConfig, RepresentationBatch

FRAME_SIZE = (640, 480)


@dataclass(frozen=True)
class ViewConfig:
    """Where the camera stands. Elevation > 0 looks down on the athlete."""

    yaw_deg: tuple[float, float] = (-180.0, 180.0)
    elevation_deg: tuple[float, float] = (-5.0, 35.0)
    roll_deg: tuple[float, float] = (-4.0, 4.0)
    distance_m: tuple[float, float] = (2.5, 8.0)
    hfov_deg: tuple[float, float] = (45.0, 75.0)
    betas_sd: float = 1.0
    off_centre: float = 0.6  # pelvis offset from the optical axis, fraction of the half-frame
    truncation_prob: float = 0.08  # chance of pushing the body partly out of frame


@dataclass(frozen=True)
class NoiseConfig:
    """Detector-like corruption of rendered representations."""

    jitter_px: tuple[float, float] = (0.3, 1.5)  # per-sample sd at 64 px
    drop_rate: tuple[float, float] = (0.0, 0.35)  # per-sample rate of missing keypoints
    confidence: tuple[float, float] = (0.5, 1.0)  # confidences of detected keypoints
    silhouette_missing_prob: float = 0.15
    morph_prob: float = 0.5  # erode or dilate the silhouette by 1 px
    blob_prob: float = 0.2  # a spurious blob or a bite out of the mask


@dataclass
class SyntheticTruth:
    """What made the inputs (camera frame). Never passed to self-supervised losses."""

    params: BodyParams
    joints: torch.Tensor  # (B,24,3)
    frame_camera: Camera

    def select(self, rows: torch.Tensor) -> SyntheticTruth:
        params = BodyParams(
            **{f.name: getattr(self.params, f.name)[rows] for f in fields(BodyParams)}
        )
        return SyntheticTruth(params, self.joints[rows], self.frame_camera)


def camera_rotation(yaw: np.ndarray, elevation: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(B,3,3) world (y up, athlete facing +z at yaw 0) -> camera (OpenCV axes) rotations for a
    camera on the +z side, raised by `elevation` and looking down at the athlete."""
    c, s = np.cos(elevation), np.sin(elevation)
    zeros, ones = np.zeros_like(c), np.ones_like(c)
    look = np.stack(
        [
            np.stack([ones, zeros, zeros], -1),
            np.stack([zeros, -c, s], -1),
            np.stack([zeros, -s, -c], -1),
        ],
        axis=1,
    )
    spin = Rotation.from_rotvec(np.stack([zeros, yaw, zeros], -1)).as_matrix()
    tilt = Rotation.from_rotvec(np.stack([zeros, zeros, roll], -1)).as_matrix()
    return tilt @ look @ spin


def sample_views(
    body: BodyModel,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    view: ViewConfig,
    rng: np.random.Generator,
    camera: Camera,
) -> BodyParams:
    """Camera-frame body parameters for world-frame poses (B,3) and (B,23,3)."""
    n = len(global_orient)
    deg = np.deg2rad
    rot = camera_rotation(
        deg(rng.uniform(*view.yaw_deg, n)),
        deg(rng.uniform(*view.elevation_deg, n)),
        deg(rng.uniform(*view.roll_deg, n)),
    )
    orient = Rotation.from_matrix(rot) * Rotation.from_rotvec(global_orient)
    betas = np.clip(rng.normal(0, view.betas_sd, (n, NUM_BETAS)), -2.5, 2.5)
    depth = rng.uniform(*view.distance_m, n)
    half_w = depth * (camera.width / 2) / camera.fx
    half_h = depth * (camera.height / 2) / camera.fy
    reach = np.where(rng.random(n) < view.truncation_prob, 1.0, view.off_centre)
    pelvis = np.stack(
        [
            rng.uniform(-1, 1, n) * reach * half_w * 0.8,
            rng.uniform(-1, 1, n) * reach * half_h * 0.5,
            depth,
        ],
        axis=-1,
    )
    params = BodyParams.from_numpy(
        global_orient=orient.as_rotvec(), body_pose=body_pose, betas=betas, transl=pelvis
    )
    params.transl = params.transl - rest_pelvis(body, params.betas)
    return params


def random_camera(view: ViewConfig, rng: np.random.Generator) -> Camera:
    return Camera.default_for(*FRAME_SIZE, hfov_deg=float(rng.uniform(*view.hfov_deg)))


class SyntheticSource:
    """Batches of (representation, truth) from a pool of world-frame poses."""

    def __init__(
        self,
        body: BodyModel,
        global_orient: np.ndarray,
        body_pose: np.ndarray,
        resolution: int = 64,
        view: ViewConfig | None = None,
        noise: NoiseConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.body = body
        self.global_orient = global_orient
        self.body_pose = body_pose
        self.view = view or ViewConfig()
        self.noise = noise or NoiseConfig()
        self.rng = np.random.default_rng(seed)
        self.renderer = BodyRenderer(
            body, PerceptionConfig(resolution=resolution), drop_keypoints=MEDIAPIPE_MISSING
        )

    def clean_batch(
        self, size: int, rows: np.ndarray | None = None
    ) -> tuple[RepresentationBatch, SyntheticTruth]:
        if rows is None:
            rows = self.rng.integers(0, len(self.global_orient), size)
        camera = random_camera(self.view, self.rng)
        params = sample_views(
            self.body, self.global_orient[rows], self.body_pose[rows], self.view, self.rng, camera
        )
        reps = self.renderer.render(params, camera)
        with torch.no_grad():
            joints = self.body(params, torch.zeros(0, dtype=torch.long)).joints
        return reps, SyntheticTruth(params, joints, camera)

    def batch(self, size: int) -> tuple[RepresentationBatch, SyntheticTruth]:
        reps, truth = self.clean_batch(size)
        return corrupt(reps, self.noise, self.rng), truth


def corrupt(
    reps: RepresentationBatch, noise: NoiseConfig, rng: np.random.Generator
) -> RepresentationBatch:
    """Detector-like noise: jitter, missing joints, silhouettes eroded, dilated, blotched or
    missing. Returns a new batch; the input is unchanged."""
    b, k, _ = reps.keypoints.shape
    r = reps.resolution
    scale = r / 64.0
    jitter = rng.uniform(*noise.jitter_px, (b, 1, 1)) * scale
    keypoints = reps.keypoints + torch.as_tensor(rng.normal(0, 1, (b, k, 2)) * jitter).float()
    drop = rng.random((b, k)) < rng.uniform(*noise.drop_rate, (b, 1))
    conf = reps.conf * torch.as_tensor(rng.uniform(*noise.confidence, (b, k))).float()
    conf[torch.as_tensor(drop)] = 0.0
    keypoints = keypoints * (conf[..., None] > 0)

    sil = reps.silhouette.numpy().copy()
    present = reps.silhouette_present.numpy().copy()
    kernel = np.ones((3, 3), np.uint8)
    for i in range(b):
        if rng.random() < noise.morph_prob:
            op = cv2.erode if rng.random() < 0.5 else cv2.dilate
            sil[i, 0] = op(sil[i, 0], kernel)
        if rng.random() < noise.blob_prob:
            centre = rng.integers(0, r, 2)
            radius = int(rng.integers(2, max(3, r // 8)))
            cv2.circle(
                sil[i, 0], (int(centre[0]), int(centre[1])), radius, float(rng.random() < 0.5), -1
            )
    missing = rng.random(b) < noise.silhouette_missing_prob
    sil[missing] = 0.0
    present &= ~missing
    return RepresentationBatch(
        keypoints=keypoints.float(),
        conf=conf,
        silhouette=torch.from_numpy(sil),
        silhouette_present=torch.from_numpy(present),
        has_person=reps.has_person.clone(),
        box=reps.box.clone(),
        crop_intrinsics=reps.crop_intrinsics.clone(),
        frame_intrinsics=reps.frame_intrinsics.clone(),
        frame_size=reps.frame_size.clone(),
    )


def drop_keypoints(reps: RepresentationBatch, fraction: float, seed: int) -> RepresentationBatch:
    """A copy with `fraction` of each sample's detected keypoints removed (robustness tests)."""
    rng = np.random.default_rng(seed)
    conf = reps.conf.clone()
    for i in range(len(reps)):
        seen = torch.nonzero(conf[i] > 0).flatten().numpy()
        gone = rng.choice(seen, size=int(math.ceil(fraction * len(seen))), replace=False)
        conf[i, gone] = 0.0
    return _replace(reps, conf=conf, keypoints=reps.keypoints * (conf[..., None] > 0))


def remove_silhouettes(reps: RepresentationBatch) -> RepresentationBatch:
    return _replace(
        reps,
        silhouette=torch.zeros_like(reps.silhouette),
        silhouette_present=torch.zeros_like(reps.silhouette_present),
    )


def _replace(reps: RepresentationBatch, **changes: torch.Tensor) -> RepresentationBatch:
    values = {f.name: getattr(reps, f.name) for f in fields(RepresentationBatch)}
    values.update(changes)
    return RepresentationBatch(**values)
