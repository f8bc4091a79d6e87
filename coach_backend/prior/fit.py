"""Fit the pose prior (GMM over body-joint axis-angle) on the training split.

python -m coach_backend.prior.fit --dataset data/cmu_smpl.npz \\
    --out coach_backend/models/pose_prior.npz
"""

from __future__ import annotations

# numpy, torch and the prior's modules are imported in the functions that use them: `--help`
# answers before they load.
import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.resources import data_path

if TYPE_CHECKING:
    import numpy as np

# Std (rad) of the hand-joint term: loose, the data has no information about hands.
HAND_SIGMA = 0.5


def training_poses(dataset: Path, mirror: bool = True) -> np.ndarray:
    import numpy as np

    from coach_backend.mocap.dataset import load_motion_dataset
    from coach_backend.prior.poses import mirror_body_pose

    pose = load_motion_dataset(dataset, split="train").body_pose.astype(np.float64)
    # Mirroring doubles the data and removes CMU's handedness (right-handed shots, punches),
    # so left-handed athletes are not penalised.
    return np.concatenate([pose, mirror_body_pose(pose)]) if mirror else pose


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=data_path("cmu_smpl.npz"))
    # None: the shipped prior, `prior.model.POSE_PRIOR_PATH` (its one home is a torch module).
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--components", type=int, default=8)
    ap.add_argument("--reg-covar", type=float, default=1e-2, help="added to covariance diagonals")
    ap.add_argument("--no-mirror", action="store_true", help="do not add left/right mirrors")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    import numpy as np

    from coach_backend.prior.gmm import fit_gmm
    from coach_backend.prior.model import HAND_ROWS, MODELED_ROWS, POSE_PRIOR_PATH

    args.out = args.out or POSE_PRIOR_PATH
    poses = training_poses(args.dataset, mirror=not args.no_mirror)
    x = poses[:, list(MODELED_ROWS)].reshape(len(poses), -1)
    t0 = time.perf_counter()
    gmm, ll = fit_gmm(
        x, args.components, reg_covar=args.reg_covar, max_iter=150, tol=1e-4, seed=args.seed
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        weights=gmm.weights.astype(np.float32),
        means=gmm.means.astype(np.float32),
        precision_chol=gmm.precision_cholesky().astype(np.float32),
        hand_sigma=np.float32(HAND_SIGMA),
        modeled_rows=np.array(MODELED_ROWS),
        hand_rows=np.array(HAND_ROWS),
        n_train=np.int64(len(x)),
        representation=np.array("axis-angle (rotvec) of SMPL joints 1..21, 63-D"),
    )
    print(
        f"fitted {args.components}-component GMM on {len(x)} poses (dim {x.shape[1]}) in "
        f"{time.perf_counter() - t0:.1f} s; train mean log-lik {ll:.2f}; wrote {args.out} "
        f"({args.out.stat().st_size / 1024:.0f} KiB)"
    )


if __name__ == "__main__":
    main()
