"""Train GC-SSN on a CPU: self-supervised (default) or the supervised GC-N baseline.

    python -m coach_backend.gcssn.train --mode self --steps 6000 --out checkpoints/self
    python -m coach_backend.gcssn.train --mode supervised --steps 6000 --out checkpoints/sup

Inputs are synthetic representations of the training split of retargeted CMU motion
(`python -m coach_backend.mocap.build_dataset`), rendered once into a pool of clean samples
and corrupted afresh at every step. Self-supervised losses see only the representation:
2D reprojection, silhouette agreement, cycle-consistency, the pose prior and a shape term.
A checkpoint is written every `--checkpoint-every` steps; rerunning the same command resumes.
"""

from __future__ import annotations

# Only the standard library and light project modules at import: `--help` answers before
# torch, numpy and the trainer (coach_backend.gcssn.training) load.
import argparse
from pathlib import Path

from coach_backend.gcssn.configs import DEFAULT_DATASET, TrainConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["self", "supervised"], default="self")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--out", type=Path, default=None, help="checkpoint folder")
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--batch", type=int, default=TrainConfig.batch)
    parser.add_argument("--pool", type=int, default=TrainConfig.pool)
    parser.add_argument("--threads", type=int, default=TrainConfig.threads)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--real-video",
        type=Path,
        action="append",
        default=[],
        help="legally usable video whose MediaPipe representations join self-supervised "
        "training (repeatable), e.g. /usr/share/doc/opencv-doc/examples/data/vtest.avi",
    )
    parser.add_argument("--export", type=Path, default=None, help="write weights + card here")
    parser.add_argument(
        "--export-only", action="store_true", help="export the latest checkpoint, no training"
    )
    args = parser.parse_args(argv)
    if not args.dataset.is_file():
        parser.error(
            f"{args.dataset} not found: build it with python -m coach_backend.mocap.build_dataset"
        )
    config = TrainConfig(
        mode=args.mode,
        dataset=args.dataset,
        out=args.out or Path("checkpoints") / args.mode,
        steps=args.steps,
        batch=args.batch,
        pool=args.pool,
        threads=args.threads,
        seed=args.seed,
        real_videos=tuple(args.real_video),
    )
    # The trainer (torch, numpy, the renderer) only now: `--help` and usage errors answer at
    # once.
    from coach_backend.gcssn.training import Trainer

    trainer = Trainer(config)
    if args.export_only:
        if not args.export or not trainer.try_resume():
            parser.error("--export-only needs --export and an existing checkpoint in --out")
    else:
        trainer.train()
    if args.export:
        trainer.export(args.export, {})
        print(f"wrote {args.export}")


if __name__ == "__main__":
    main()
