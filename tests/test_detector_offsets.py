"""Detector-offset estimator and application (no MediaPipe, no renders)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from coach_backend.perception.detector_offsets import (
    apply_detector_offsets,
    fit_offset,
    projection_jacobian,
)


def synthetic_residuals(
    offset: np.ndarray, n: int, noise_px: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keypoints 2.5-6 m in front of a 600 px camera, random anchor rotations, exact projection
    of keypoint + R @ offset minus projection of the keypoint, plus pixel noise and 5% gross
    errors (a detector's left/right swaps)."""
    rng = np.random.default_rng(seed)
    f = 600.0
    points = np.c_[rng.uniform(-1, 1, (n, 2)), rng.uniform(2.5, 6.0, n)]
    rot = Rotation.random(n, random_state=seed).as_matrix()
    moved = points + rot @ offset

    def px(p: np.ndarray) -> np.ndarray:
        return f * p[:, :2] / p[:, 2:]

    resid = px(moved) - px(points) + rng.normal(0, noise_px, (n, 2))
    gross = rng.random(n) < 0.05
    resid[gross] += rng.normal(0, 40.0, (gross.sum(), 2))
    return projection_jacobian(points, f, f), rot, resid, f * 1.7 / points[:, 2]


def test_fit_offset_recovers_known_offset() -> None:
    truth = np.array([0.03, -0.05, 0.02])
    jac, rot, resid, height = synthetic_residuals(truth, 3000, noise_px=2.0)
    fit = fit_offset(jac, rot, resid, height)
    np.testing.assert_allclose(fit.offset, truth, atol=4e-3)
    assert 0.85 <= fit.inliers.mean() <= 0.95
    # Plain least squares is pulled by the gross errors; the trimmed fit is not.
    plain = fit_offset(jac, rot, resid, height, trim=0.0, iterations=1)
    assert np.linalg.norm(fit.offset - truth) < np.linalg.norm(plain.offset - truth)


def test_fit_offset_zero_offset_is_zero() -> None:
    jac, rot, resid, height = synthetic_residuals(np.zeros(3), 2000, noise_px=1.0, seed=1)
    assert np.abs(fit_offset(jac, rot, resid, height).offset).max() < 3e-3


def test_apply_zero_offsets_is_identity() -> None:
    g = torch.Generator().manual_seed(0)
    keypoints = torch.randn(4, 23, 3, generator=g)
    transforms = torch.eye(4).repeat(4, 24, 1, 1)
    transforms[:, :, :3, :3] = torch.as_tensor(
        Rotation.random(4 * 24, random_state=0).as_matrix(), dtype=torch.float32
    ).reshape(4, 24, 3, 3)
    anchors = np.arange(23) % 24
    out = apply_detector_offsets(keypoints, transforms, anchors, np.zeros((23, 3)))
    torch.testing.assert_close(out, keypoints)


def test_apply_rotates_offsets_with_anchor() -> None:
    keypoints = torch.zeros(2, 23, 3)
    transforms = torch.eye(4).repeat(2, 24, 1, 1)
    # Sample 1: joint 15 turned 90 deg about y (x -> -z), joint 0 about z (x -> y).
    transforms[1, 15, :3, :3] = torch.tensor([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]])
    transforms[1, 0, :3, :3] = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    transforms[:, :, :3, 3] = 5.0  # translations must not leak into the offset
    anchors = np.zeros(23, np.int64)
    anchors[0] = 15
    offsets = np.zeros((23, 3))
    offsets[0] = (0.1, 0.0, 0.0)
    offsets[11] = (0.1, 0.0, 0.0)
    out = apply_detector_offsets(keypoints, transforms, anchors, offsets)
    torch.testing.assert_close(out[0, 0], torch.tensor([0.1, 0.0, 0.0]))
    torch.testing.assert_close(out[1, 0], torch.tensor([0.0, 0.0, -0.1]))
    torch.testing.assert_close(out[1, 11], torch.tensor([0.0, 0.1, 0.0]))
    assert out[:, [i for i in range(23) if i not in (0, 11)]].abs().max() == 0


def test_apply_matches_body_model_frames() -> None:
    """On the real body: an offset in a joint's frame moves with that joint's posed rotation."""
    from coach_backend.body import BodyParams, load_body_model

    body = load_body_model()
    params = BodyParams.zeros(2)
    params.body_pose[1, 15] = torch.tensor([0.0, 0.0, -1.2])  # left shoulder (joint 16) down
    with torch.no_grad():
        out = body(params, torch.zeros(0, dtype=torch.long))
    anchors = np.zeros(23, np.int64)
    anchors[9] = 18  # left wrist moves with the left elbow joint (the forearm)
    offsets = np.zeros((23, 3))
    offsets[9] = (0.05, 0.0, 0.0)  # along the T-pose arm
    moved = apply_detector_offsets(out.keypoints, out.joint_transforms, anchors, offsets)
    shift = moved - out.keypoints
    torch.testing.assert_close(shift[0, 9], torch.tensor([0.05, 0.0, 0.0]))
    # With the arm lowered, "along the arm" points down and out, still 5 cm long.
    assert shift[1, 9, 1] < -0.04
    torch.testing.assert_close(shift[1, 9].norm(), torch.tensor(0.05))
