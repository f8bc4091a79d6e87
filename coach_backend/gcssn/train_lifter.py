"""Train the GC-SSN lifter on a CPU from retargeted mocap, one resumable command.

    python -m coach_backend.gcssn.train_lifter --steps 30000 \\
        --export coach_backend/models/gcssn_lifter.pt

Every batch is made afresh: CMU poses (left/right mirrored half of the time; optionally limbs
swapped between frames, legs set to a sampled squat, sit or lunge, arms raised to a sampled
direction) on a random body shape, seen by a random camera (any yaw, elevation, roll, distance,
field of view, frame shape, position in the frame), projected to 2D with detector-like
corruption (jitter that grows as the confidence drops, rare gross outliers, a per-sample
systematic offset, missing and out-of-frame keypoints, MediaPipe's missing small toes). No
rendering is needed, so a CPU step is cheap and no two batches repeat. Losses: 3D joints and
surface keypoints (pelvis-relative, camera frame), rotations and shape against the mocap that
made the input.
A checkpoint is written every `--checkpoint-every` steps; rerunning the same command resumes.
"""

from __future__ import annotations

# Only the standard library and light project modules at import: `--help` answers before
# torch, numpy and the trainer (coach_backend.gcssn.lifter_training) load.
import argparse
from pathlib import Path

from coach_backend.gcssn.configs import RECIPES, LifterTrainConfig, recipe_configs
from coach_backend.perception.detector_offsets import DEFAULT_PATH as DEFAULT_OFFSETS_PATH

# What each training sample looks like: LifterTrainConfig fields set by a float option each.
SAMPLING_OPTIONS = {
    "user_keypoints_rate": "share of samples shaped like user keypoints (subsets, joint "
    "centres, no 3D)",
    "part_mix_rate": "per limb and sample, the chance its rotations come from another frame",
    "leg_pose_rate": "share of samples whose legs are a sampled squat, sit or lunge",
    "arm_pose_rate": "share of samples whose arms are raised to a sampled direction",
    "trunk_pose_rate": "share of samples whose trunk is bent, arched or twisted, on a hip hinge",
    "camera_roll_deg": "largest camera roll of a training sample, degrees either way",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = LifterTrainConfig()
    parser.add_argument("--dataset", type=Path, default=defaults.dataset)
    parser.add_argument("--out", type=Path, default=defaults.out, help="checkpoint folder")
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--batch", type=int, default=defaults.batch)
    parser.add_argument("--hidden", type=int, default=defaults.hidden)
    parser.add_argument("--blocks", type=int, default=defaults.blocks)
    parser.add_argument(
        "--window-radius",
        type=int,
        default=defaults.window_radius,
        help="> 0: a temporal lifter reading this many frames either side (for files); "
        "--init with a one-frame lifter starts it from that network",
    )
    parser.add_argument(
        "--no-world-input",
        action="store_true",
        help="do not read the detector's 3D keypoints (keypoints-only network)",
    )
    parser.add_argument(
        "--no-detector-offsets",
        action="store_true",
        help="project the body's own keypoints, not MediaPipe's definitions of them",
    )
    for name, help_text in SAMPLING_OPTIONS.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            default=getattr(defaults, name),
            help=help_text,
        )
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument(
        "--init", type=Path, default=None, help="fine-tune these weights instead of starting fresh"
    )
    parser.add_argument(
        "--card-no-detector-3d",
        action="store_true",
        help="mark the exported card so the product does not feed it MediaPipe's world "
        "landmarks (when real footage says the keypoints alone do better)",
    )
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--export", type=Path, default=None, help="write weights + card here")
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default=None,
        help="train a shipped model's stages in turn, each resumable (default: the shipped "
        "gcssn_lifter.pt, ~2.6 h on one core); the stages set steps, lr and sampling, in "
        "OUT/stage1, stage2, ...",
    )
    parser.add_argument(
        "--export-only", action="store_true", help="export the latest checkpoint, no training"
    )
    args = parser.parse_args(argv)
    if not args.dataset.is_file():
        parser.error(
            f"{args.dataset} not found: build it with python -m coach_backend.mocap.build_dataset"
        )
    config = LifterTrainConfig(
        dataset=args.dataset,
        out=args.out,
        steps=args.steps,
        batch=args.batch,
        hidden=args.hidden,
        blocks=args.blocks,
        window_radius=args.window_radius,
        world_input=not args.no_world_input,
        detector_offsets=None if args.no_detector_offsets else DEFAULT_OFFSETS_PATH,
        **{name: getattr(args, name) for name in SAMPLING_OPTIONS},
        lr=args.lr,
        init=args.init,
        reads_detector_3d=not args.card_no_detector_3d,
        threads=args.threads,
        seed=args.seed,
    )
    # The trainer (torch, numpy, the body model) only now: `--help` and usage errors answer
    # at once.
    from coach_backend.gcssn.lifter_training import LifterTrainer, run_recipe

    if args.recipe is not None:
        if args.export_only:
            parser.error("--export-only exports one checkpoint; --recipe exports each stage")
        print(f"wrote {run_recipe(recipe_configs(config, RECIPES[args.recipe]), args.export)}")
        return
    trainer = LifterTrainer(config)
    if args.export_only:
        if not args.export or not trainer.try_resume():
            parser.error("--export-only needs --export and an existing checkpoint in --out")
    else:
        trainer.train()
    if args.export:
        trainer.export(args.export)
        print(f"wrote {args.export}")


if __name__ == "__main__":
    main()
