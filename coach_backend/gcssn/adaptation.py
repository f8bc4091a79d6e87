"""Self-supervised adaptation of the lifter to real footage: the losses, the anchor poses and
`adapt_lifter`, which `python -m coach_backend.gcssn.adapt` (its docstring says what each loss
does) and `replay --adapt-steps` run. The command imports this module only once its arguments
are parsed.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from coach_backend.body import BodyModel, load_body_model
from coach_backend.gcssn.api import save_gcssn
from coach_backend.gcssn.configs import AdaptConfig, LifterTrainConfig
from coach_backend.gcssn.lifter import (
    KeypointLifter,
    keypoint_rays,
    place_body,
    reprojection_error,
)
from coach_backend.gcssn.lifter_training import KeypointSampler, supervised_losses, weighted_total
from coach_backend.gcssn.rotations import rotmat_to_rotvec
from coach_backend.perception.types import RepresentationBatch
from coach_backend.resources import model_path

NO_VERTICES = torch.zeros(0, dtype=torch.long)
MIN_CONFIDENCE = 0.5  # keypoints below this do not pull in the 2D loss (occluded, guessed)


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
    save_gcssn(lifter, card, path)
