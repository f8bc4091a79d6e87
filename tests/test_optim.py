"""coach_backend.optim.Adam: torch.optim.Adam's update without its start-up cost (issue 13)."""

from __future__ import annotations

import subprocess
import sys

import torch
from cli_support import ENV, REPO

from coach_backend.optim import Adam


def fitted(make_optimizer) -> list[torch.Tensor]:
    torch.manual_seed(0)
    target = torch.randn(4, 24, 3)
    rotation = torch.zeros(4, 24, 3, requires_grad=True)
    shape = torch.ones(4, 10, requires_grad=True)
    optimizer = make_optimizer([rotation, shape])
    for _ in range(12):
        loss = (
            ((rotation - target) ** 2).sum() + (shape**3).sum() + rotation.sin().sum() * shape.sum()
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return [rotation.detach(), shape.detach()]


def test_same_numbers_as_torch_adam() -> None:
    ours = fitted(lambda params: Adam(params, lr=0.02))
    torchs = fitted(lambda params: torch.optim.Adam(params, lr=0.02))
    for a, b in zip(ours, torchs, strict=True):
        assert torch.equal(a, b)  # the same operations in the same order: bit for bit


def test_a_parameter_without_gradient_is_left_alone() -> None:
    used, unused = torch.zeros(3, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = Adam([used, unused], lr=0.1)
    (used - 1.0).pow(2).sum().backward()
    optimizer.step()
    assert (used > 0).all() and torch.equal(unused.detach(), torch.ones(2))


def test_the_replays_fit_does_not_import_torch_dynamo() -> None:
    """torch.optim's first use imports torch._dynamo (seconds); the fit must not pay for it."""
    probe = """
import sys, torch
from coach_backend.body import load_body_model
from coach_backend.gcssn.refine import fit_lifted_to_keypoints
body = load_body_model()
rays = 0.1 * torch.randn(2, 23, 2)  # (x/z, y/z) of each keypoint
rotmats = torch.eye(3).repeat(2, 24, 1, 1)
fit_lifted_to_keypoints(body, rotmats, torch.zeros(2, 10), rays, torch.ones(2, 23), steps=2)
print("torch._dynamo" in sys.modules)
"""
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ENV,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"
