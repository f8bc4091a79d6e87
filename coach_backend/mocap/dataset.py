"""The retargeted motion dataset file (npz) and the train/test split of CMU trials."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

SPLIT_PATH = Path(__file__).with_name("split.json")
Split = Literal["train", "test", "all"]


def held_out_trials() -> list[str]:
    """Trial ids ("SSS_TT") held out for testing (committed in split.json)."""
    return list(json.loads(SPLIT_PATH.read_text())["test"])


def split_of(trial: str) -> Literal["train", "test"]:
    return "test" if trial in set(held_out_trials()) else "train"


@dataclass
class MotionDataset:
    """Per-frame SMPL parameters of retargeted trials (SMPL body frame, y up, metres)."""

    global_orient: np.ndarray  # (N, 3) float32 rotvec
    body_pose: np.ndarray  # (N, 23, 3) float32 rotvec, local
    transl: np.ndarray  # (N, 3) float32, body-model transl (see coach_backend.mocap.smpl_transl)
    root_position: np.ndarray  # (N, 3) float32, the CMU actor's hip position
    bvh_joints: np.ndarray  # (N, 24, 3) float32, CC joints matching the SMPL joints
    trial_index: np.ndarray  # (N,) int32 into `trials`
    frame_index: np.ndarray  # (N,) int32, frame number in the trial after subsampling
    trials: list[str]  # trial ids
    fps: float

    def __len__(self) -> int:
        return int(self.global_orient.shape[0])

    def trial_frames(self, trial: str) -> np.ndarray:
        """Row indices of one trial, in time order."""
        return np.flatnonzero(self.trial_index == self.trials.index(trial))


_ARRAYS = (
    "global_orient", "body_pose", "transl", "root_position", "bvh_joints", "trial_index",
    "frame_index",
)  # fmt: skip


def save_motion_dataset(ds: MotionDataset, path: str | Path, **meta: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    splits = np.array([split_of(t) for t in ds.trials])
    np.savez_compressed(
        path,
        **{k: getattr(ds, k) for k in _ARRAYS},
        trials=np.array(ds.trials),
        trial_split=splits,
        fps=np.float64(ds.fps),
        **{f"meta_{k}": np.array(v) for k, v in meta.items()},
    )


def load_motion_dataset(path: str | Path, split: Split = "train") -> MotionDataset:
    """Load the dataset written by `python -m coach_backend.mocap.build_dataset`.

    The split stored in the file is used (it is the split.json of the build), so a dataset stays
    self-consistent even if split.json changes later.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in _ARRAYS}
        trials = [str(t) for t in f["trials"]]
        trial_split = [str(s) for s in f["trial_split"]]
        fps = float(f["fps"])
    if split != "all":
        keep_trials = [i for i, s in enumerate(trial_split) if s == split]
        rows = np.isin(arrays["trial_index"], keep_trials)
        arrays = {k: v[rows] for k, v in arrays.items()}
    return MotionDataset(**arrays, trials=trials, fps=fps)
