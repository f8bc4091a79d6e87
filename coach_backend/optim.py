"""Adam for the short test-time fits, without `torch.optim`'s start-up cost.

Why: `torch.optim.Optimizer.__init__` (and its step hooks) are wrapped in
`torch._disable_dynamo`, which imports `torch._dynamo` on first use: 1.3-1.6 s of one core on
the project's 2-core VM, paid by every replay before its first pose. The fits need none of
`torch.optim`'s machinery (hooks, state dicts, param groups), only the update, so it is here.

The update is `torch.optim.Adam`'s own on CPU (its single-tensor path, no weight decay, no
amsgrad), operation for operation, so a fit gives the same numbers with either.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class Adam:
    """`Adam(params, lr)`; then per step: `zero_grad()`, `loss.backward()`, `step()`."""

    def __init__(
        self,
        params: Sequence[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("Adam got an empty parameter list")
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.steps = 0
        self._exp_avg = [torch.zeros_like(p) for p in self.params]
        self._exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        bias_correction1 = 1 - self.beta1**self.steps
        bias_correction2_sqrt = (1 - self.beta2**self.steps) ** 0.5
        step_size = self.lr / bias_correction1
        for p, exp_avg, exp_avg_sq in zip(
            self.params, self._exp_avg, self._exp_avg_sq, strict=True
        ):
            if p.grad is None:
                continue
            grad = p.grad
            exp_avg.lerp_(grad, 1 - self.beta1)
            exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.addcdiv_(exp_avg, denom, value=-step_size)
