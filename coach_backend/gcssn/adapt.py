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
`adapt_lifter` is also what `replay --adapt-steps` runs on the athlete's own clip.
"""

from __future__ import annotations

import argparse
import copy
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from coach_backend.body import BodyModel, load_body_model
from coach_backend.gcssn.lifter import (
    KeypointLifter,
    keypoint_rays,
    place_body,
    reprojection_error,
)
from coach_backend.gcssn.rotations import rotmat_to_rotvec
from coach_backend.gcssn.train_lifter import (
    KeypointSampler,
    LifterTrainConfig,
    supervised_losses,
    weighted_total,
)
from coach_backend.perception.types import RepresentationBatch
from coach_backend.resources import data_path, model_path

NO_VERTICES = torch.zeros(0, dtype=torch.long)
MIN_CONFIDENCE = 0.5  # keypoints below this do not pull in the 2D loss (occluded, guessed)


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


def reprojection_loss(
    body: BodyModel,
    lifter: KeypointLifter,
    rays: torch.Tensor,
    conf: torch.Tensor,
    world: torch.Tensor | None = None,
    world_present: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, rotmats, betas, projected rays) for one batch of detected rays (and, for a
    network that reads them, the detector's 3D keypoints)."""
    pose = lifter(lifter.input_features(rays, conf, world, world_present))
    zero = torch.zeros(len(rays), 3)
    rooted = body.from_rotmats(pose.rotmats, pose.betas, zero, NO_VERTICES).keypoints
    weights = conf * (conf >= MIN_CONFIDENCE)
    points = rooted + place_body(rooted, rays, weights)[:, None]
    projected = points[..., :2] / points[..., 2:].clamp_min(0.1)
    loss = reprojection_error(points, rays, weights).mean()
    return loss, pose.rotmats, pose.betas, projected


def anchor_poses_path() -> Path:
    """The shipped anchor poses (`coach_backend.resources`)."""
    return model_path("adapt_anchor_poses.npz")


def write_anchor_poses(dataset: Path, path: Path, count: int = 4000, seed: int = 0) -> None:
    """A small random subset of the mocap train split (world-frame global_orient, body_pose),
    shipped so adaptation keeps its anchor on a user's machine, which has no CMU dataset."""
    from coach_backend.mocap.dataset import load_motion_dataset

    train = load_motion_dataset(dataset, "train")
    rows = np.sort(np.random.default_rng(seed).choice(len(train), count, replace=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        global_orient=train.global_orient[rows].astype(np.float16),
        body_pose=train.body_pose[rows].astype(np.float16),
        source=np.array(f"{dataset.name}, train split, {count} random frames (seed {seed})"),
    )


def load_anchor_poses(path: Path | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(global_orient (N,3), body_pose (N,23,3)) from a dataset .npz or the shipped anchor file;
    None when there is none."""
    path = path or anchor_poses_path()
    if not path.is_file():
        return None
    with np.load(path) as f:
        if "trial_split" in f:  # a full dataset from mocap.build_dataset
            from coach_backend.mocap.dataset import load_motion_dataset

            train = load_motion_dataset(path, "train")
            return train.global_orient, train.body_pose
        return f["global_orient"].astype(np.float32), f["body_pose"].astype(np.float32)


def adapt_lifter(
    lifter: KeypointLifter,
    footage: RepresentationBatch,
    config: AdaptConfig | None = None,
    body: BodyModel | None = None,
    anchor: Path | None | bool = True,
    progress: bool = True,
) -> tuple[KeypointLifter, list[dict[str, float]]]:
    """A copy of `lifter` adapted to `footage` (frames with a person); the input is unchanged.
    anchor: True = the shipped anchor poses, a path = those poses (or a dataset's train split),
    False/None = no anchor batch (2D, cycle and prior only)."""
    from coach_backend.prior.model import load_pose_prior

    config = config or AdaptConfig()
    body = body or load_body_model()
    prior = load_pose_prior()
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    footage_rays = keypoint_rays(footage)[footage.has_person]
    footage_conf = footage.conf[footage.has_person]
    footage_world = footage.world[footage.has_person]
    footage_world_present = footage.world_present[footage.has_person]
    if len(footage_rays) == 0:
        raise ValueError("no frame of the footage has a person to adapt to")
    poses = None
    if anchor:
        poses = load_anchor_poses(None if anchor is True else Path(anchor))
    sampler = KeypointSampler(body, *poses, rng) if poses is not None else None
    adapted = copy.deepcopy(lifter).train()
    for p in body.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.Adam(adapted.parameters(), lr=config.lr)
    history: list[dict[str, float]] = []
    for _ in tqdm(range(config.steps), desc="adapt", disable=not progress, mininterval=5):
        rows = torch.as_tensor(rng.integers(0, len(footage_rays), config.batch))
        rays, conf = footage_rays[rows], footage_conf[rows]
        world, world_present = footage_world[rows], footage_world_present[rows]
        loss_2d, rotmats, _, projected = reprojection_loss(
            body, adapted, rays, conf, world, world_present
        )
        # Cycle: the prediction's own projection, through the network again.
        cycle_rays = projected.detach() * (conf[..., None] > 0)
        second = adapted(adapted.input_features(cycle_rays, conf, world, world_present))
        loss_cycle = ((second.rotmats - rotmats.detach()) ** 2).sum((-1, -2)).mean()
        loss_prior = prior.nll(rotmat_to_rotvec(rotmats[:, 1:])).mean()
        total = (
            config.weight_2d * loss_2d
            + config.weight_cycle * loss_cycle
            + config.weight_prior * loss_prior
        )
        record = {
            "2d": float(loss_2d.detach()),
            "cycle": float(loss_cycle.detach()),
            "prior": float(loss_prior.detach()),
        }
        if sampler is not None:
            terms = supervised_losses(adapted, body, sampler.sample(config.batch))
            anchored = weighted_total(terms, LifterTrainConfig())
            total = total + config.weight_anchor * anchored
            record["anchor"] = float(anchored.detach())
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(adapted.parameters(), 1.0)
        optimizer.step()
        history.append(record)
    return adapted.eval(), history


def export_adapted(
    lifter: KeypointLifter, source: Path, path: Path, extra: dict[str, object]
) -> None:
    """Save like `train_lifter --export`, with the source card extended by the adaptation."""
    saved = torch.load(source, map_location="cpu", weights_only=False)
    card = {
        **saved["card"],
        "name": "gcssn-lifter-adapted",
        "adaptation": extra,
    }
    state = {k: v.half() if v.is_floating_point() else v for k, v in lifter.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "card": card}, path)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS, load_gcssn
    from coach_backend.gcssn.train import real_representations
    from coach_backend.perception.types import RepresentationBatch as _Batch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, action="append", default=[])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
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
