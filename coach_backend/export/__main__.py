"""python -m coach_backend.export {body,animation,bvh} [INPUT] --out FILE

INPUT: a ``.coachrec`` recording or a replay result ``.npz`` (camera frame); ``body`` takes none.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import export_animation_glb, export_body_glb, export_bvh, load_motion


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coach_backend.export",
        description="Export the body / motion as glTF or BVH.",
    )
    parser.add_argument("what", choices=["body", "animation", "bvh"])
    parser.add_argument("input", nargs="?", type=Path, help=".coachrec or replay .npz")
    parser.add_argument("--out", type=Path, required=True, help="output .glb / .bvh")
    parser.add_argument("--model", type=Path, default=None, help="body file (default: open body)")
    parser.add_argument("--betas", type=float, nargs="*", default=None, help="body: 10 betas")
    parser.add_argument(
        "--root-motion", choices=["relative", "absolute"], default="relative",
        help="relative: the first valid pelvis sits at the rest pelvis; absolute: wire frame",
    )  # fmt: skip
    parser.add_argument("--euler", choices=["ZYX", "XYZ"], default="ZYX", help="bvh order")
    parser.add_argument("--scale", type=float, default=1.0, help="bvh units per metre")
    args = parser.parse_args(argv)

    if args.what == "body":
        if args.input is not None:
            parser.error("body takes no INPUT")
        betas = None if args.betas is None else np.asarray(args.betas, np.float64)
        out = export_body_glb(args.out, betas, args.model)
        print(f"wrote {out}")
        return 0
    if args.input is None:
        parser.error(f"{args.what} needs an INPUT (.coachrec or .npz)")
    motion = load_motion(args.input, args.model)
    if args.what == "animation":
        out = export_animation_glb(
            args.out, motion, root_motion=args.root_motion, model_path=args.model
        )
    else:
        out = export_bvh(
            args.out, motion, euler=args.euler, root_motion=args.root_motion, scale=args.scale,
            model_path=args.model,
        )  # fmt: skip
    held = int((~motion.valid).sum())
    print(f"wrote {out}: {len(motion)} frames, {motion.times[-1]:.2f} s, {held} held (invalid)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
