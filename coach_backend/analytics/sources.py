"""Angle tracks from the body's outputs: a replay result (``smpl.npz``, docs/replay_format.md)
or a session recording (``.coachrec``, coach_backend.recorder).

Both go through coach_backend.export's loader (y-up wire frame, invalid frames held, times that
increase), then the SMPL tree's forward kinematics on the body model's rest joints for the
take's shape: the same joints the body model outputs. Loading imports torch (the body model).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from coach_backend.analytics.angles import joint_angles
from coach_backend.analytics.comparison import AngleTrack
from coach_backend.mocap.skeleton import smpl_skeleton_fk

SUFFIXES = (".npz", ".coachrec")


def track_from_joints(
    joints: np.ndarray,
    times: np.ndarray,
    valid: np.ndarray | None = None,
    rest_joints: np.ndarray | None = None,
    label: str = "",
) -> AngleTrack:
    """(T, 24, 3) y-up joints -> AngleTrack (rest offsets from ``rest_joints`` if given)."""
    joints = np.asarray(joints, np.float64)
    ok = np.ones(len(joints), bool) if valid is None else np.asarray(valid, bool)
    return AngleTrack(
        joint_angles(joints, rest_joints), np.asarray(times, np.float64), ok, label, joints
    )


def load_track(path: str | os.PathLike[str], model_path: str | Path | None = None) -> AngleTrack:
    """A ``smpl.npz`` or ``.coachrec`` -> AngleTrack labelled with its folder and name. Raises
    ValueError / OSError for files that are not one."""
    from coach_backend.export.motion import load_motion, rest_body

    motion = load_motion(path, model_path)
    rest = rest_body(motion.betas, model_path)
    rotvecs, pelvis = motion.held()
    joints = smpl_skeleton_fk(rotvecs[:, 0], rotvecs[:, 1:], rest.joints, root_position=pelvis)
    label = "/".join(Path(path).parts[-2:])  # "<clip>/smpl.npz": the clip is the folder
    return track_from_joints(joints, motion.times, motion.valid, rest.joints, label)
