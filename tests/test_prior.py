"""Pose prior: held-out poses are plausible, broken ones are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from coach_backend.mocap import load_bvh, retarget
from coach_backend.prior import (
    POSE_PRIOR_PATH,
    UNNATURAL_FAMILIES,
    PosePrior,
    fit_gmm,
    load_pose_prior,
    mirror_body_pose,
    unnatural_poses,
)

FIX = Path(__file__).parent / "fixtures" / "cmu"
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def prior() -> PosePrior:
    assert POSE_PRIOR_PATH.is_file(), "coach_backend/models/pose_prior.npz is committed"
    return load_pose_prior()


@pytest.fixture(scope="module")
def held_out() -> np.ndarray:
    # Both fixtures are cut from held-out (test-split) trials.
    return np.concatenate([retarget(load_bvh(p)).body_pose for p in sorted(FIX.glob("*.bvh"))])


def _nll(prior: PosePrior, pose: np.ndarray) -> np.ndarray:
    return prior.nll(torch.as_tensor(pose, dtype=torch.float32)).numpy()


def test_prior_orders_natural_below_unnatural(prior: PosePrior, held_out: np.ndarray) -> None:
    natural = _nll(prior, held_out)
    rng = np.random.default_rng(0)
    medians = {
        f: np.median(_nll(prior, unnatural_poses(held_out, f, rng))) for f in UNNATURAL_FAMILIES
    }
    nat = np.median(natural)
    # Natural held-out poses are typical; every broken family is clearly worse (tens of nats).
    assert medians["knees_backward"] > nat + 30
    assert medians["elbows_backward"] > nat + 30
    assert medians["random_rotations"] > nat + 1000
    # And per pose: most broken poses score worse than the 90th percentile of natural ones.
    p90 = np.percentile(natural, 90)
    for f in ("knees_backward", "elbows_backward"):
        broken = _nll(prior, unnatural_poses(held_out, f, np.random.default_rng(1)))
        assert (broken > p90).mean() > 0.8, f


def test_nll_is_batched_differentiable_and_bounded(prior: PosePrior, held_out: np.ndarray) -> None:
    x = torch.as_tensor(held_out[:64], dtype=torch.float32).requires_grad_(True)
    nll = prior.nll(x)
    assert nll.shape == (64,)
    nll.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    # SMPLify's min-over-components is an upper bound of the exact mixture NLL.
    with torch.no_grad():
        assert (prior.nll(x, approx_min=True) >= prior.nll(x) - 1e-4).all()
    with pytest.raises(ValueError):
        prior.nll(torch.zeros(2, 69))


def test_mirror_is_an_involution_and_prior_is_symmetric(prior: PosePrior, held_out) -> None:
    np.testing.assert_allclose(mirror_body_pose(mirror_body_pose(held_out)), held_out)
    a, b = _nll(prior, held_out), _nll(prior, mirror_body_pose(held_out))
    # Fitted on mirror-augmented data: mirrored poses score about the same.
    assert abs(np.median(a) - np.median(b)) < 5.0


def test_em_recovers_a_toy_mixture() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal([0, 0], [0.3, 0.1], size=(600, 2))
    b = rng.normal([3, 1], [0.1, 0.5], size=(400, 2))
    gmm, _ = fit_gmm(np.concatenate([a, b]), 2, reg_covar=1e-6, seed=0)
    order = np.argsort(gmm.means[:, 0])
    np.testing.assert_allclose(gmm.weights[order], [0.6, 0.4], atol=0.03)
    np.testing.assert_allclose(gmm.means[order], [[0, 0], [3, 1]], atol=0.06)
    np.testing.assert_allclose(
        np.sqrt(np.diagonal(gmm.covariances[order], axis1=1, axis2=2)),
        [[0.3, 0.1], [0.1, 0.5]],
        atol=0.04,
    )
