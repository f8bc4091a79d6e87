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
from dataclasses import dataclass, replace
from pathlib import Path

from coach_backend.perception.detector_offsets import DEFAULT_PATH as DEFAULT_OFFSETS_PATH
from coach_backend.resources import data_path

DEFAULT_DATASET = data_path("cmu_smpl.npz")


# The sampler's camera ranges (`lifter_training.KeypointSampler`); here because
# `LifterTrainConfig.camera_roll_deg` takes its default from them.
@dataclass(frozen=True)
class CameraRanges:
    yaw_deg: tuple[float, float] = (-180.0, 180.0)
    elevation_deg: tuple[float, float] = (-10.0, 40.0)
    roll_deg: tuple[float, float] = (-6.0, 6.0)
    distance_m: tuple[float, float] = (2.0, 10.0)
    hfov_deg: tuple[float, float] = (35.0, 85.0)  # across the long side
    betas_sd: float = 1.0


@dataclass
class LifterTrainConfig:
    dataset: Path = DEFAULT_DATASET
    out: Path = Path("checkpoints/lifter")
    steps: int = 30000
    batch: int = 256
    lr: float = 1e-3
    threads: int = 1
    seed: int = 0
    checkpoint_every: int = 500
    hidden: int = 1024
    blocks: int = 3
    world_input: bool = True
    window_radius: int = 0  # > 0: a temporal lifter (files), reading 2 r + 1 frames
    detector_offsets: Path | None = DEFAULT_OFFSETS_PATH
    weight_joints: float = 10.0
    weight_rotations: float = 0.5
    weight_betas: float = 0.02
    user_keypoints_rate: float = 0.25
    part_mix_rate: float = 0.0
    # Share of samples whose legs are a sampled squat, sit or lunge (`flexed_legs`).
    leg_pose_rate: float = 0.0
    # Share of samples whose arms are raised to a sampled direction (`raised_arms`).
    arm_pose_rate: float = 0.0
    # Share of samples whose trunk is bent, arched or twisted on a hip hinge (`bent_trunk`).
    trunk_pose_rate: float = 0.0
    # Largest camera roll of a sample (degrees either way): a rolled camera is also how a
    # leaning, lunging or cartwheeling body looks in the image.
    camera_roll_deg: float = CameraRanges.roll_deg[1]
    init: Path | None = None  # start from these weights (fine-tuning), not from scratch
    # Written into the card: whether the product feeds the detector's 3D keypoints to this
    # network (`Reconstructor(detector_3d=None)`); decided on real footage, not in training.
    reads_detector_3d: bool = True


# The shipped default (`coach_backend/models/gcssn_lifter.pt`) as one resumable command,
# `--recipe default`: each stage fine-tunes the one before (its export is the next `init`) with
# what it adds: part mixing, then roll 15 and squat/sit/lunge legs, then raised arms. About 2.6 h
# on one core in all (~55 + 60 + 24 + 19 min). Why stages rather than one run with everything:
# that is how each addition was checked against a control on real footage (models/README.md).
RECIPES: dict[str, tuple[dict[str, float | int | bool], ...]] = {
    "default": (
        {"steps": 10000, "lr": 1e-3},
        {"steps": 9000, "lr": 4e-4, "part_mix_rate": 0.15, "reads_detector_3d": False},
        {"steps": 8000, "lr": 3e-4, "part_mix_rate": 0.15, "camera_roll_deg": 15.0,
         "leg_pose_rate": 0.1, "reads_detector_3d": False},
        {"steps": 6000, "lr": 2e-4, "part_mix_rate": 0.15, "camera_roll_deg": 15.0,
         "leg_pose_rate": 0.1, "arm_pose_rate": 0.1, "reads_detector_3d": False},
    ),
}  # fmt: skip
STAGE_WEIGHTS = "lifter.pt"  # each stage's export, in OUT/stageK/


def recipe_configs(
    base: LifterTrainConfig, stages: tuple[dict[str, float | int | bool], ...]
) -> list[LifterTrainConfig]:
    """One config per stage: `base` (dataset, network size, threads, seed) with the stage's
    fields; stage k trains in base.out/stage{k} from stage k-1's export (the first from
    base.init: None = from scratch)."""
    configs, init = [], base.init
    for k, stage in enumerate(stages, 1):
        config = replace(base, out=base.out / f"stage{k}", init=init, **stage)
        configs.append(config)
        init = config.out / STAGE_WEIGHTS
    return configs


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
