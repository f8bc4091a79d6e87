"""Per-frame SMPL record used at the smoothing interface (and a batched form for files).

Rotations are axis-angle (rotvec) as everywhere at interfaces (docs/CONTRIBUTING-internal.md);
quaternions only live inside the filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

# The body's constants, re-exported for the smoothing package: it defines none of its own.
from coach_backend.body.skeleton import NUM_BETAS as NUM_BETAS
from coach_backend.body.skeleton import NUM_BODY_JOINTS as NUM_BODY_JOINTS
from coach_backend.body.skeleton import NUM_JOINTS as NUM_JOINTS


def _as_f64(x: object, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != shape:
        if arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)  # accept flat (69,) body_pose etc.
        else:
            raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    return arr


@dataclass(eq=False)  # arrays inside: element-wise == would be ambiguous
class SmplFrame:
    """One frame of SMPL parameters for one person.

    global_orient: (3,) rotvec (camera frame, OpenCV axes); body_pose: (23, 3) local rotvecs;
    betas: (B,) shape, normally B = NUM_BETAS; transl: (3,) metres; valid: False = no person
    this frame (the pose fields then carry no meaning); timestamp_s: capture time in seconds.
    """

    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    valid: bool = True
    timestamp_s: float = 0.0

    def __post_init__(self) -> None:
        self.global_orient = _as_f64(self.global_orient, (3,), "global_orient")
        self.body_pose = _as_f64(self.body_pose, (NUM_BODY_JOINTS, 3), "body_pose")
        betas = np.asarray(self.betas, dtype=np.float64)
        if betas.ndim != 1:
            raise ValueError(f"betas: expected a 1-D array, got shape {betas.shape}")
        self.betas = betas
        self.transl = _as_f64(self.transl, (3,), "transl")
        self.valid = bool(self.valid)
        self.timestamp_s = float(self.timestamp_s)

    @classmethod
    def invalid(cls, timestamp_s: float, num_betas: int = NUM_BETAS) -> SmplFrame:
        """A 'no person' frame (zero pose)."""
        return cls(
            global_orient=np.zeros(3),
            body_pose=np.zeros((NUM_BODY_JOINTS, 3)),
            betas=np.zeros(num_betas),
            transl=np.zeros(3),
            valid=False,
            timestamp_s=timestamp_s,
        )

    def rotvecs(self) -> np.ndarray:
        """All 24 joint rotations stacked, (24, 3), index 0 = global_orient."""
        return np.concatenate([self.global_orient[None], self.body_pose], axis=0)

    def is_finite(self) -> bool:
        return bool(
            np.isfinite(self.global_orient).all()
            and np.isfinite(self.body_pose).all()
            and np.isfinite(self.betas).all()
            and np.isfinite(self.transl).all()
            and np.isfinite(self.timestamp_s)
        )

    def copy(self, **changes: object) -> SmplFrame:
        """Deep copy of the arrays, with optional field changes."""
        base = replace(
            self,
            global_orient=self.global_orient.copy(),
            body_pose=self.body_pose.copy(),
            betas=self.betas.copy(),
            transl=self.transl.copy(),
        )
        return replace(base, **changes) if changes else base


@dataclass(eq=False)  # arrays inside: element-wise == would be ambiguous
class SmplSequence:
    """T frames as stacked arrays (recorded files, benchmarks): same fields as SmplFrame.

    global_orient (T, 3), body_pose (T, 23, 3), betas (T, B), transl (T, 3), valid (T,) bool,
    timestamp_s (T,) seconds, strictly increasing.
    """

    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    valid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    timestamp_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.global_orient = np.asarray(self.global_orient, dtype=np.float64)
        n = self.global_orient.shape[0] if self.global_orient.ndim == 2 else -1
        if n < 0 or self.global_orient.shape != (n, 3):
            raise ValueError(f"global_orient: expected (T, 3), got {self.global_orient.shape}")
        self.body_pose = np.asarray(self.body_pose, dtype=np.float64).reshape(n, NUM_BODY_JOINTS, 3)
        self.betas = np.asarray(self.betas, dtype=np.float64)
        if self.betas.ndim != 2 or self.betas.shape[0] != n:
            raise ValueError(f"betas: expected (T, B), got {self.betas.shape}")
        self.transl = _as_f64(self.transl, (n, 3), "transl")
        valid = np.asarray(self.valid, dtype=bool)
        self.valid = np.ones(n, dtype=bool) if valid.size == 0 and n > 0 else valid
        if self.valid.shape != (n,):
            raise ValueError(f"valid: expected ({n},), got {self.valid.shape}")
        ts = np.asarray(self.timestamp_s, dtype=np.float64)
        if ts.size == 0 and n > 0:
            raise ValueError("timestamp_s is required")
        if ts.shape != (n,):
            raise ValueError(f"timestamp_s: expected ({n},), got {ts.shape}")
        self.timestamp_s = ts

    def __len__(self) -> int:
        return int(self.global_orient.shape[0])

    def rotvecs(self) -> np.ndarray:
        """(T, 24, 3), joint 0 = global_orient."""
        return np.concatenate([self.global_orient[:, None], self.body_pose], axis=1)

    @classmethod
    def from_frames(cls, frames: Sequence[SmplFrame]) -> SmplSequence:
        if not frames:
            raise ValueError("no frames")
        return cls(
            global_orient=np.stack([f.global_orient for f in frames]),
            body_pose=np.stack([f.body_pose for f in frames]),
            betas=np.stack([f.betas for f in frames]),
            transl=np.stack([f.transl for f in frames]),
            valid=np.array([f.valid for f in frames], dtype=bool),
            timestamp_s=np.array([f.timestamp_s for f in frames], dtype=np.float64),
        )

    def to_frames(self) -> list[SmplFrame]:
        return [self.frame(i) for i in range(len(self))]

    def frame(self, i: int) -> SmplFrame:
        return SmplFrame(
            global_orient=self.global_orient[i].copy(),
            body_pose=self.body_pose[i].copy(),
            betas=self.betas[i].copy(),
            transl=self.transl[i].copy(),
            valid=bool(self.valid[i]),
            timestamp_s=float(self.timestamp_s[i]),
        )

    def copy(self) -> SmplSequence:
        return SmplSequence(
            global_orient=self.global_orient.copy(),
            body_pose=self.body_pose.copy(),
            betas=self.betas.copy(),
            transl=self.transl.copy(),
            valid=self.valid.copy(),
            timestamp_s=self.timestamp_s.copy(),
        )
