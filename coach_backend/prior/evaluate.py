"""Score held-out test poses and families of broken poses with the pose prior.

    python -m coach_backend.prior.evaluate --dataset data/cmu_smpl.npz \
        --fig docs/pose_prior_hist.png --out benchmarks/results/prior.md
"""

from __future__ import annotations

# matplotlib, numpy, torch and the prior are imported in the functions that use them: `--help`
# answers before they load.
import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.resources import data_path

if TYPE_CHECKING:
    import numpy as np

    from coach_backend.prior.model import PosePrior


def _nll(prior: PosePrior, pose: np.ndarray, hinge: bool = True) -> np.ndarray:
    import torch

    with torch.no_grad():
        return prior.nll(torch.as_tensor(pose, dtype=torch.float32), hinge=hinge).numpy()


def _auc(bad: np.ndarray, good: np.ndarray) -> float:
    """P(broken pose scores worse than a natural one)."""
    import numpy as np

    ranks = np.searchsorted(np.sort(good), bad)
    return float(ranks.mean() / len(good))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=data_path("cmu_smpl.npz"))
    # None: the shipped prior, `prior.model.POSE_PRIOR_PATH` (its one home is a torch module).
    ap.add_argument("--prior", type=Path, default=None)
    ap.add_argument("--fig", type=Path, default=Path("docs/pose_prior_hist.png"))
    ap.add_argument("--out", type=Path, default=None, help="markdown table")
    args = ap.parse_args(argv)
    import matplotlib
    import numpy as np
    import torch

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coach_backend.mocap.dataset import load_motion_dataset
    from coach_backend.mocap.evaluate import write_below_marker
    from coach_backend.prior.model import POSE_PRIOR_PATH, PosePrior
    from coach_backend.prior.poses import UNNATURAL_FAMILIES, unnatural_poses

    torch.set_num_threads(1)

    prior = PosePrior.load(args.prior or POSE_PRIOR_PATH)
    train = load_motion_dataset(args.dataset, "train").body_pose
    test = load_motion_dataset(args.dataset, "test").body_pose
    rng = np.random.default_rng(0)
    sets = {"train (fit data)": train, "held-out test": test}
    sets.update({f: unnatural_poses(test, f, rng) for f in UNNATURAL_FAMILIES})
    nll = {k: _nll(prior, v) for k, v in sets.items()}
    gmm_only = {k: _nll(prior, v, hinge=False) for k, v in sets.items()}

    rows = [
        "| poses | n | median NLL (nats) | 5th / 95th pct | P(worse than a test pose) | "
        "median, GMM only | P(worse), GMM only |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, v in nll.items():
        auc = (
            "-"
            if k in ("train (fit data)", "held-out test")
            else f"{_auc(v, nll['held-out test']):.3f}"
        )
        auc_g = (
            "-"
            if k in ("train (fit data)", "held-out test")
            else f"{_auc(gmm_only[k], gmm_only['held-out test']):.3f}"
        )
        lo, hi = np.percentile(v, [5, 95])
        rows.append(
            f"| {k} | {len(v)} | {np.median(v):.1f} | {lo:.1f} / {hi:.1f} | {auc} | "
            f"{np.median(gmm_only[k]):.1f} | {auc_g} |"
        )
    text = "\n".join(rows) + "\n"
    print(text)
    if args.out is not None:
        write_below_marker(args.out, text)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    colors = {"held-out test": "tab:green", "knees_backward": "tab:orange",
              "elbows_backward": "tab:purple", "random_rotations": "tab:red"}  # fmt: skip
    lo = min(np.percentile(v, 0.5) for v in nll.values())
    bins = np.linspace(lo, 300, 80)
    for k, c in colors.items():
        if k == "random_rotations":  # thousands of nats: shown on the right panel only
            continue
        v = nll[k]
        axes[0].hist(np.clip(v, None, 300), bins=bins, alpha=0.55, color=c, density=True,
                     label=f"{k} (median {np.median(v):.0f})")  # fmt: skip
    axes[0].set_xlabel("NLL (nats); values above 300 piled at 300")
    axes[0].set_ylabel("density")
    axes[0].set_title(
        f"held-out CMU test poses vs broken versions (random rotations: median "
        f"{np.median(nll['random_rotations']):.0f}, right)",
        fontsize=10,
    )
    axes[0].legend(fontsize=8)
    bins_log = np.logspace(
        np.log10(max(lo + 200, 1)), np.log10(max(nll["random_rotations"]) + 200), 80
    )
    for k, c in colors.items():
        axes[1].hist(nll[k] + 200, bins=bins_log, alpha=0.55, color=c, density=False, label=k)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("NLL + 200 (log scale, to show random rotations)")
    axes[1].set_ylabel("count")
    axes[1].set_title("Same, full range")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    args.fig.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.fig, dpi=90)
    print(f"wrote {args.fig}")


if __name__ == "__main__":
    main()
