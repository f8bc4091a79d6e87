"""Offline smoothing of recorded sequences: zero-phase (forward-backward) filtering."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

import numpy as np
from scipy.spatial.transform import Rotation

from .causal import CausalSmoother
from .config import SmoothingConfig
from .types import NUM_JOINTS, SmplFrame, SmplSequence

SmoothingMode = Literal["zero_phase", "causal"]


@overload
def smooth_sequence(
    data: SmplSequence, config: SmoothingConfig | None = ..., mode: SmoothingMode = ...
) -> SmplSequence: ...
@overload
def smooth_sequence(
    data: Sequence[SmplFrame], config: SmoothingConfig | None = ..., mode: SmoothingMode = ...
) -> list[SmplFrame]: ...


def smooth_sequence(
    data: SmplSequence | Sequence[SmplFrame],
    config: SmoothingConfig | None = None,
    mode: SmoothingMode = "zero_phase",
) -> SmplSequence | list[SmplFrame]:
    """Smooth a whole recording; returns the same container type it was given.

    mode="zero_phase": Butterworth low-pass run forward and backward (no lag) on
    sign-continuous quaternions (then renormalised) and on translation, separately for each
    run of valid frames (a run also ends at a time gap > config.gap_reset_s), so invalid
    frames stay invalid and never leak into their neighbours. Betas: per-component median over
    each person track (runs closer than config.betas_reset_s belong to the same track).
    mode="causal": CausalSmoother over the frames in order (what the live path would show).
    """
    cfg = config or SmoothingConfig()
    seq = data if isinstance(data, SmplSequence) else SmplSequence.from_frames(list(data))
    if mode == "zero_phase":
        out = _zero_phase(seq, cfg)
    elif mode == "causal":
        smoother = CausalSmoother(cfg)
        out = SmplSequence.from_frames([smoother.update(f) for f in seq.to_frames()])
    else:
        raise ValueError(f"unknown mode {mode!r}; expected 'zero_phase' or 'causal'")
    return out if isinstance(data, SmplSequence) else out.to_frames()


def sign_continuous(quats: np.ndarray) -> np.ndarray:
    """Flip quaternions (T, ..., 4) along time so each lies in the hemisphere of the previous
    one; q and -q are the same rotation but only a continuous path can be filtered linearly."""
    q = np.array(quats, dtype=np.float64, copy=True)
    if len(q) < 2:
        return q
    step_sign = np.where(np.sum(q[1:] * q[:-1], axis=-1) < 0, -1.0, 1.0)
    # Cumulative: once a sample is flipped, everything after it is relative to the flipped one.
    signs = np.concatenate([np.ones_like(step_sign[:1]), np.cumprod(step_sign, axis=0)])
    return q * signs[..., None]


def valid_segments(
    timestamp_s: np.ndarray, valid: np.ndarray, max_gap_s: float
) -> list[tuple[int, int]]:
    """[start, stop) index ranges of consecutive valid frames, also split where the time between
    two valid frames exceeds max_gap_s (dropped frames without invalid markers)."""
    segments: list[tuple[int, int]] = []
    start: int | None = None
    for i in range(len(valid)):
        if not valid[i]:
            if start is not None:
                segments.append((start, i))
                start = None
            continue
        if start is not None and timestamp_s[i] - timestamp_s[i - 1] > max_gap_s:
            segments.append((start, i))
            start = i
        if start is None:
            start = i
    if start is not None:
        segments.append((start, len(valid)))
    return segments


def _lowpass_uniform(x: np.ndarray, dt: float, cfg: SmoothingConfig) -> np.ndarray:
    n = len(x)
    wn = cfg.zero_phase_cutoff_hz * 2.0 * dt  # cutoff / Nyquist
    if n < 2 or wn >= 1.0:
        return x.copy()  # nothing to smooth (single frame, or cutoff above Nyquist)
    # Imported here: scipy.signal takes ~1 s to import, and a replay's first poses (the live
    # smoother) must not wait for what only its last step needs.
    from scipy.signal import butter, filtfilt

    b, a = butter(cfg.zero_phase_order, wn)
    # Short runs: shrink the edge padding instead of refusing (filtfilt needs n > padlen).
    padlen = min(3 * max(len(a), len(b)), n - 1)
    return filtfilt(b, a, x, axis=0, padlen=padlen)


def _lowpass_timed(x: np.ndarray, ts: np.ndarray, cfg: SmoothingConfig) -> np.ndarray:
    """Zero-phase low-pass of x (T, ...) sampled at times ts. Irregular timing is handled by
    resampling to a uniform grid (the median step), filtering, and sampling back."""
    if len(x) < 2:
        return x.copy()
    dts = np.diff(ts)
    dt = float(np.median(dts))
    if dt <= 0:
        return x.copy()
    if np.allclose(dts, dt, rtol=0.05, atol=1e-4):
        return _lowpass_uniform(x, dt, cfg)
    flat = x.reshape(len(x), -1)
    grid = ts[0] + dt * np.arange(int(np.floor((ts[-1] - ts[0]) / dt + 1e-9)) + 1)
    on_grid = np.stack([np.interp(grid, ts, col) for col in flat.T], axis=1)
    smooth = _lowpass_uniform(on_grid, dt, cfg)
    back = np.stack([np.interp(ts, grid, col) for col in smooth.T], axis=1)
    return back.reshape(x.shape)


def _zero_phase(seq: SmplSequence, cfg: SmoothingConfig) -> SmplSequence:
    out = seq.copy()
    finite = (
        np.isfinite(seq.rotvecs()).all(axis=(1, 2))
        & np.isfinite(seq.transl).all(axis=1)
        & np.isfinite(seq.betas).all(axis=1)
    )
    out.valid = seq.valid & finite
    ts = seq.timestamp_s
    segments = valid_segments(ts, out.valid, cfg.gap_reset_s)
    rotvecs = seq.rotvecs()
    for s, e in segments:
        n = e - s
        quats = Rotation.from_rotvec(rotvecs[s:e].reshape(-1, 3)).as_quat()
        quats = sign_continuous(quats.reshape(n, NUM_JOINTS, 4))
        quats = _lowpass_timed(quats, ts[s:e], cfg)
        quats /= np.linalg.norm(quats, axis=-1, keepdims=True)
        rv = Rotation.from_quat(quats.reshape(-1, 4)).as_rotvec().reshape(n, NUM_JOINTS, 3)
        out.global_orient[s:e] = rv[:, 0]
        out.body_pose[s:e] = rv[:, 1:]
        out.transl[s:e] = _lowpass_timed(seq.transl[s:e], ts[s:e], cfg)

    # Betas: one robust value per person track (runs separated by <= betas_reset_s).
    track: list[int] = []
    for k, (s, _e) in enumerate(segments):
        if track and ts[s] - ts[segments[k - 1][1] - 1] > cfg.betas_reset_s:
            _fill_betas(out, seq, segments, track)
            track = []
        track.append(k)
    if track:
        _fill_betas(out, seq, segments, track)
    return out


def _fill_betas(
    out: SmplSequence, seq: SmplSequence, segments: list[tuple[int, int]], track: list[int]
) -> None:
    idx = np.concatenate([np.arange(*segments[k]) for k in track])
    median = np.median(seq.betas[idx], axis=0)
    out.betas[idx] = median
