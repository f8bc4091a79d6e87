"""The hot-path rotation maps agree with roma and scipy (they replace roma only for start-up)."""

from __future__ import annotations

import numpy as np
import roma
import torch
from scipy.spatial.transform import Rotation

from coach_backend.gcssn.rotations import rotmat_to_rotvec, rotvec_to_rotmat, six_d_to_rotmat


def test_six_d_matches_roma_and_is_a_rotation() -> None:
    columns = torch.randn(5, 7, 3, 2, generator=torch.Generator().manual_seed(0))
    ours = six_d_to_rotmat(columns)
    torch.testing.assert_close(ours, roma.special_gramschmidt(columns), atol=1e-6, rtol=0)
    eye = torch.eye(3).expand(5, 7, 3, 3)
    torch.testing.assert_close(ours @ ours.transpose(-1, -2), eye, atol=1e-5, rtol=0)
    assert torch.allclose(torch.linalg.det(ours), torch.ones(5, 7), atol=1e-5)


def test_rotvec_round_trip_matches_scipy_and_has_gradients_at_zero() -> None:
    rotvecs = Rotation.random(6, random_state=1).as_rotvec().reshape(2, 3, 3)
    ours = rotvec_to_rotmat(torch.as_tensor(rotvecs, dtype=torch.float64))
    expected = Rotation.from_rotvec(rotvecs.reshape(-1, 3)).as_matrix().reshape(2, 3, 3, 3)
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(rotmat_to_rotvec(ours).numpy(), rotvecs, atol=1e-6)
    zero = torch.zeros(4, 3, requires_grad=True)
    (rotvec_to_rotmat(zero) * torch.randn(4, 3, 3)).sum().backward()
    assert torch.isfinite(zero.grad).all() and zero.grad.abs().sum() > 0
