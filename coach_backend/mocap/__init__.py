"""CMU motion capture: BVH reading, forward kinematics and retargeting to SMPL-24.

from coach_backend.mocap import load_bvh, retarget, load_motion_dataset
motion = retarget(load_bvh("007_08.bvh"))        # SmplMotion at 30 fps, SMPL frame, metres
train = load_motion_dataset("data/cmu_smpl.npz", split="train")
"""

from coach_backend.mocap.bvh import (
    BvhJoint,
    BvhMotion,
    BvhPose,
    forward_kinematics,
    load_bvh,
    parse_bvh,
    write_bvh,
)
from coach_backend.mocap.dataset import (
    MotionDataset,
    held_out_trials,
    load_motion_dataset,
    save_motion_dataset,
    split_of,
)
from coach_backend.mocap.retarget import (
    SMPL_POSITION_SOURCE,
    SMPL_ROTATION_SOURCE,
    SmplMotion,
    has_added_tpose,
    retarget,
    smpl_transl,
)
from coach_backend.mocap.skeleton import (
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    pose_to_world,
    smpl_skeleton_fk,
)

__all__ = [
    "BvhJoint",
    "BvhMotion",
    "BvhPose",
    "MotionDataset",
    "SMPL_JOINT_NAMES",
    "SMPL_PARENTS",
    "SMPL_POSITION_SOURCE",
    "SMPL_ROTATION_SOURCE",
    "SmplMotion",
    "forward_kinematics",
    "has_added_tpose",
    "held_out_trials",
    "load_bvh",
    "load_motion_dataset",
    "parse_bvh",
    "pose_to_world",
    "retarget",
    "save_motion_dataset",
    "smpl_skeleton_fk",
    "smpl_transl",
    "split_of",
    "write_bvh",
]
