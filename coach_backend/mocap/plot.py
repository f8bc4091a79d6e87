"""Figure: retargeted body beside the BVH skeleton it came from.

    python -m coach_backend.mocap.plot --out docs/retarget.png

Uses the committed fixtures (tests/fixtures/cmu), so it runs without ../shared.
"""

from __future__ import annotations

# matplotlib, numpy and torch are imported in the functions that use them: `--help` answers
# before they load.
import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.body.skeleton import SMPL_PARENTS
from coach_backend.resources import repo_path

if TYPE_CHECKING:
    import matplotlib.pyplot as plt
    import numpy as np

FIXTURES = repo_path("tests", "fixtures", "cmu")
PANELS = (("007_08_walk.bvh", "walk", (10, 25, 40)), ("006_15_shot.bvh", "jump shot", (30, 50, 62)))
LEFT = {1, 4, 7, 10, 13, 16, 18, 20, 22}


def _draw_skeleton(ax: plt.Axes, j: np.ndarray, dx: float, alpha: float = 1.0) -> None:
    for c, p in enumerate(SMPL_PARENTS):
        if p < 0:
            continue
        color = "tab:red" if c in LEFT else "tab:blue" if c in {x + 1 for x in LEFT} else "k"
        ax.plot([j[p, 0] + dx, j[c, 0] + dx], [j[p, 1], j[c, 1]], color=color, lw=2, alpha=alpha)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("docs/retarget.png"))
    args = ap.parse_args(argv)

    import matplotlib
    import torch

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coach_backend.body import BodyParams, load_body_model
    from coach_backend.mocap.build_dataset import body_placement
    from coach_backend.mocap.bvh import load_bvh
    from coach_backend.mocap.retarget import retarget, smpl_transl

    torch.set_num_threads(1)
    body = load_body_model()
    pelvis_rest, scale, _ = body_placement()
    fig, axes = plt.subplots(2, 3, figsize=(13, 9))
    for row, (fname, title, frames) in enumerate(PANELS):
        sm = retarget(load_bvh(FIXTURES / fname), target_fps=None)
        for col, f in enumerate(frames):
            ax = axes[row, col]
            go = sm.global_orient[f]
            with torch.no_grad():
                out = body(
                    BodyParams.from_numpy(
                        global_orient=go,
                        body_pose=sm.body_pose[f],
                        transl=smpl_transl(sm.root_position[f], pelvis_rest, scale),
                    )
                )
            verts = out.vertices[0].numpy()
            joints = out.joints[0].numpy()
            bvh = sm.bvh_joints[f]
            # View from the actor's front: undo the pelvis heading (yaw about y) for both.
            fwd = _heading(go)
            rot = _yaw_to_plus_z(fwd)
            c_b, c_m = bvh[0] * [1, 0, 1], joints[0] * [1, 0, 1]
            bvh_v = (bvh - c_b) @ rot.T
            vv, jj = (verts - c_m) @ rot.T, (joints - c_m) @ rot.T
            ax.scatter(vv[::3, 0] + 0.55, vv[::3, 1], s=0.3, c="0.45", alpha=0.5, lw=0)
            _draw_skeleton(ax, jj, 0.55)
            _draw_skeleton(ax, bvh_v, -0.55)
            ax.set_aspect("equal")
            ax.set_xlim(-1.4, 1.4)
            ax.set_ylim(-0.1, 2.3)
            ax.set_title(f"{title}, frame {f}: BVH (left) | body model (right)", fontsize=9)
            ax.grid(alpha=0.3)
    fig.suptitle(
        "CMU BVH (CC_Base joints at the SMPL correspondences) vs retargeted open body; front view "
        "(actor's left = red, right = blue; the viewer sees the actor's left on the right)",
        fontsize=10,
    )
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")


def _heading(global_orient: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(global_orient).apply([0.0, 0.0, 1.0])


def _yaw_to_plus_z(fwd: np.ndarray) -> np.ndarray:
    """Rotation about y turning the horizontal part of `fwd` to +z: plotting (x, y) then shows
    the actor from the front (viewer on +z), the actor's left (+x) on the viewer's right."""
    import numpy as np

    a = -np.arctan2(fwd[0], fwd[2])
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


if __name__ == "__main__":
    main()
