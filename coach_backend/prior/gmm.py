"""Full-covariance Gaussian mixture fitted by EM (numpy, float64). Own code, no sklearn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp


@dataclass
class GaussianMixture:
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, D)
    covariances: np.ndarray  # (K, D, D)

    def precision_cholesky(self) -> np.ndarray:
        """(K, D, D) lower-triangular L with L @ L.T = inverse covariance."""
        chol = np.linalg.cholesky(self.covariances)
        eye = np.eye(self.means.shape[1])
        inv_chol = np.stack([np.linalg.solve(c, eye) for c in chol])  # C^-1 = (L^-T)(L^-1)
        return np.swapaxes(inv_chol, -1, -2)

    def component_log_prob(self, x: np.ndarray) -> np.ndarray:
        """(N, K) log w_k + log N(x; mu_k, Sigma_k)."""
        prec = self.precision_cholesky()
        d = x.shape[1]
        y = np.einsum("nd,kde->nke", x, prec) - np.einsum("kd,kde->ke", self.means, prec)
        log_det = np.log(np.diagonal(prec, axis1=1, axis2=2)).sum(1)
        return np.log(self.weights) - 0.5 * d * np.log(2 * np.pi) + log_det - 0.5 * (y**2).sum(-1)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        return logsumexp(self.component_log_prob(x), axis=1)


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centers = [x[rng.integers(len(x))]]
    d2 = ((x - centers[0]) ** 2).sum(1)
    for _ in range(1, k):
        centers.append(x[rng.choice(len(x), p=d2 / d2.sum())])
        d2 = np.minimum(d2, ((x - centers[-1]) ** 2).sum(1))
    return np.stack(centers)


def fit_gmm(
    x: np.ndarray,
    n_components: int = 8,
    reg_covar: float = 1e-3,
    max_iter: int = 300,
    tol: float = 1e-5,
    seed: int = 0,
) -> tuple[GaussianMixture, float]:
    """EM for a full-covariance GMM. Returns the mixture and its mean train log-likelihood.

    `reg_covar` is added to every covariance diagonal: it keeps near-constant dimensions
    (e.g. toe roll/yaw, which CMU barely moves) from collapsing to zero variance.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    # k-means++ seeds and a few Lloyd steps give hard assignments to start EM from.
    centers = _kmeans_pp(x, n_components, rng)
    for _ in range(20):
        labels = ((x[:, None] - centers[None]) ** 2).sum(-1).argmin(1)
        centers = np.stack(
            [x[labels == k].mean(0) if (labels == k).any() else c for k, c in enumerate(centers)]
        )
    resp = np.eye(n_components)[labels]
    prev = -np.inf
    ll = prev
    for _ in range(max_iter):
        # M step
        nk = resp.sum(0) + 1e-10
        weights = nk / n
        means = resp.T @ x / nk[:, None]
        covs = np.empty((n_components, d, d))
        for k in range(n_components):
            diff = x - means[k]
            covs[k] = (resp[:, k, None] * diff).T @ diff / nk[k] + reg_covar * np.eye(d)
        gmm = GaussianMixture(weights, means, covs)
        # E step
        lp = gmm.component_log_prob(x)
        norm = logsumexp(lp, axis=1)
        resp = np.exp(lp - norm[:, None])
        ll = float(norm.mean())
        if ll - prev < tol:
            break
        prev = ll
    return gmm, ll
