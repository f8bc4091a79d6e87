"""CMU motion capture: BVH reading, forward kinematics and retargeting to SMPL-24.

from coach_backend.mocap import load_bvh, retarget, load_motion_dataset
motion = retarget(load_bvh("007_08.bvh"))        # SmplMotion at 30 fps, SMPL frame, metres
train = load_motion_dataset("data/cmu_smpl.npz", split="train")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.mocap.bvh import BvhJoint as BvhJoint
    from coach_backend.mocap.bvh import BvhMotion as BvhMotion
    from coach_backend.mocap.bvh import BvhPose as BvhPose
    from coach_backend.mocap.bvh import forward_kinematics as forward_kinematics
    from coach_backend.mocap.bvh import load_bvh as load_bvh
    from coach_backend.mocap.bvh import parse_bvh as parse_bvh
    from coach_backend.mocap.bvh import write_bvh as write_bvh
    from coach_backend.mocap.dataset import MotionDataset as MotionDataset
    from coach_backend.mocap.dataset import held_out_trials as held_out_trials
    from coach_backend.mocap.dataset import load_motion_dataset as load_motion_dataset
    from coach_backend.mocap.dataset import save_motion_dataset as save_motion_dataset
    from coach_backend.mocap.dataset import split_of as split_of
    from coach_backend.mocap.retarget import SMPL_POSITION_SOURCE as SMPL_POSITION_SOURCE
    from coach_backend.mocap.retarget import SMPL_ROTATION_SOURCE as SMPL_ROTATION_SOURCE
    from coach_backend.mocap.retarget import SmplMotion as SmplMotion
    from coach_backend.mocap.retarget import has_added_tpose as has_added_tpose
    from coach_backend.mocap.retarget import retarget as retarget
    from coach_backend.mocap.retarget import smpl_transl as smpl_transl
    from coach_backend.mocap.skeleton import SMPL_JOINT_NAMES as SMPL_JOINT_NAMES
    from coach_backend.mocap.skeleton import SMPL_PARENTS as SMPL_PARENTS
    from coach_backend.mocap.skeleton import pose_to_world as pose_to_world
    from coach_backend.mocap.skeleton import smpl_skeleton_fk as smpl_skeleton_fk

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "bvh": (
            "BvhJoint",
            "BvhMotion",
            "BvhPose",
            "forward_kinematics",
            "load_bvh",
            "parse_bvh",
            "write_bvh",
        ),
        "dataset": (
            "MotionDataset",
            "held_out_trials",
            "load_motion_dataset",
            "save_motion_dataset",
            "split_of",
        ),
        "retarget": (
            "SMPL_POSITION_SOURCE",
            "SMPL_ROTATION_SOURCE",
            "SmplMotion",
            "has_added_tpose",
            "retarget",
            "smpl_transl",
        ),
        "skeleton": ("SMPL_JOINT_NAMES", "SMPL_PARENTS", "pose_to_world", "smpl_skeleton_fk"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
