"""Train/test split and the dataset file round trip (no ../shared needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from coach_backend.mocap import (
    MotionDataset,
    held_out_trials,
    load_bvh,
    load_motion_dataset,
    retarget,
    save_motion_dataset,
    split_of,
)
from coach_backend.mocap.dataset import SPLIT_PATH

FIX = Path(__file__).parent / "fixtures" / "cmu"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mocap" / "cmu"


def test_split_file_is_valid() -> None:
    test = held_out_trials()
    assert len(test) == len(set(test)) == 11
    assert json.loads(SPLIT_PATH.read_text())["test"] == test
    # At least one held-out trial per subject of the 61-trial set.
    assert {t[:3] for t in test} == {"001", "002", "003", "005", "006", "007"}
    # Fixtures come from held-out trials, so prior tests score unseen poses.
    for f in FIX.glob("*.bvh"):
        assert split_of(f.stem[:6]) == "test"


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared")
def test_split_is_disjoint_and_covers_all_trials() -> None:
    trials = {p.stem for p in SHARED.glob("*.bvh")}
    test = set(held_out_trials())
    assert test <= trials
    train = {t for t in trials if split_of(t) == "train"}
    assert not train & test and train | test == trials


def test_dataset_roundtrip(tmp_path: Path) -> None:
    parts = [retarget(load_bvh(p)) for p in sorted(FIX.glob("*.bvh"))]
    trials = ["006_15", "007_08", "002_01"]  # third is a train trial (reusing the walk's data)
    parts.append(parts[1])
    ds = MotionDataset(
        global_orient=np.concatenate([p.global_orient for p in parts]).astype(np.float32),
        body_pose=np.concatenate([p.body_pose for p in parts]).astype(np.float32),
        transl=np.concatenate([p.root_position for p in parts]).astype(np.float32),
        root_position=np.concatenate([p.root_position for p in parts]).astype(np.float32),
        bvh_joints=np.concatenate([p.bvh_joints for p in parts]).astype(np.float32),
        trial_index=np.concatenate(
            [np.full(p.num_frames, i, np.int32) for i, p in enumerate(parts)]
        ),
        frame_index=np.concatenate([np.arange(p.num_frames, dtype=np.int32) for p in parts]),
        trials=trials,
        fps=30.0,
    )
    path = tmp_path / "ds.npz"
    save_motion_dataset(ds, path)
    train = load_motion_dataset(path, "train")
    test = load_motion_dataset(path, "test")
    both = load_motion_dataset(path, "all")
    assert len(both) == len(ds) == len(train) + len(test)
    assert len(train) == parts[2].num_frames
    assert set(np.unique(train.trial_index)) == {2}
    assert set(np.unique(test.trial_index)) == {0, 1}
    np.testing.assert_array_equal(both.body_pose, ds.body_pose)
    assert both.fps == 30.0 and both.trials == trials
    assert len(test.trial_frames("007_08")) == parts[1].num_frames
    with pytest.raises(ValueError):
        load_motion_dataset(path, "val")  # type: ignore[arg-type]
