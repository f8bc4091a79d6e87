"""Typed geometric representation shared by every perception source.

Pixel convention (both full frame and crop): OpenCV pixel *centres* — pixel (i, j) has its centre
at x = i, y = j, so an image of width W spans x in [-0.5, W - 0.5]. This is what cv2.warpAffine,
cv2.projectPoints and cv2.fillPoly use, so crops made with `CropBox.affine()` need no half-pixel
fix-ups anywhere else.

Camera frame: OpenCV (x right, y down, z forward), see docs/CONTRIBUTING-internal.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from coach_backend.body.skeleton import KEYPOINT_NAMES, NUM_KEYPOINTS
from coach_backend.config import LIVE_PERCEPTION_MAX_SIDE

# The body's surface keypoints (COCO-17 then COCO-WholeBody feet, defined once in
# body/skeleton.py), as perception names them. Index = position in arrays.
SURFACE_KEYPOINT_NAMES: tuple[str, ...] = tuple(KEYPOINT_NAMES)

# Horizontal FOV across the image's LONG side used when intrinsics are unknown. Why 60 deg:
# phone main cameras in video mode (26 mm-equivalent lens, 16:9 with stabilisation crop) and
# common webcams (C920-class, 78 deg diagonal) land at 60-70 deg across the long side; the
# HMR/CLIFF default f = image diagonal is ~45 deg. 60 deg sits between, slightly on the narrow side
# because a +-10 deg FOV error only rescales depth (the 2D representation is unaffected).
DEFAULT_HFOV_DEG = 60.0

# Long side (px) frames are shrunk to before MediaPipe (`PerceptionConfig.max_input_side`);
# None: never. The default is live's choice (native), the replay passes its own; both and why:
# `coach_backend.config` (LIVE_ / REPLAY_PERCEPTION_MAX_SIDE).
DEFAULT_MAX_INPUT_SIDE: int | None = LIVE_PERCEPTION_MAX_SIDE


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics (no distortion) in pixels for an image of `width` x `height`."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def default_for(cls, width: int, height: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> Camera:
        """Default intrinsics: square pixels, principal point at the image centre and
        fx = fy = max(w, h) / (2 tan(hfov / 2)), i.e. `hfov_deg` across the long side (so a
        portrait and a landscape frame of the same sensor get the same focal length)."""
        f = max(width, height) / (2.0 * math.tan(math.radians(hfov_deg) / 2.0))
        # Centre of an image spanning [-0.5, W - 0.5] in pixel-centre coordinates.
        return cls(f, f, (width - 1) / 2.0, (height - 1) / 2.0, int(width), int(height))

    @property
    def K(self) -> np.ndarray:
        """3x3 intrinsic matrix (float64)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def intrinsics(self) -> tuple[float, float, float, float]:
        return (self.fx, self.fy, self.cx, self.cy)

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera-frame points -> (..., 2) pixels. Points at z <= 0 give inf/nan."""
        p = np.asarray(points_cam, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = p[..., 0] / p[..., 2]
            y = p[..., 1] / p[..., 2]
        return np.stack([self.fx * x + self.cx, self.fy * y + self.cy], axis=-1)


@dataclass(frozen=True)
class CropBox:
    """Axis-aligned square crop: centre (`cx`, `cy`) and `side` in full-frame pixels, resampled
    to `resolution` x `resolution` crop pixels. The crop may extend beyond the frame."""

    cx: float
    cy: float
    side: float
    resolution: int

    def __post_init__(self) -> None:
        if not (self.side > 0 and self.resolution > 0):
            raise ValueError(f"CropBox needs side > 0 and resolution > 0, got {self}")

    @property
    def scale(self) -> float:
        """Crop pixels per frame pixel."""
        return self.resolution / self.side

    @property
    def x0(self) -> float:
        """Left edge (frame pixel-centre coordinates) of the crop's outer boundary."""
        return self.cx - self.side / 2.0

    @property
    def y0(self) -> float:
        return self.cy - self.side / 2.0

    def affine(self) -> np.ndarray:
        """3x3 frame->crop matrix: u = s * (x - x0) - 0.5 (edges map to edges; see module doc).
        `affine()[:2]` is the matrix cv2.warpAffine expects for dsize=(R, R)."""
        s = self.scale
        return np.array(
            [[s, 0.0, -s * self.x0 - 0.5], [0.0, s, -s * self.y0 - 0.5], [0.0, 0.0, 1.0]]
        )

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) frame pixels -> crop pixels (float64 math, input dtype kept if floating)."""
        p = np.asarray(points)
        s = self.scale
        out = np.empty(p.shape, dtype=np.float64)
        out[..., 0] = (p[..., 0] - self.x0) * s - 0.5
        out[..., 1] = (p[..., 1] - self.y0) * s - 0.5
        return out.astype(p.dtype) if np.issubdtype(p.dtype, np.floating) else out

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Exact inverse of `to_crop`."""
        p = np.asarray(points)
        inv = 1.0 / self.scale
        out = np.empty(p.shape, dtype=np.float64)
        out[..., 0] = (p[..., 0] + 0.5) * inv + self.x0
        out[..., 1] = (p[..., 1] + 0.5) * inv + self.y0
        return out.astype(p.dtype) if np.issubdtype(p.dtype, np.floating) else out

    def crop_camera(self, camera: Camera) -> Camera:
        """Intrinsics of the crop seen as a virtual camera (same camera frame, no rotation):
        projecting a 3D point with it gives exactly `to_crop(camera.project(point))`."""
        s = self.scale
        return Camera(
            fx=camera.fx * s,
            fy=camera.fy * s,
            cx=s * (camera.cx - self.x0) - 0.5,
            cy=s * (camera.cy - self.y0) - 0.5,
            width=self.resolution,
            height=self.resolution,
        )

    def params(self) -> tuple[float, float, float]:
        return (self.cx, self.cy, self.side)

    def crop_image(
        self,
        image: np.ndarray,
        border_value: float = 0.0,
        frame_size: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """Resample `image` (H, W[, C]) into the (R, R[, C]) crop; outside the frame = border.
        frame_size: (width, height) of the frame when `image` is a resized copy of it (e.g. a
        mask MediaPipe computed on a downscaled frame); None: `image` is the frame itself.
        Strong downscales first go through an INTER_AREA resize (why: plain bilinear sampling
        of a 500 px box at 64 px aliases thin limbs away)."""
        h, w = image.shape[:2]
        m = self.affine()
        if frame_size is not None and tuple(frame_size) != (w, h):
            m = m @ np.linalg.inv(resize_map(frame_size, (w, h)))  # image px -> crop px
        src = image
        s = min(m[0, 0], m[1, 1])  # crop pixels per image pixel
        if s < 0.5:
            nw, nh = max(1, round(w * s * 2)), max(1, round(h * s * 2))
            src = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
            m = m @ np.linalg.inv(resize_map((w, h), (nw, nh)))
        return cv2.warpAffine(
            src,
            m[:2],
            (self.resolution, self.resolution),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=border_value,
        )


def resize_map(src_size: tuple[int, int], dst_size: tuple[int, int]) -> np.ndarray:
    """3x3 map from the pixel-centre coordinates of a (width, height) `src_size` image to those
    of its cv2.resize to `dst_size`: x' = (x + 0.5) * w' / w - 0.5 (outer edges map to edges),
    which is how cv2.resize samples, whatever the interpolation."""
    sx, sy = dst_size[0] / src_size[0], dst_size[1] / src_size[1]
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])


def fit_within(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) shrunk, aspect kept, so that the long side is at most `max_side` (None:
    unchanged; never enlarged)."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def square_box(
    lo: np.ndarray, hi: np.ndarray, margin: float, min_side: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """THE margin rule, shared by every source so crops are comparable: square box centred on the
    bounding box [lo, hi] (..., 2) with side = max(width, height) * (1 + 2 * margin), at least
    `min_side`. Returns (cx, cy, side) arrays of shape (...)."""
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    centre = (lo + hi) / 2.0
    extent = np.max(hi - lo, axis=-1)
    side = np.maximum(extent * (1.0 + 2.0 * margin), min_side)
    return centre[..., 0], centre[..., 1], side


@dataclass(frozen=True)
class PerceptionConfig:
    """Perception settings. resolution, margin, min_box_side and camera are shared by the
    MediaPipe source and the body renderer (same crop rule); the rest is MediaPipe-only.

    resolution: crop side in pixels (64 default, 128 for the bigger network).
    margin: crop side = max(bbox w, h) * (1 + 2 * margin) around keypoints U silhouette.
    min_box_side: smallest crop side in frame pixels (why: a far-away person should not be
        upsampled from a handful of pixels into a 64 px crop).
    box_keypoint_threshold: landmarks at or above this confidence define the crop box (why:
        low-visibility landmarks are often extrapolated far outside the frame).
    camera: full-frame intrinsics; None -> `Camera.default_for(width, height)` per frame.
    max_input_side: frames whose long side is larger are shrunk to it (cv2 INTER_AREA) before
        MediaPipe; keypoints, box and silhouette still come out in full-frame pixels. None:
        native (the default: live's choice; the replay uses 960, see `coach_backend.config`).
    segmentation: ask MediaPipe for the person mask (the silhouette and its share of the crop
        box). `SessionPipeline` turns it off when its network reads only keypoints (why: at
        1080p the mask is about 40 % of MediaPipe's time).
    """

    resolution: int = 64
    margin: float = 0.1
    min_box_side: float = 32.0
    box_keypoint_threshold: float = 0.5
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    static_image_mode: bool = False
    smooth_landmarks: bool = True
    smooth_segmentation: bool = True
    camera: Camera | None = None
    max_input_side: int | None = DEFAULT_MAX_INPUT_SIDE
    segmentation: bool = True

    def __post_init__(self) -> None:
        if self.max_input_side is not None and self.max_input_side < 16:
            raise ValueError(f"max_input_side must be >= 16 or None, got {self.max_input_side}")


@dataclass
class Representation:
    """One person's geometric representation in a person-centred square crop.

    keypoints: (K, 2) float32, crop pixels (may lie outside [0, R) when out of the crop).
    confidences: (K,) float32 in [0, 1]; 0 = missing (its keypoint value is meaningless).
    silhouette: (R, R) float32 in [0, 1], or None when no mask is available.
    box: the crop in the full frame; camera: full-frame intrinsics.
    has_person: False -> everything else is a placeholder (`Representation.empty`).
    world: (K, 3) float32, the detector's own 3D estimate of the keypoints (metres, origin
        between the hips, camera axes), or None when the source has none (e.g. user keypoints).
    """

    keypoints: np.ndarray
    confidences: np.ndarray
    silhouette: np.ndarray | None
    box: CropBox
    camera: Camera
    has_person: bool = True
    world: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32)
        self.confidences = np.asarray(self.confidences, dtype=np.float32)
        k = self.keypoints.shape[0]
        if self.keypoints.shape != (k, 2) or self.confidences.shape != (k,):
            raise ValueError(
                f"keypoints (K,2)/confidences (K,) mismatch: "
                f"{self.keypoints.shape} {self.confidences.shape}"
            )
        if self.silhouette is not None:
            self.silhouette = np.asarray(self.silhouette, dtype=np.float32)
            r = self.box.resolution
            if self.silhouette.shape != (r, r):
                raise ValueError(f"silhouette must be ({r},{r}), got {self.silhouette.shape}")
        if self.world is not None:
            self.world = np.asarray(self.world, dtype=np.float32)
            if self.world.shape != (k, 3):
                raise ValueError(f"world must be ({k},3), got {self.world.shape}")

    @property
    def resolution(self) -> int:
        return self.box.resolution

    @property
    def crop_camera(self) -> Camera:
        return self.box.crop_camera(self.camera)

    def keypoints_frame(self) -> np.ndarray:
        """(K, 2) keypoints in full-frame pixels."""
        return self.box.to_frame(self.keypoints)

    @classmethod
    def empty(
        cls, camera: Camera, resolution: int = 64, num_keypoints: int = NUM_KEYPOINTS
    ) -> Representation:
        """No person: zero confidences, no silhouette, a whole-frame box (a valid placeholder)."""
        box = CropBox(
            cx=(camera.width - 1) / 2.0,
            cy=(camera.height - 1) / 2.0,
            side=float(max(camera.width, camera.height)),
            resolution=resolution,
        )
        return cls(
            keypoints=np.zeros((num_keypoints, 2), np.float32),
            confidences=np.zeros((num_keypoints,), np.float32),
            silhouette=None,
            box=box,
            camera=camera,
            has_person=False,
        )


@dataclass
class RepresentationBatch:
    """Batched tensor form for training (all float32 unless noted, B = batch).

    keypoints (B,K,2) crop px; conf (B,K); silhouette (B,1,R,R), zeros where absent;
    silhouette_present (B,) bool; has_person (B,) bool; box (B,3) = (cx, cy, side) frame px;
    crop_intrinsics (B,4) = (fx, fy, cx, cy) of the crop camera; frame_intrinsics (B,4);
    frame_size (B,2) = (width, height); world (B,K,3) the detector's 3D keypoints, zeros where
    world_present (B,) bool is False (sources without 3D may leave both out).
    """

    keypoints: torch.Tensor
    conf: torch.Tensor
    silhouette: torch.Tensor
    silhouette_present: torch.Tensor
    has_person: torch.Tensor
    box: torch.Tensor
    crop_intrinsics: torch.Tensor
    frame_intrinsics: torch.Tensor
    frame_size: torch.Tensor
    world: torch.Tensor | None = None
    world_present: torch.Tensor | None = None

    def __post_init__(self) -> None:
        b, k = self.keypoints.shape[:2]
        if self.world is None:
            self.world = torch.zeros(b, k, 3)
        if self.world_present is None:
            self.world_present = torch.zeros(b, dtype=torch.bool)

    @property
    def resolution(self) -> int:
        return int(self.silhouette.shape[-1])

    def __len__(self) -> int:
        return int(self.keypoints.shape[0])

    def __getitem__(self, rows: slice | torch.Tensor | np.ndarray) -> RepresentationBatch:
        """The batch of these rows (a slice, indices or a boolean mask)."""
        if isinstance(rows, np.ndarray):
            rows = torch.as_tensor(rows)
        return RepresentationBatch(**{k: v[rows] for k, v in vars(self).items()})

    def to(self, device: torch.device | str) -> RepresentationBatch:
        return RepresentationBatch(**{k: v.to(device) for k, v in vars(self).items()})

    def normalized_keypoints(self) -> torch.Tensor:
        """(B,K,2) keypoints mapped so the crop's outer edges are -1 and +1."""
        return (self.keypoints + 0.5) * (2.0 / self.resolution) - 1.0

    def item(self, i: int) -> Representation:
        """Back to the per-sample numpy form (box and intrinsics at float32 precision)."""
        fx, fy, cx, cy = (float(v) for v in self.frame_intrinsics[i])
        w, h = (int(v) for v in self.frame_size[i])
        bcx, bcy, side = (float(v) for v in self.box[i])
        sil = self.silhouette[i, 0].detach().cpu().numpy() if self.silhouette_present[i] else None
        return Representation(
            keypoints=self.keypoints[i].detach().cpu().numpy(),
            confidences=self.conf[i].detach().cpu().numpy(),
            silhouette=sil,
            box=CropBox(bcx, bcy, side, self.resolution),
            camera=Camera(fx, fy, cx, cy, w, h),
            has_person=bool(self.has_person[i]),
            world=self.world[i].detach().cpu().numpy() if self.world_present[i] else None,
        )


def stack(reps: Sequence[Representation]) -> RepresentationBatch:
    """Stack representations (all with the same resolution and K) into a RepresentationBatch."""
    if not reps:
        raise ValueError("stack() needs at least one representation")
    r = reps[0].resolution
    if any(rep.resolution != r for rep in reps):
        raise ValueError("all representations in a batch must share one resolution")
    sil = np.zeros((len(reps), 1, r, r), np.float32)
    for i, rep in enumerate(reps):
        if rep.silhouette is not None:
            sil[i, 0] = rep.silhouette
    return RepresentationBatch(
        keypoints=torch.from_numpy(np.stack([rep.keypoints for rep in reps])),
        conf=torch.from_numpy(np.stack([rep.confidences for rep in reps])),
        silhouette=torch.from_numpy(sil),
        silhouette_present=torch.tensor([rep.silhouette is not None for rep in reps]),
        has_person=torch.tensor([rep.has_person for rep in reps]),
        box=torch.tensor([rep.box.params() for rep in reps], dtype=torch.float32),
        crop_intrinsics=torch.tensor(
            [rep.crop_camera.intrinsics for rep in reps], dtype=torch.float32
        ),
        frame_intrinsics=torch.tensor([rep.camera.intrinsics for rep in reps], dtype=torch.float32),
        frame_size=torch.tensor(
            [(rep.camera.width, rep.camera.height) for rep in reps], dtype=torch.float32
        ),
        world=torch.from_numpy(
            np.stack(
                [
                    rep.world if rep.world is not None else np.zeros((len(rep.keypoints), 3))
                    for rep in reps
                ]
            ).astype(np.float32)
        ),
        world_present=torch.tensor([rep.world is not None for rep in reps]),
    )
