"""Rotation conversions used on the hot path, in torch and differentiable.

Why not roma here: importing roma loads torch._dynamo (~1.2 s on this CPU), most of a replay's
start-up budget. The 6D -> matrix map and Rodrigues' formula are a few lines (the latter is
smplx's); matrix -> axis-angle with gradients is only needed by training-time losses, which
import roma on first use.
"""

from __future__ import annotations

import torch
from smplx.lbs import batch_rodrigues


def six_d_to_rotmat(columns: torch.Tensor) -> torch.Tensor:
    """(...,3,2) two unnormalised columns -> (...,3,3) rotation (Gram-Schmidt; Zhou et al.'s
    continuous 6D representation)."""
    x = torch.nn.functional.normalize(columns[..., 0], dim=-1)
    y = columns[..., 1] - (x * columns[..., 1]).sum(-1, keepdim=True) * x
    y = torch.nn.functional.normalize(y, dim=-1)
    return torch.stack([x, y, torch.linalg.cross(x, y)], dim=-1)


def rotvec_to_rotmat(rotvecs: torch.Tensor) -> torch.Tensor:
    """(...,3) axis-angle -> (...,3,3), differentiable (also at zero)."""
    return batch_rodrigues(rotvecs.reshape(-1, 3)).reshape(*rotvecs.shape[:-1], 3, 3)


def rotmat_to_rotvec(rotmats: torch.Tensor) -> torch.Tensor:
    """(...,3,3) -> (...,3) axis-angle, differentiable (roma, imported on first use)."""
    import roma

    return roma.rotmat_to_rotvec(rotmats)


def nearest_rotation(matrices: torch.Tensor) -> torch.Tensor:
    """(...,3,3) any matrices -> the nearest rotations (Frobenius; SVD with the sign fixed).
    Applied to a sum of rotations it gives their chordal mean."""
    u, _, vt = torch.linalg.svd(matrices)
    sign = torch.sign(torch.linalg.det(u @ vt))
    fix = torch.ones(*matrices.shape[:-2], 3, dtype=matrices.dtype)
    fix[..., -1] = sign
    return u @ (fix[..., None] * vt)
