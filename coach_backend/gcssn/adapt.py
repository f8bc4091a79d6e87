"""Self-supervised adaptation of the lifter to real, unlabelled footage (the seed's claim, tested).

    python -m coach_backend.gcssn.adapt --video clip.mp4 [--video ...] \\
        --weights coach_backend/models/gcssn_lifter.pt \\
        --export coach_backend/models/gcssn_lifter_adapted.pt

The detector's keypoints of the footage are the only input; no 3D truth is used. Losses, as the
GC-SSN poster describes them for the keypoint half of the representation:
- 2D reprojection: the body, placed by the closed-form translation, must project onto the
  detected keypoints (robust, confidence-weighted, in units of the body's image size);
- cycle-consistency: the prediction's own keypoints, projected with the same camera, are fed
  through the network again and must give back the same pose;
- the pose prior (GMM learned from mocap);
- an anchor: a synthetic, mocap-supervised batch each step keeps the network from drifting to
  whatever pose merely satisfies 2D (the 2D losses alone do not fix depth).
`adaptation.adapt_lifter` is also what `replay --adapt-steps` runs on the athlete's own clip.
"""

from __future__ import annotations

# Only the standard library and light project modules at import: `--help` answers before
# torch and the adaptation (coach_backend.gcssn.adaptation) load.
import argparse
from pathlib import Path

from coach_backend.gcssn.configs import AdaptConfig
from coach_backend.resources import data_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, action="append", default=[])
    # None: the shipped lifter, `gcssn.api.DEFAULT_WEIGHTS` (its one home is a torch module).
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--export", type=Path)
    parser.add_argument(
        "--write-anchor-poses",
        action="store_true",
        help="write the shipped anchor poses from --anchor-dataset, then exit",
    )
    parser.add_argument("--steps", type=int, default=AdaptConfig.steps)
    parser.add_argument("--every-nth-frame", type=int, default=1)
    parser.add_argument(
        "--anchor-dataset",
        type=Path,
        default=data_path("cmu_smpl.npz"),
        help="mocap whose train split anchors the adaptation (default: it, else the shipped "
        "anchor poses)",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    # The network, torch and MediaPipe only now: `--help` answers at once.
    import numpy as np
    import torch

    from coach_backend.gcssn.adaptation import (
        adapt_lifter,
        anchor_poses_path,
        export_adapted,
        write_anchor_poses,
    )
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS, load_gcssn
    from coach_backend.gcssn.lifter import KeypointLifter
    from coach_backend.gcssn.training import real_representations
    from coach_backend.perception.types import RepresentationBatch as _Batch

    args.weights = args.weights or DEFAULT_WEIGHTS
    torch.set_num_threads(args.threads)
    if args.write_anchor_poses:
        if not args.anchor_dataset.is_file():
            parser.error(f"{args.anchor_dataset} not found")
        write_anchor_poses(args.anchor_dataset, anchor_poses_path())
        print(f"wrote {anchor_poses_path()}")
        return
    if not args.video or args.export is None:
        parser.error("--video and --export are required")
    for video in args.video:
        if not video.is_file():
            parser.error(f"{video} not found")
    lifter = load_gcssn(args.weights)
    if not isinstance(lifter, KeypointLifter):
        parser.error(f"{args.weights} is not a lifter model")
    batches = [real_representations(v, 64, args.every_nth_frame) for v in args.video]
    found = [b for b in batches if b is not None]
    if not found:
        parser.error("no person found in any video")
    footage = _Batch(**{k: torch.cat([getattr(b, k) for b in found]) for k in vars(found[0])})
    anchor = args.anchor_dataset if args.anchor_dataset.is_file() else True
    adapted, history = adapt_lifter(lifter, footage, AdaptConfig(steps=args.steps), anchor=anchor)
    last = history[-50:]
    export_adapted(
        adapted,
        args.weights,
        args.export,
        {
            "videos": [v.name for v in args.video],
            "frames": len(footage),
            "steps": args.steps,
            "anchor": str(anchor),
            "final_losses": {k: float(np.mean([h[k] for h in last])) for k in last[-1]},
        },
    )
    print(f"wrote {args.export}")


if __name__ == "__main__":
    main()
