"""How GC-SSN trains (`python -m coach_backend.gcssn.train`, whose `TrainConfig` it reads):
the rendered pool, MediaPipe representations of real footage, the trainer, and the resumable
checkpoints both GC-SSN trainers share. The command imports this module only once its
arguments are parsed.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from smplx.lbs import batch_rodrigues
from tqdm import tqdm

from coach_backend.body import BodyModel, BodyParams, load_body_model
from coach_backend.gcssn.api import save_gcssn
from coach_backend.gcssn.geometry import posed_body
from coach_backend.gcssn.losses import (
    LossWeights,
    cycle_consistency,
    distance_fields,
    keypoint_reprojection,
    root_relative_joint_error,
    rotation_error,
    shape_regulariser,
    silhouette_agreement,
)
from coach_backend.gcssn.network import GCSSN, NetworkConfig, Prediction, parameter_count
from coach_backend.gcssn.synthetic import NoiseConfig, SyntheticSource, SyntheticTruth, corrupt
from coach_backend.mocap.dataset import load_motion_dataset
from coach_backend.perception.render import cluster_vertices
from coach_backend.perception.types import Camera, RepresentationBatch
from coach_backend.prior.model import load_pose_prior

if TYPE_CHECKING:
    from coach_backend.gcssn.configs import TrainConfig


def _git_commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Pool:
    """Clean representations with their truth, rendered once (the slow part of a batch)."""

    def __init__(self, source: SyntheticSource, size: int, chunk: int = 256) -> None:
        reps, truths = [], []
        for _ in tqdm(range(0, size, chunk), desc="rendering synthetic pool", unit="chunk"):
            r, t = source.clean_batch(chunk)
            reps.append(r)
            truths.append(t)
        self.reps = _cat_reps(reps)
        self.truth = [t for t in truths]
        self.chunk = chunk

    def __len__(self) -> int:
        return len(self.reps)

    def take(self, rows: np.ndarray) -> tuple[RepresentationBatch, SyntheticTruth]:
        """Rows from one chunk (each chunk has one frame camera), as a batch."""
        chunk = int(rows[0]) // self.chunk
        rows = chunk * self.chunk + (rows % self.chunk)
        idx = torch.as_tensor(rows)
        reps = RepresentationBatch(
            **{f.name: getattr(self.reps, f.name)[idx] for f in fields(RepresentationBatch)}
        )
        return reps, self.truth[chunk].select(torch.as_tensor(rows % self.chunk))


def real_representations(
    video: Path, resolution: int, every_nth: int, min_keypoints: int = 10
) -> RepresentationBatch | None:
    """MediaPipe representations of a real video (every n-th frame, confident people only).
    There is no 3D truth for these, so they only ever feed self-supervised losses."""
    import av

    from coach_backend.perception import PerceptionConfig, stack
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    reps = []
    with (
        av.open(str(video)) as container,
        MediaPipeDetector(PerceptionConfig(resolution=resolution)) as detector,
    ):
        for index, frame in enumerate(
            tqdm(container.decode(video=0), desc=f"MediaPipe {video.name}")
        ):
            if index % every_nth:
                continue
            rep = detector.detect(frame.to_ndarray(format="bgr24"))
            if rep.has_person and int((rep.confidences > 0.5).sum()) >= min_keypoints:
                reps.append(rep)
    return stack(reps) if reps else None


def _cat_reps(items: list[RepresentationBatch]) -> RepresentationBatch:
    return RepresentationBatch(
        **{
            f.name: torch.cat([getattr(r, f.name) for r in items])
            for f in fields(RepresentationBatch)
        }
    )


class ResumableTraining:
    """Atomic checkpoints and resumption for a trainer holding `config.out`, `net`,
    `optimizer`, `scheduler`, `step`, `history` and `rng` (both GC-SSN trainers), and their
    learning-rate schedule: linear warm-up over `config.steps // warmup_divisor` steps, then
    cosine decay to `lr_floor` of the peak."""

    warmup_divisor: int
    lr_floor: float
    config: Any
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    step: int
    history: list[dict[str, float]]
    rng: np.random.Generator

    @property
    def checkpoint_path(self) -> Path:
        return self.config.out / "checkpoint.pt"

    def save(self) -> None:
        self.config.out.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(
            {
                "net": self.net.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "step": self.step,
                "history": self.history,
                "rng": self.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "config": {k: str(v) for k, v in asdict(self.config).items()},
            },
            tmp,
        )
        tmp.replace(self.checkpoint_path)  # atomic: a kill mid-write keeps the last checkpoint

    def final_losses(self) -> dict[str, float]:
        """Each logged loss averaged over the last 200 logged steps (the card's figures)."""
        last = self.history[-200:]
        return {k: float(np.mean([h[k] for h in last if k in h])) for k in last[-1]}

    def _lr_factor(self, step: int) -> float:
        """A pure function of the step and the *current* step budget, so a resumed run may be
        given more steps than the run that wrote the checkpoint."""
        warmup = max(1, self.config.steps // self.warmup_divisor)
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, self.config.steps - warmup))
        return self.lr_floor + (1.0 - self.lr_floor) * 0.5 * (1 + np.cos(np.pi * progress))

    def try_resume(self) -> bool:
        if not self.checkpoint_path.is_file():
            return False
        state = torch.load(self.checkpoint_path, weights_only=False)
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.history = list(state["history"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        return True


class Trainer(ResumableTraining):
    """Owns the network, optimiser, data and checkpoints. `motion` (world-frame
    global_orient (N,3), body_pose (N,23,3)) defaults to the train split of `config.dataset`."""

    warmup_divisor = 20
    lr_floor = 0.02

    def __init__(
        self, config: TrainConfig, motion: tuple[np.ndarray, np.ndarray] | None = None
    ) -> None:
        self.config = config
        torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.body: BodyModel = load_body_model()
        self.prior = load_pose_prior()
        if motion is None:
            train = load_motion_dataset(config.dataset, "train")
            motion = (train.global_orient, train.body_pose)
        self.source = SyntheticSource(self.body, *motion, config.resolution, seed=config.seed)
        self.noise = NoiseConfig()
        self.net = GCSSN(NetworkConfig(resolution=config.resolution))
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=1e-4)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        rest = self.body(BodyParams.zeros(1))
        # ~250 body points spread over the surface for the silhouette term.
        rest_vertices = rest.vertices[0].detach().numpy().astype(np.float64)
        ids, _ = cluster_vertices(rest_vertices, self.body.faces, 0.06)
        self.silhouette_ids = torch.as_tensor(ids)
        self.weights = LossWeights()
        self.step = 0
        self.history: list[dict[str, float]] = []

    # -- one step -------------------------------------------------------------------------
    def losses(
        self, reps: RepresentationBatch, truth: SyntheticTruth | None
    ) -> dict[str, torch.Tensor]:
        r = self.config.resolution
        prediction = self.net(reps)
        params, out = posed_body(
            prediction, self.body, reps.crop_intrinsics, r, self.silhouette_ids
        )
        terms = {
            "keypoints": keypoint_reprojection(out.keypoints, reps).mean(),
            "prior": self.prior.nll(params.body_pose).mean(),
            "shape": shape_regulariser(params.betas).mean(),
        }
        if self.config.mode == "self":
            terms["silhouette"] = silhouette_agreement(
                out.vertices, reps, distance_fields(reps.silhouette)
            ).mean()
            if self.step % self.config.cycle_every == 0:
                terms["cycle"] = self.cycle(prediction, params, reps)
        else:
            assert truth is not None
            target_rot = _rotmats(truth)
            terms["rotations"] = rotation_error(prediction.rotmats, target_rot).mean()
            terms["joints_3d"] = root_relative_joint_error(out.joints, truth.joints).mean()
            terms["betas"] = ((params.betas - truth.params.betas) ** 2).mean()
        return terms

    def cycle(self, first: Prediction, params, reps: RepresentationBatch) -> torch.Tensor:
        """Render the predicted body's representation, predict again, require agreement."""
        detached = type(params)(
            **{f.name: getattr(params, f.name).detach() for f in fields(type(params))}
        )
        fx, fy, cx, cy = (float(v) for v in reps.frame_intrinsics[0])
        w, h = (int(v) for v in reps.frame_size[0])
        camera = Camera(fx, fy, cx, cy, w, h)
        rendered = self.source.renderer.render(detached, camera)
        keep = rendered.has_person
        if not bool(keep.any()):
            return torch.zeros(())
        second = self.net(_subset(rendered, keep))
        first_kept = Prediction(first.rotmats[keep], first.betas[keep], first.camera[keep])
        return cycle_consistency(first_kept, second).mean()

    def train(self) -> None:
        cfg = self.config
        resumed = self.try_resume()
        pool = Pool(self.source, cfg.pool, chunk=min(256, cfg.pool))
        real = []
        if cfg.mode == "self":
            for video in cfg.real_videos:
                found = real_representations(video, cfg.resolution, cfg.real_every_nth_frame)
                if found is not None:
                    real.append(found)
        print(
            f"GC-SSN {cfg.mode}: {parameter_count(self.net) / 1e6:.2f} M parameters, "
            f"pool {len(pool)}, real frames {sum(len(r) for r in real)}, "
            f"{'resuming at step ' + str(self.step) if resumed else 'fresh'}"
        )
        self.net.train()
        bar = tqdm(total=cfg.steps, initial=self.step, desc=f"train {cfg.mode}", unit="step")
        started = time.time()
        while self.step < cfg.steps:
            rows = self.rng.integers(0, pool.chunk, cfg.batch) + pool.chunk * int(
                self.rng.integers(0, len(pool) // pool.chunk)
            )
            if real and self.rng.random() < cfg.real_fraction:
                # One video per batch: the cycle renders with that video's camera.
                footage = real[int(self.rng.integers(len(real)))]
                take = torch.as_tensor(self.rng.integers(0, len(footage), cfg.batch))
                reps, truth = _subset(footage, take), None
            else:
                clean, truth = pool.take(rows)
                reps = corrupt(clean, self.noise, self.rng)
            terms = self.losses(reps, truth if cfg.mode == "supervised" else None)
            total = sum(getattr(self.weights, k) * v for k, v in terms.items())
            self.optimizer.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            record = {k: float(v.detach()) for k, v in terms.items()}
            record["total"] = float(total.detach())
            self.history.append(record)
            bar.update(1)
            bar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k != "total"})
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                self.save()
        bar.close()
        print(f"trained {cfg.steps} steps ({time.time() - started:.0f} s this run)")

    def export(self, path: Path, extra: dict[str, object]) -> None:
        """Weights + a model card, as loaded by `coach_backend.gcssn.load_gcssn`."""
        card = {
            "name": f"gcssn-{self.config.mode}",
            "mode": self.config.mode,
            "network": asdict(self.net.config),
            "steps": self.step,
            "batch": self.config.batch,
            "data": f"synthetic representations of the CMU train split ({self.config.dataset})"
            + (
                f" + MediaPipe representations of {[p.name for p in self.config.real_videos]}"
                if self.config.real_videos and self.config.mode == "self"
                else ""
            ),
            "losses": sorted(self.history[-1].keys()),
            "final_losses": self.final_losses(),
            "commit": _git_commit(),
            "body_model": self.body.name,
            **extra,
        }
        save_gcssn(self.net, card, path)


def _rotmats(truth: SyntheticTruth) -> torch.Tensor:
    pose = truth.params.full_pose()
    return batch_rodrigues(pose.reshape(-1, 3)).reshape(pose.shape[0], -1, 3, 3)


def _subset(reps: RepresentationBatch, keep: torch.Tensor) -> RepresentationBatch:
    return RepresentationBatch(
        **{f.name: getattr(reps, f.name)[keep] for f in fields(RepresentationBatch)}
    )
