"""SMPL motion in the y-up wire frame, loaded from recordings or replay results, ready to export.

Every exporter takes a :class:`Motion`: local axis-angle rotations in SMPL-24 order (index 0 =
global orientation) and the pelvis joint position, both in the wire frame of
docs/CONTRIBUTING-internal.md (x right, y up, z towards the camera), so the avatar stands upright.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from coach_backend.body import NUM_BETAS, NUM_JOINTS, BodyParams, load_body_model
from coach_backend.recorder import read_recording
from coach_backend.stream import camera_to_wire, decode_poses

Frame = Literal["camera", "wire"]
RootMotion = Literal["relative", "absolute"]


@dataclass(frozen=True)
class RestBody:
    """The body at its zero pose (SMPL T-pose) for one shape: what the rig is bound to."""

    vertices: np.ndarray  # (V,3) float64 metres, y up, facing +z
    joints: np.ndarray  # (24,3) rest joint positions
    faces: np.ndarray  # (F,3) int64
    weights: np.ndarray  # (V,24) LBS weights
    betas: np.ndarray  # (10,)
    name: str  # "open_body" or "smpl"


def rest_body(betas: np.ndarray | None = None, model_path: str | Path | None = None) -> RestBody:
    """Shaped rest mesh and joints of the body model (default: the open body)."""
    body = load_body_model(model_path)
    b = np.zeros(NUM_BETAS) if betas is None else np.asarray(betas, np.float64).reshape(-1)
    if b.shape != (NUM_BETAS,):
        raise ValueError(f"betas must have {NUM_BETAS} values, got {b.shape}")
    with torch.no_grad():  # zero pose: the skinned output is exactly the shaped template
        out = body(BodyParams.from_numpy(betas=b))
    return RestBody(
        vertices=out.vertices[0].double().numpy(),
        joints=out.joints[0].double().numpy(),
        faces=np.asarray(body.faces, np.int64),
        weights=body.lbs_weights.double().numpy(),
        betas=b,
        name=body.name,
    )


@dataclass(frozen=True)
class Motion:
    """T frames of SMPL motion in the wire frame.

    rotvecs: (T,24,3) local axis-angle, index 0 = global orientation (wire frame);
    pelvis: (T,3) pelvis joint position in metres (wire frame; NOT SMPL ``transl``, which is the
    pelvis minus its rest position); times: (T,) seconds, strictly increasing; valid: (T,) bool
    (person detected); betas: (10,) body shape of the rig.
    """

    rotvecs: np.ndarray
    pelvis: np.ndarray
    times: np.ndarray
    valid: np.ndarray
    betas: np.ndarray

    def __post_init__(self) -> None:
        n = self.rotvecs.shape[0]
        if self.rotvecs.shape != (n, NUM_JOINTS, 3) or n == 0:
            raise ValueError(f"rotvecs must be (T>0, 24, 3), got {self.rotvecs.shape}")
        if self.pelvis.shape != (n, 3) or self.times.shape != (n,) or self.valid.shape != (n,):
            raise ValueError("pelvis (T,3), times (T,) and valid (T,) must match rotvecs (T,24,3)")
        if self.betas.shape != (NUM_BETAS,):
            raise ValueError(f"betas must be ({NUM_BETAS},), got {self.betas.shape}")
        if n > 1 and not np.all(np.diff(self.times) > 0):
            raise ValueError("times must be strictly increasing")
        if not (np.isfinite(self.rotvecs).all() and np.isfinite(self.pelvis).all()):
            raise ValueError("rotvecs and pelvis must be finite")

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def fps(self) -> float:
        """Nominal rate: 1 / median frame interval (30 for a single frame)."""
        return 30.0 if len(self) < 2 else float(1.0 / np.median(np.diff(self.times)))

    def held(self) -> tuple[np.ndarray, np.ndarray]:
        """(rotvecs, pelvis) with every invalid frame replaced by the last valid one before it
        (frames before the first valid one take the first valid one; with no valid frame at
        all: zero pose at the origin). Exporters show a held pose rather than a garbage one."""
        valid = np.flatnonzero(self.valid)
        if valid.size == 0:
            return np.zeros_like(self.rotvecs), np.zeros_like(self.pelvis)
        # Index of the last valid frame at or before each frame (first valid for leading ones).
        src = np.maximum.accumulate(np.where(self.valid, np.arange(len(self)), -1))
        src = np.where(src < 0, valid[0], src)
        return self.rotvecs[src].copy(), self.pelvis[src].copy()


def motion_from_smpl(
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
    *,
    betas: np.ndarray | None = None,
    times: np.ndarray | None = None,
    valid: np.ndarray | None = None,
    fps: float = 30.0,
    frame: Frame = "camera",
    model_path: str | Path | None = None,
) -> Motion:
    """SMPL params (T,3), (T,23,3), (T,3) -> Motion.

    ``frame="camera"``: OpenCV camera frame (as the reconstruction and ``smpl.npz`` produce),
    converted with :func:`coach_backend.stream.camera_to_wire`; ``"wire"``: already y-up.
    ``transl`` is SMPL's: the pelvis is ``rest pelvis(betas) + transl``. ``betas`` (10,) or
    (T,10) (the mean over valid frames is used: a rig has one shape). ``times`` in seconds
    (default ``arange(T) / fps``); frames whose time does not increase are dropped.
    """
    go = np.asarray(global_orient, np.float64).reshape(-1, 3)
    n = go.shape[0]
    bp = np.asarray(body_pose, np.float64).reshape(n, NUM_JOINTS - 1, 3)
    tr = np.asarray(transl, np.float64).reshape(n, 3)
    ok = np.ones(n, bool) if valid is None else np.asarray(valid, bool).reshape(n)
    shape = _one_shape(betas, ok)
    pelvis = tr + rest_body(shape, model_path).joints[0]
    if frame == "camera":
        go, pelvis = camera_to_wire(go, pelvis)
    elif frame != "wire":
        raise ValueError(f"frame must be 'camera' or 'wire', got {frame!r}")
    t = np.arange(n) / fps if times is None else np.asarray(times, np.float64).reshape(n)
    rotvecs = np.concatenate([go[:, None], bp], axis=1)
    # Non-finite rows (a failed frame written as NaN) count as invalid, held like the others.
    finite = np.isfinite(rotvecs).all(axis=(1, 2)) & np.isfinite(pelvis).all(axis=1)
    rotvecs[~finite], pelvis[~finite] = 0.0, 0.0
    return _monotonic(rotvecs, pelvis, t, ok & finite, shape)


def motion_from_recording(path: str | os.PathLike[str]) -> Motion:
    """A ``.coachrec`` recording -> Motion (already in the wire frame; times from the frames'
    capture clock, relative to the first frame; betas from its SessionInfo)."""
    rec = read_recording(path)
    if not rec.frames:
        raise ValueError(f"{path}: recording has no frames")
    poses = decode_poses([f.pose for f in rec.frames])
    t_us = np.array([f.capture_time_us for f in rec.frames], np.int64)
    betas = np.asarray(rec.info.betas, np.float64) if len(rec.info.betas) else None
    return _monotonic(
        poses.rotvecs, poses.pelvis_m, (t_us - t_us[0]) / 1e6, poses.valid, _one_shape(betas)
    )


def motion_from_npz(
    path: str | os.PathLike[str], model_path: str | Path | None = None, fps: float = 30.0
) -> Motion:
    """A replay result ``smpl.npz`` (docs/replay_format.md; camera frame): keys global_orient
    (T,3), body_pose (T,23,3), transl (T,3), optional betas (10,)/(T,10), valid (T,),
    timestamps (T,) in seconds (missing: ``arange(T) / fps``, fps from the file's ``fps`` key or
    the argument). Other keys (joints, intrinsics, meta, ...) are ignored."""
    wanted = ("global_orient", "body_pose", "transl", "betas", "valid", "timestamps", "fps")
    with np.load(path, allow_pickle=False) as d:  # only what we use (docs/replay_format.md)
        arrays = {k: d[k] for k in wanted if k in d.files}
    missing = {"global_orient", "body_pose", "transl"} - set(arrays)
    if missing:
        raise ValueError(f"{path}: missing {sorted(missing)}")
    if "fps" in arrays:
        fps = float(arrays["fps"])
    return motion_from_smpl(
        arrays["global_orient"],
        arrays["body_pose"],
        arrays["transl"],
        betas=arrays.get("betas"),
        times=arrays.get("timestamps"),
        valid=arrays.get("valid"),
        fps=fps,
        frame="camera",
        model_path=model_path,
    )


def load_motion(path: str | os.PathLike[str], model_path: str | Path | None = None) -> Motion:
    """``.coachrec`` or replay ``.npz`` -> Motion."""
    suffix = Path(path).suffix.lower()
    if suffix == ".coachrec":
        return motion_from_recording(path)
    if suffix == ".npz":
        return motion_from_npz(path, model_path)
    raise ValueError(f"{path}: expected a .coachrec recording or a replay .npz")


def root_positions(motion: Motion, rest_pelvis: np.ndarray, root_motion: RootMotion) -> np.ndarray:
    """(T,3) pelvis positions to export (held frames applied). ``relative``: shifted so the first
    valid frame's pelvis sits at the rig's rest pelvis (the file opens where the T-pose stands,
    not metres away at the camera distance); ``absolute``: wire-frame positions as recorded."""
    _, pelvis = motion.held()
    if root_motion == "absolute":
        return pelvis
    if root_motion != "relative":
        raise ValueError(f"root_motion must be 'relative' or 'absolute', got {root_motion!r}")
    return pelvis - pelvis[0] + rest_pelvis  # held(): row 0 is the first valid frame's


def _one_shape(betas: np.ndarray | None, valid: np.ndarray | None = None) -> np.ndarray:
    if betas is None:
        return np.zeros(NUM_BETAS)
    b = np.asarray(betas, np.float64)
    if b.ndim == 2:  # per-frame shape estimates: average the valid, finite ones
        keep = np.isfinite(b).all(axis=1) & (True if valid is None else valid)
        b = b[keep].mean(axis=0) if keep.any() else np.zeros(NUM_BETAS)
    return b.reshape(NUM_BETAS)


def _monotonic(
    rotvecs: np.ndarray, pelvis: np.ndarray, times: np.ndarray, valid: np.ndarray, betas: np.ndarray
) -> Motion:
    # glTF samplers need strictly increasing times: drop frames that do not advance the clock
    # (duplicates / reordering in a recording), then start at 0.
    keep = np.ones(times.shape[0], bool)
    last = -np.inf
    for i, t in enumerate(times):
        keep[i] = t > last
        last = max(last, t)
    t = times[keep] - times[keep][0]
    return Motion(rotvecs[keep], pelvis[keep], t, valid[keep], betas)
