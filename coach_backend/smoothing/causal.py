"""Causal (live) smoothing: One-Euro filters on joint quaternions and pelvis translation,
plus a robust running mean of betas."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from .config import SmoothingConfig
from .types import SmplFrame


def one_euro_alpha(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray:
    """Smoothing factor of a first-order low-pass with this cutoff, for a step of dt seconds.

    Derived from the time constant rather than fixed per frame so that variable frame
    timing (dropped or late frames) gives the same response in seconds.
    """
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff_hz, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


class RotationOneEuro:
    """One-Euro filter on N rotations at once (e.g. the 24 SMPL joints).

    The update is a slerp from the previous estimate towards the new sample by the One-Euro
    factor. It is computed as prev * exp(alpha * log(prev^-1 * new)): scipy's log (as_rotvec)
    of the relative rotation always takes the short way (angle <= pi), which is exactly the
    quaternion hemisphere alignment to the previous estimate, so sign flips or 2*pi-equivalent
    rotvecs in the input cannot make the filter swing the long way round.
    """

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float) -> None:
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self._rot: Rotation | None = None
        self._omega: np.ndarray | None = None  # filtered angular velocity, rad/s, (N, 3)

    def reset(self) -> None:
        self._rot = None
        self._omega = None

    @property
    def initialised(self) -> bool:
        return self._rot is not None

    def __call__(self, rot: Rotation, dt: float) -> Rotation:
        if self._rot is None or self._omega is None:
            self._rot = rot
            self._omega = np.zeros((len(rot), 3))
            return rot
        delta = (self._rot.inv() * rot).as_rotvec()  # (N, 3), local frame of the estimate
        # Speed from the step to the *filtered* previous value, as in the original One-Euro.
        self._omega += one_euro_alpha(self.d_cutoff_hz, dt) * (delta / dt - self._omega)
        cutoff = self.min_cutoff_hz + self.beta * np.linalg.norm(self._omega, axis=-1)
        alpha = one_euro_alpha(cutoff, dt)
        self._rot = self._rot * Rotation.from_rotvec(alpha[:, None] * delta)
        return self._rot


class VectorOneEuro:
    """One-Euro filter on a vector (e.g. translation). One cutoff for the whole vector, from
    its speed norm, so all axes lag alike and the path direction is not distorted."""

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float) -> None:
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    def reset(self) -> None:
        self._x = None
        self._dx = None

    def __call__(self, x: np.ndarray, dt: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._dx is None:
            self._x = x.copy()
            self._dx = np.zeros_like(x)
            return self._x.copy()
        step = x - self._x
        self._dx += one_euro_alpha(self.d_cutoff_hz, dt) * (step / dt - self._dx)
        cutoff = self.min_cutoff_hz + self.beta * float(np.linalg.norm(self._dx))
        self._x = self._x + one_euro_alpha(cutoff, dt) * step
        return self._x.copy()


class RobustBetasMean:
    """Running Huber-weighted mean of per-frame betas.

    Body shape does not change within a track, so the best live estimate is an average over
    all frames seen; the Huber weight (delta / distance for far samples) keeps a few bad
    frames (occlusion, truncation) from pulling it. The effective count is capped at `window`
    so that early, noisier frames are slowly forgotten.
    """

    def __init__(self, huber_delta: float, window: int) -> None:
        self.huber_delta = huber_delta
        self.window = window
        self._mean: np.ndarray | None = None
        self._weight = 0.0

    def reset(self) -> None:
        self._mean = None
        self._weight = 0.0

    @property
    def mean(self) -> np.ndarray | None:
        return None if self._mean is None else self._mean.copy()

    def update(self, betas: np.ndarray) -> np.ndarray:
        betas = np.asarray(betas, dtype=np.float64)
        if self._mean is None or self._mean.shape != betas.shape:
            self._mean = betas.copy()
            self._weight = 1.0
            return self._mean.copy()
        dist = float(np.linalg.norm(betas - self._mean))
        w = 1.0 if dist <= self.huber_delta else self.huber_delta / dist
        self._weight = min(self._weight + w, float(self.window))
        self._mean += (w / self._weight) * (betas - self._mean)
        return self._mean.copy()


class CausalSmoother:
    """Live per-frame smoother: one SmplFrame in, one smoothed SmplFrame out, no look-ahead.

    - 24 joint rotations (global_orient + body_pose): RotationOneEuro on quaternions.
    - transl: VectorOneEuro. betas: RobustBetasMean.
    - Frame timing comes from timestamp_s (variable frame rate is fine).
    - Invalid (or non-finite) frames come back unchanged with valid=False and do not touch the
      filter state. If the person was missing for more than config.gap_reset_s the pose filters
      restart from the reacquired frame; after config.betas_reset_s the betas restart too.
      A timestamp going backwards is treated as a new stream (full reset).
    """

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        c = self.config
        self._rot = RotationOneEuro(c.min_cutoff_hz, c.beta, c.d_cutoff_hz)
        self._transl = VectorOneEuro(c.transl_min_cutoff_hz, c.transl_beta, c.d_cutoff_hz)
        self._betas = RobustBetasMean(c.betas_huber_delta, c.betas_window)
        self._last_valid_t: float | None = None

    def reset(self) -> None:
        """Forget everything (new stream or new person)."""
        self._rot.reset()
        self._transl.reset()
        self._betas.reset()
        self._last_valid_t = None

    def update(self, frame: SmplFrame) -> SmplFrame:
        if not frame.valid or not frame.is_finite():
            return frame.copy(valid=False)
        c = self.config
        t = frame.timestamp_s
        gap = None if self._last_valid_t is None else t - self._last_valid_t
        if gap is None or gap < 0 or gap > c.betas_reset_s:
            self.reset()
        elif gap > c.gap_reset_s:
            self._rot.reset()
            self._transl.reset()
        dt = gap if gap is not None and gap > 0 else 1.0 / c.nominal_fps
        self._last_valid_t = t

        rot = self._rot(Rotation.from_rotvec(frame.rotvecs()), dt).as_rotvec()
        return SmplFrame(
            global_orient=rot[0],
            body_pose=rot[1:],
            betas=self._betas.update(frame.betas),
            transl=self._transl(frame.transl, dt),
            valid=True,
            timestamp_s=t,
        )
