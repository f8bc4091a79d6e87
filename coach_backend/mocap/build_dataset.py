"""Retarget every CMU BVH trial to SMPL and write one dataset file.

    python -m coach_backend.mocap.build_dataset --cmu-dir ../shared/data/mocap/cmu \
        --out data/cmu_smpl.npz
"""

from __future__ import annotations

# numpy, torch and the retargeting are imported in the functions that use them: `--help`
# answers before they load.
import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.resources import data_path

if TYPE_CHECKING:
    import numpy as np

    from coach_backend.mocap.dataset import MotionDataset

DEFAULT_CMU_DIR = Path("../shared/data/mocap/cmu")
# Hip-joint height of the CC_Base rig above the floor in its T-pose (007_04 frame 0), metres.
CC_HIP_HEIGHT_M = 1.050
# A few subject-5 dance trials (005_05, 005_06, 005_17, ...) have foot flips: the ankle's local
# rotation jumps to ~180 deg about the shin, which no ankle can do. Frames with an ankle beyond
# this angle (from the T-pose; pointe work stays below ~90 deg) are dropped as capture errors.
MAX_ANKLE_DEG = 100.0
_ANKLES = (6, 7)  # body_pose rows of left/right ankle


def body_placement(model_path: str | None = None) -> tuple[np.ndarray, float, str]:
    """(pelvis rest position, translation scale, model name) for the body model.

    The scale maps the actor's hip height to the model's pelvis height above its soles, so the
    model's feet meet the floor when the actor's do.
    """
    import numpy as np
    import torch

    from coach_backend.body import BodyParams, load_body_model

    torch.set_num_threads(1)
    body = load_body_model(model_path)
    with torch.no_grad():
        out = body(BodyParams.zeros(1))
    pelvis = out.joints[0, 0].numpy().astype(np.float64)
    sole = float(out.vertices[0, :, 1].min())
    return pelvis, (pelvis[1] - sole) / CC_HIP_HEIGHT_M, body.name


def valid_frames(body_pose: np.ndarray, max_ankle_deg: float = MAX_ANKLE_DEG) -> np.ndarray:
    """(T,) bool: frames without an impossible ankle rotation."""
    import numpy as np

    ankle = np.linalg.norm(body_pose[:, _ANKLES], axis=-1).max(axis=1)
    return np.degrees(ankle) <= max_ankle_deg


def build(
    cmu_dir: Path, fps: float, model_path: str | None = None, max_ankle_deg: float = MAX_ANKLE_DEG
) -> tuple[MotionDataset, str, int]:
    import numpy as np
    from tqdm import tqdm

    from coach_backend.mocap.bvh import load_bvh
    from coach_backend.mocap.dataset import MotionDataset
    from coach_backend.mocap.retarget import retarget, smpl_transl

    files = sorted(cmu_dir.glob("*.bvh"))
    if not files:
        raise FileNotFoundError(f"no .bvh files in {cmu_dir}")
    pelvis_rest, scale, model_name = body_placement(model_path)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("go", "bp", "root", "joints", "ti", "fi")}
    trials: list[str] = []
    out_fps = fps
    dropped = 0
    for path in tqdm(files, desc="retarget", unit="trial"):
        sm = retarget(load_bvh(path), target_fps=fps)
        out_fps = sm.fps
        ok = valid_frames(sm.body_pose, max_ankle_deg)
        dropped += int((~ok).sum())
        parts["go"].append(sm.global_orient[ok])
        parts["bp"].append(sm.body_pose[ok])
        parts["root"].append(sm.root_position[ok])
        parts["joints"].append(sm.bvh_joints[ok])
        parts["ti"].append(np.full(int(ok.sum()), len(trials), dtype=np.int32))
        # Keep the original frame numbers so gaps left by dropped frames stay visible.
        parts["fi"].append(np.flatnonzero(ok).astype(np.int32))
        trials.append(path.stem)
    root = np.concatenate(parts["root"])
    ds = MotionDataset(
        global_orient=np.concatenate(parts["go"]).astype(np.float32),
        body_pose=np.concatenate(parts["bp"]).astype(np.float32),
        transl=smpl_transl(root, pelvis_rest, scale).astype(np.float32),
        root_position=root.astype(np.float32),
        bvh_joints=np.concatenate(parts["joints"]).astype(np.float32),
        trial_index=np.concatenate(parts["ti"]),
        frame_index=np.concatenate(parts["fi"]),
        trials=trials,
        fps=out_fps,
    )
    return ds, model_name, dropped


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cmu-dir", type=Path, default=DEFAULT_CMU_DIR, help="folder of CMU .bvh")
    ap.add_argument("--out", type=Path, default=data_path("cmu_smpl.npz"), help="output .npz")
    ap.add_argument("--fps", type=float, default=30.0, help="output frame rate (integer step)")
    ap.add_argument("--body-model", default=None, help="body file for transl (default: project's)")
    ap.add_argument(
        "--max-ankle-deg", type=float, default=MAX_ANKLE_DEG, help="drop frames beyond (glitches)"
    )
    args = ap.parse_args(argv)
    from coach_backend.mocap.dataset import save_motion_dataset, split_of

    ds, model_name, dropped = build(args.cmu_dir, args.fps, args.body_model, args.max_ankle_deg)
    save_motion_dataset(ds, args.out, transl_body_model=model_name)
    n_test = sum(split_of(ds.trials[i]) == "test" for i in ds.trial_index)
    print(
        f"wrote {args.out}: {len(ds)} frames at {ds.fps:g} fps from {len(ds.trials)} trials "
        f"({len(ds) - n_test} train / {n_test} test frames; {dropped} glitch frames dropped)"
    )


if __name__ == "__main__":
    main()
