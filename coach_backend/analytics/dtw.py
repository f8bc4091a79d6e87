"""Dynamic time warping in numpy: the cheapest monotone alignment of two sequences.

The accumulated cost is filled one anti-diagonal at a time (every cell on diagonal i + j = d
depends only on diagonals d - 1 and d - 2), so the Python loop runs n + m times, not n * m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Above this many cells (n * m) callers should decimate: the accumulated matrix is float64.
MAX_DTW_CELLS = 6_000_000


@dataclass(frozen=True)
class DtwResult:
    path: np.ndarray  # (K, 2) int: (reference frame, attempt frame) pairs, from (0, 0) to the ends
    total_cost: float  # sum of the local costs along the path
    mean_cost: float  # total / K


def pairwise_distance(reference: np.ndarray, attempt: np.ndarray) -> np.ndarray:
    """(n, C), (m, C) feature rows -> (n, m) Euclidean distances."""
    a, b = np.asarray(reference, np.float64), np.asarray(attempt, np.float64)
    sq = np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def dtw(cost: np.ndarray) -> DtwResult:
    """Align by a (n, m) local cost matrix with steps (1,0), (0,1), (1,1), each adding the cost
    of the cell it enters; both sequences are used end to end."""
    cost = np.asarray(cost, np.float64)
    n, m = cost.shape
    if n == 0 or m == 0:
        raise ValueError("dtw needs two non-empty sequences")
    if n * m > MAX_DTW_CELLS:
        raise ValueError(f"{n} x {m} frames is too large for DTW; decimate first")
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for d in range(2, n + m + 1):  # acc[i, j] with i + j = d, 1 <= i <= n, 1 <= j <= m
        i = np.arange(max(1, d - m), min(n, d - 1) + 1)
        j = d - i
        best = np.minimum(np.minimum(acc[i - 1, j], acc[i, j - 1]), acc[i - 1, j - 1])
        acc[i, j] = cost[i - 1, j - 1] + best
    path = _backtrack(acc)
    total = float(acc[n, m])
    return DtwResult(path, total, total / len(path))


def _backtrack(acc: np.ndarray) -> np.ndarray:
    i, j = acc.shape[0] - 1, acc.shape[1] - 1
    steps = [(i - 1, j - 1)]
    while i > 1 or j > 1:
        # Prefer the diagonal on ties: the shortest path among equals.
        options = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(options, key=lambda ij: acc[ij])
        steps.append((i - 1, j - 1))
    return np.array(steps[::-1], dtype=np.int64)


def warp_to_reference(path: np.ndarray, attempt: np.ndarray, num_reference: int) -> np.ndarray:
    """(m, ...) attempt values -> (num_reference, ...) on the reference's frames: each reference
    frame takes the mean of the attempt frames matched to it (so how long the attempt lingered
    does not weigh in)."""
    values = np.asarray(attempt, np.float64)
    out = np.zeros((num_reference, *values.shape[1:]))
    counts = np.bincount(path[:, 0], minlength=num_reference).astype(np.float64)
    np.add.at(out, path[:, 0], values[path[:, 1]])
    return out / counts.reshape(-1, *([1] * (values.ndim - 1)))
