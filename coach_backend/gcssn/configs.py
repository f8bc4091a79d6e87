"""GC-SSN's training configurations, in one place: the self-supervised / GC-N trainer
(`TrainConfig`), the keypoint lifter's (`LifterTrainConfig`, its camera ranges and the shipped
default's stages, `RECIPES`) and test-time adaptation (`AdaptConfig`).

Standard library and light project modules only: the commands (`train`, `train_lifter`,
`adapt`) show these defaults in `--help` without loading torch, and the trainers, the API's
`Reconstructor.adapt`, the benchmarks and the tests read the same definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from coach_backend.perception.detector_offsets import DEFAULT_PATH as DEFAULT_OFFSETS_PATH
from coach_backend.resources import data_path

DEFAULT_DATASET = data_path("cmu_smpl.npz")  # python -m coach_backend.mocap.build_dataset


@dataclass
class TrainConfig:
    mode: str = "self"  # "self" (no 3D ground truth in any loss) or "supervised" (GC-N)
    dataset: Path = DEFAULT_DATASET
    out: Path = Path("checkpoints/self")
    steps: int = 6000
    batch: int = 48
    pool: int = 24000  # clean synthetic samples rendered once
    lr: float = 1e-3
    threads: int = 1
    seed: int = 0
    checkpoint_every: int = 250
    cycle_every: int = 2  # cycle-consistency costs a render: apply it every n-th step
    resolution: int = 64
    real_videos: tuple[Path, ...] = ()  # legally usable footage; MediaPipe makes its inputs
    real_fraction: float = 0.25  # share of self-supervised steps drawn from real footage
    real_every_nth_frame: int = 3


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


@dataclass(frozen=True)
class AdaptConfig:
    steps: int = 300
    batch: int = 128
    lr: float = 5e-5
    weight_2d: float = 1.0
    weight_cycle: float = 0.5
    weight_prior: float = 2e-3
    weight_anchor: float = 1.0
    seed: int = 0
