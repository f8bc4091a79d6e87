"""Compact pose wire layout v1 (104 bytes, little-endian); see docs/CONTRIBUTING-internal.md.

byte 0 version (=1) | byte 1 flags (bit0 valid) | bytes 2..97 24 x uint32 "smallest three"
quaternions (SMPL-24 order) | bytes 98..103 pelvis x, y, z as int16 millimetres.

One vectorised implementation (``encode_poses`` / ``decode_poses`` over T frames); the single-frame
functions call it. Rotations are in the y-up wire frame: use :func:`camera_to_wire` first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.body.skeleton import NUM_JOINTS as BODY_JOINTS
from coach_backend.body.skeleton import SMPL_JOINT_NAMES

LAYOUT_VERSION = 1
# Fixed by wire layout v1 (clients hard-code it), so spelled out here; it must be the body's.
NUM_JOINTS = 24
assert NUM_JOINTS == BODY_JOINTS, "wire layout v1 carries exactly the body's joints"
POSE_BYTES = 104
FLAG_VALID = 0x01

# The wire's joint order is SMPL's, as the body model defines it.
SMPL24_JOINT_NAMES: tuple[str, ...] = tuple(SMPL_JOINT_NAMES)

# Packed record: numpy's unaligned structured dtype is exactly the wire layout (itemsize 104).
WIRE_DTYPE = np.dtype(
    [("version", "u1"), ("flags", "u1"), ("rot", "<u4", (NUM_JOINTS,)), ("pelvis_mm", "<i2", (3,))]
)
assert WIRE_DTYPE.itemsize == POSE_BYTES

_INV_SQRT2 = 1.0 / math.sqrt(2.0)  # bound of the three smallest components of a unit quaternion
_SPAN = 2.0 / math.sqrt(2.0)
_LEVELS = 1023  # 10 bits per component

# 180 deg about x: maps OpenCV camera axes (y down, z forward) to GL viewer axes (y up, z back).
_RX180 = Rotation.from_rotvec([math.pi, 0.0, 0.0])


@dataclass(frozen=True)
class DecodedPose:
    """One decoded frame: rotvecs (24, 3) in the wire frame, pelvis_m (3,), valid flag."""

    rotvecs: np.ndarray
    pelvis_m: np.ndarray
    valid: bool


@dataclass(frozen=True)
class DecodedPoses:
    """T decoded frames: rotvecs (T, 24, 3), pelvis_m (T, 3), valid (T,) bool."""

    rotvecs: np.ndarray
    pelvis_m: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return int(self.valid.shape[0])

    def __getitem__(self, i: int) -> DecodedPose:
        return DecodedPose(self.rotvecs[i], self.pelvis_m[i], bool(self.valid[i]))


def encode_poses(
    rotvecs: np.ndarray, pelvis_m: np.ndarray, valid: np.ndarray | Sequence[bool] | bool = True
) -> np.ndarray:
    """Encode T frames. rotvecs (T, 24, 3), pelvis_m (T, 3) metres, valid (T,) or scalar.

    Returns a (T, 104) uint8 array; ``out[i].tobytes()`` is frame i's wire blob.
    """
    rv = np.asarray(rotvecs, dtype=np.float64)
    pv = np.asarray(pelvis_m, dtype=np.float64)
    if rv.ndim != 3 or rv.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"rotvecs must have shape (T, {NUM_JOINTS}, 3), got {rv.shape}")
    n = rv.shape[0]
    if pv.shape != (n, 3):
        raise ValueError(f"pelvis_m must have shape ({n}, 3), got {pv.shape}")
    ok = np.broadcast_to(np.asarray(valid, dtype=bool), (n,))
    if not (np.isfinite(rv).all() and np.isfinite(pv).all()):
        raise ValueError("rotvecs and pelvis_m must be finite")

    out = np.zeros(n, dtype=WIRE_DTYPE)
    out["version"] = LAYOUT_VERSION
    out["flags"] = np.where(ok, FLAG_VALID, 0)
    if n:
        out["rot"] = _pack_quats(Rotation.from_rotvec(rv.reshape(-1, 3)).as_quat()).reshape(n, -1)
    # Clamp before the cast: a wrapped int16 would teleport the body.
    out["pelvis_mm"] = np.clip(np.rint(pv * 1000.0), -32767, 32767).astype(np.int16)
    return out.view(np.uint8).reshape(n, POSE_BYTES)


def decode_poses(
    blobs: bytes | bytearray | memoryview | Sequence[bytes] | np.ndarray,
) -> DecodedPoses:
    """Decode T frames from concatenated bytes (T*104), a sequence of 104-byte blobs, or (T, 104)
    uint8. Raises ValueError on a wrong length or layout version."""
    if isinstance(blobs, bytes | bytearray | memoryview):
        raw = np.frombuffer(blobs, dtype=np.uint8)
    elif isinstance(blobs, np.ndarray):
        raw = np.ascontiguousarray(blobs, dtype=np.uint8).reshape(-1)
    else:
        parts = list(blobs)
        for i, b in enumerate(parts):
            if len(b) != POSE_BYTES:
                raise ValueError(f"pose blob {i} has {len(b)} bytes, expected {POSE_BYTES}")
        raw = np.frombuffer(b"".join(parts), dtype=np.uint8)
    if raw.size % POSE_BYTES:
        raise ValueError(f"pose data has {raw.size} bytes, not a multiple of {POSE_BYTES}")
    rec = raw.view(WIRE_DTYPE)
    bad = np.flatnonzero(rec["version"] != LAYOUT_VERSION)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"frame {i}: unsupported pose layout version {int(rec['version'][i])}, "
            f"expected {LAYOUT_VERSION}"
        )
    n = rec.shape[0]
    quats = _unpack_quats(rec["rot"].reshape(-1).astype(np.uint32))
    rotvecs = np.zeros((n, NUM_JOINTS, 3))
    if n:  # scipy rejects an empty quaternion array
        rotvecs = Rotation.from_quat(quats).as_rotvec().reshape(n, NUM_JOINTS, 3)
    pelvis = rec["pelvis_mm"].astype(np.float64) / 1000.0
    valid = (rec["flags"] & FLAG_VALID).astype(bool)
    return DecodedPoses(rotvecs=rotvecs, pelvis_m=pelvis, valid=valid)


def encode_pose(rotvecs: np.ndarray, pelvis_m: np.ndarray, valid: bool = True) -> bytes:
    """Encode one frame: rotvecs (24, 3) in the wire frame, pelvis_m (3,) -> 104 bytes."""
    rv = np.asarray(rotvecs, dtype=np.float64)
    pv = np.asarray(pelvis_m, dtype=np.float64)
    if rv.shape != (NUM_JOINTS, 3):
        raise ValueError(f"rotvecs must have shape ({NUM_JOINTS}, 3), got {rv.shape}")
    if pv.shape != (3,):
        raise ValueError(f"pelvis_m must have shape (3,), got {pv.shape}")
    return encode_poses(rv[None], pv[None], np.array([valid]))[0].tobytes()


def decode_pose(blob: bytes | bytearray | memoryview) -> DecodedPose:
    """Decode one 104-byte blob."""
    if len(blob) != POSE_BYTES:
        raise ValueError(f"pose blob has {len(blob)} bytes, expected {POSE_BYTES}")
    return decode_poses(blob)[0]


def camera_to_wire(
    global_orient_rotvec: np.ndarray, pelvis_cam: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV camera frame -> y-up wire frame, for (..., 3) global orientations and pelvis
    positions: R_wire = Rx(180) @ R_cam, p_wire = (x, -y, -z). Local joint rotations (1..23) are
    frame-independent and need no conversion."""
    go = np.asarray(global_orient_rotvec, dtype=np.float64)
    p = np.asarray(pelvis_cam, dtype=np.float64)
    if go.shape[-1:] != (3,) or p.shape[-1:] != (3,):
        raise ValueError(f"expected (..., 3) arrays, got {go.shape} and {p.shape}")
    r = _RX180 * Rotation.from_rotvec(go.reshape(-1, 3))
    return r.as_rotvec().reshape(go.shape), p * np.array([1.0, -1.0, -1.0])


def wire_to_camera(
    global_orient_rotvec: np.ndarray, pelvis_wire: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`camera_to_wire` (Rx(180) is its own inverse)."""
    return camera_to_wire(global_orient_rotvec, pelvis_wire)


def rotation_error_deg(rotvecs_a: np.ndarray, rotvecs_b: np.ndarray) -> np.ndarray:
    """Geodesic angle (degrees) between two (..., 3) rotvec arrays, elementwise."""
    a = np.asarray(rotvecs_a, dtype=np.float64)
    b = np.asarray(rotvecs_b, dtype=np.float64)
    rel = Rotation.from_rotvec(a.reshape(-1, 3)).inv() * Rotation.from_rotvec(b.reshape(-1, 3))
    return np.degrees(rel.magnitude()).reshape(a.shape[:-1])


def _pack_quats(q: np.ndarray) -> np.ndarray:
    """(N, 4) scipy-order (x, y, z, w) quaternions -> (N,) uint32 smallest-three codes."""
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    rows = np.arange(q.shape[0])
    largest = np.argmax(np.abs(q), axis=1)  # ties: lowest index
    # q and -q are the same rotation; choose the sign that makes the dropped component positive.
    q = q * np.where(q[rows, largest] < 0.0, -1.0, 1.0)[:, None]
    keep = np.ones_like(q, dtype=bool)
    keep[rows, largest] = False
    rest = q[keep].reshape(-1, 3)  # remaining three, still in x, y, z, w order
    codes = np.clip(np.rint((rest + _INV_SQRT2) / _SPAN * _LEVELS), 0, _LEVELS).astype(np.uint32)
    return (
        (largest.astype(np.uint32) << 30) | (codes[:, 0] << 20) | (codes[:, 1] << 10) | codes[:, 2]
    )


def _unpack_quats(packed: np.ndarray) -> np.ndarray:
    """(N,) uint32 codes -> (N, 4) quaternions (x, y, z, w), not renormalised."""
    largest = (packed >> 30).astype(np.intp)
    codes = np.stack([(packed >> 20) & 0x3FF, (packed >> 10) & 0x3FF, packed & 0x3FF], axis=1)
    rest = codes.astype(np.float64) / _LEVELS * _SPAN - _INV_SQRT2
    dropped = np.sqrt(np.maximum(0.0, 1.0 - np.sum(rest * rest, axis=1)))
    q = np.empty((packed.shape[0], 4))
    rows = np.arange(packed.shape[0])
    keep = np.ones_like(q, dtype=bool)
    keep[rows, largest] = False
    q[keep] = rest.reshape(-1)
    q[rows, largest] = dropped
    return q
