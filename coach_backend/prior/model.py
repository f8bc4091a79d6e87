"""PosePrior: a differentiable negative log-likelihood of SMPL body poses (torch)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from coach_backend.resources import model_path

POSE_PRIOR_FILE = "pose_prior.npz"
POSE_PRIOR_PATH = model_path(POSE_PRIOR_FILE)  # as resolved at import; `load` re-resolves

# The GMM covers body joints 1..21 (body_pose rows 0..20). SMPL's two hand joints (rows 21, 22)
# never move in CMU (no finger capture), so they get a separate broad zero-mean Gaussian.
MODELED_ROWS = tuple(range(21))
HAND_ROWS = (21, 22)
# Hinge term (as SMPLify's angle prior): a Gaussian is symmetric about its mean, so it penalises
# a knee bent the wrong way no more than one bent too far the right way. Flexion is +x for knees,
# -y / +y for the left / right elbow; bending the other way beyond a small margin (CMU knees reach
# ~7 deg of natural hyperextension) costs 0.5 * (excess / sigma)^2.
HINGES = ((3, 0, 1.0), (4, 0, 1.0), (17, 1, -1.0), (18, 1, 1.0))  # (row, axis, flexion sign)
HINGE_MARGIN = 0.1  # rad
HINGE_SIGMA = 0.1  # rad


class PosePrior(torch.nn.Module):
    """Gaussian mixture over the 63-D axis-angle of body joints 1..21, plus a hand term and a
    knee/elbow hinge term.

    ``nll(body_pose (B,23,3)) -> (B,)``: exact mixture NLL via log-sum-exp (or SMPLify's
    min-over-components bound with ``approx_min=True``), in nats, including constants, so
    values are comparable across poses and files.
    """

    def __init__(
        self,
        weights: np.ndarray,
        means: np.ndarray,
        precision_chol: np.ndarray,
        hand_sigma: float,
    ) -> None:
        super().__init__()
        k, d = means.shape
        prec = torch.as_tensor(precision_chol, dtype=torch.float32)
        log_det = torch.log(torch.diagonal(prec, dim1=-2, dim2=-1)).sum(-1)
        # Per-component constant: -log w_k - log|L_k| + D/2 log(2 pi).
        const = -torch.log(torch.as_tensor(weights, dtype=torch.float32)) - log_det
        self.register_buffer("const", const + 0.5 * d * math.log(2 * math.pi))
        self.register_buffer("means", torch.as_tensor(means, dtype=torch.float32))
        self.register_buffer("precision_chol", prec)
        self.hand_sigma = float(hand_sigma)
        self.num_components = k

    @classmethod
    def load(cls, path: str | Path | None = None) -> PosePrior:
        """The shipped prior (`coach_backend.resources`), or the file at ``path``."""
        path = model_path(POSE_PRIOR_FILE) if path is None else path
        with np.load(path, allow_pickle=False) as f:
            return cls(f["weights"], f["means"], f["precision_chol"], float(f["hand_sigma"]))

    def component_nll(self, body_pose: torch.Tensor) -> torch.Tensor:
        """(B, K) NLL of each weighted component (GMM part only)."""
        x = body_pose[:, list(MODELED_ROWS)].reshape(body_pose.shape[0], -1)
        # y_k = L_k^T (x - mu_k), computed as x L_k - mu_k L_k to stay one batched matmul.
        y = torch.einsum("bd,kde->bke", x, self.precision_chol) - torch.einsum(
            "kd,kde->ke", self.means, self.precision_chol
        )
        return 0.5 * (y**2).sum(-1) + self.const

    def hand_nll(self, body_pose: torch.Tensor) -> torch.Tensor:
        hands = body_pose[:, list(HAND_ROWS)].reshape(body_pose.shape[0], -1)
        s2 = self.hand_sigma**2
        return 0.5 * (hands**2).sum(-1) / s2 + 0.5 * hands.shape[1] * math.log(2 * math.pi * s2)

    @staticmethod
    def hinge_nll(body_pose: torch.Tensor) -> torch.Tensor:
        rows = [r for r, _, _ in HINGES]
        axes = [a for _, a, _ in HINGES]
        sign = torch.tensor([s for _, _, s in HINGES], dtype=body_pose.dtype)
        flex = body_pose[:, rows, axes] * sign
        excess = torch.relu(-flex - HINGE_MARGIN)
        return 0.5 * ((excess / HINGE_SIGMA) ** 2).sum(-1)

    def nll(
        self, body_pose: torch.Tensor, approx_min: bool = False, hinge: bool = True
    ) -> torch.Tensor:
        """(B,23,3) axis-angle body pose -> (B,) negative log-likelihood (nats).

        GMM term + hand term (+ hinge term, an unnormalised penalty, on by default).
        """
        if body_pose.dim() != 3 or body_pose.shape[1:] != (23, 3):
            raise ValueError(f"body_pose must be (B,23,3), got {tuple(body_pose.shape)}")
        pose = body_pose.to(self.means.dtype)
        comp = self.component_nll(pose)
        gmm = comp.min(dim=1).values if approx_min else -torch.logsumexp(-comp, dim=1)
        out = gmm + self.hand_nll(pose)
        return out + self.hinge_nll(pose) if hinge else out

    def forward(self, body_pose: torch.Tensor) -> torch.Tensor:
        return self.nll(body_pose)


def load_pose_prior(path: str | Path | None = None) -> PosePrior:
    return PosePrior.load(path)
