"""Accuracy metrics in millimetres: MPJPE, PA-MPJPE, MPVPE, acceleration error."""

from __future__ import annotations

import numpy as np


def procrustes_align(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(B,N,3) predicted points after the similarity transform (rotation, translation, scale)
    that best fits them to target (Umeyama), per sample."""
    mu_p = predicted.mean(1, keepdims=True)
    mu_t = target.mean(1, keepdims=True)
    p, t = predicted - mu_p, target - mu_t
    cov = np.einsum("bni,bnj->bij", t, p)
    u, s, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u @ vt))
    d = np.ones_like(s)
    d[:, -1] = sign
    rot = u @ (d[:, :, None] * vt)
    scale = (s * d).sum(1) / (p**2).sum((1, 2))
    return scale[:, None, None] * np.einsum("bij,bnj->bni", rot, p) + mu_t


def mpjpe(predicted: np.ndarray, target: np.ndarray, root: int | None = 0) -> np.ndarray:
    """(B,) mean joint error (mm) after aligning the root joint (or none if root is None)."""
    if root is not None:
        predicted = predicted - predicted[:, root : root + 1]
        target = target - target[:, root : root + 1]
    return np.linalg.norm(predicted - target, axis=-1).mean(1) * 1000.0


def pa_mpjpe(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(B,) mean joint error (mm) after Procrustes alignment."""
    return mpjpe(procrustes_align(predicted, target), target, root=None)


def acceleration_error(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean |second difference| error (mm/frame^2) over a (T,N,3) root-aligned sequence."""
    p = predicted - predicted[:, :1]
    t = target - target[:, :1]
    acc_p = p[2:] - 2 * p[1:-1] + p[:-2]
    acc_t = t[2:] - 2 * t[1:-1] + t[:-2]
    return float(np.linalg.norm(acc_p - acc_t, axis=-1).mean() * 1000.0)
