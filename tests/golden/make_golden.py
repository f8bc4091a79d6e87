"""Write tests/golden/gcssn_default_golden.npz: a fixed input batch and the shipped weights' output.

Run once the default weights (gcssn_lifter.pt) are final (and again whenever they change):

    .venv/bin/python tests/golden/make_golden.py

The input is stored in the file itself (not re-rendered by the test), so the golden test checks
inference only: network + body model + Reconstructor, independent of the renderer.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from coach_backend.body import BodyParams, load_body_model  # noqa: E402
from coach_backend.gcssn.api import DEFAULT_WEIGHTS, Reconstructor  # noqa: E402
from coach_backend.mocap import load_bvh, retarget  # noqa: E402
from coach_backend.perception import Camera, PerceptionConfig, Representation, stack  # noqa: E402
from coach_backend.perception.render import MEDIAPIPE_MISSING, BodyRenderer  # noqa: E402

GOLDEN = Path(__file__).with_name("gcssn_default_golden.npz")
BATCH_FIELDS = (
    "keypoints", "conf", "silhouette", "silhouette_present", "has_person", "box",
    "crop_intrinsics", "frame_intrinsics", "frame_size",
)  # fmt: skip
OUTPUT_FIELDS = ("global_orient", "body_pose", "betas", "transl", "joints", "keypoints", "valid")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def golden_input(resolution: int):
    """Three CMU poses of the open body rendered at two depths, plus one no-person sample."""
    body = load_body_model()
    camera = Camera.default_for(640, 480)
    renderer = BodyRenderer(
        body, PerceptionConfig(resolution=resolution, camera=camera),
        drop_keypoints=MEDIAPIPE_MISSING,
    )  # fmt: skip
    motion = retarget(load_bvh(REPO / "tests" / "fixtures" / "cmu" / "006_15_shot.bvh"))
    rows = [5, 30, 55]
    rx180 = Rotation.from_euler("x", 180, degrees=True)
    go = (rx180 * Rotation.from_rotvec(motion.global_orient[rows])).as_rotvec()
    params = BodyParams(
        global_orient=torch.tensor(go, dtype=torch.float32),
        body_pose=torch.tensor(motion.body_pose[rows], dtype=torch.float32),
        betas=torch.tensor([[0.0] * 10, [1.0, -0.5] + [0.0] * 8, [-1.0, 0.8] + [0.0] * 8]),
        transl=torch.tensor([[0.0, 0.2, 3.0], [0.4, 0.1, 4.5], [-0.3, 0.3, 2.5]]),
    )
    batch = renderer.render(params, camera)
    reps = [batch.item(i) for i in range(len(batch))]
    reps.append(Representation.empty(camera, resolution))
    return stack(reps)


def main() -> int:
    if not DEFAULT_WEIGHTS.is_file():
        print(f"error: {DEFAULT_WEIGHTS} not found", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    rec = Reconstructor(DEFAULT_WEIGHTS)
    batch = golden_input(rec.resolution)
    out = rec.predict(batch)
    arrays = {f"in_{k}": getattr(batch, k).numpy() for k in BATCH_FIELDS}
    arrays.update({f"out_{k}": getattr(out, k) for k in OUTPUT_FIELDS})
    np.savez_compressed(GOLDEN, weights_sha256=np.str_(sha256(DEFAULT_WEIGHTS)), **arrays)
    print(f"wrote {GOLDEN} for {DEFAULT_WEIGHTS} (sha256 {sha256(DEFAULT_WEIGHTS)[:12]}...)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
