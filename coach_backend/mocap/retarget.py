"""Retarget CC_Base-rig BVH motion (CMU trials) to SMPL-24 joint rotations.

Method: SMPL's zero pose is a T-pose, and the CC_Base rig has a T-pose too (it is the added
frame 0 of the "Imported" CMU trials 007_03..007_12; measured once and stored below, because
the other 51 trials start directly with motion, see docs/mocap.md). For every SMPL joint we pick
one CC_Base bone; the bone's world rotation *relative to its T-pose world rotation* is the SMPL
joint's world rotation: W_smpl(t) = W_cc(t) @ W_cc_tpose^T. Local rotations follow from the
SMPL tree: local = W_parent^T @ W. This is exact for bone directions whenever both rigs'
T-poses agree, and needs no IK.

Frames: forward kinematics of these BVH files already lands in a y-up world in which the T-pose
faces +z with the subject's left at +x, i.e. SMPL's body frame (the rigs whose inner hierarchy is
z-up carry an "RL_BoneRoot" that rotates it to y-up). So only centimetres -> metres is needed;
`WORLD_TO_SMPL` keeps the (identity) change of basis explicit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.mocap.bvh import BvhMotion, BvhPose, forward_kinematics
from coach_backend.mocap.skeleton import SMPL_PARENTS

CM_TO_M = 0.01
# Change of basis from the BVH world (after FK) to SMPL's frame; identity for these files
# (checked: head above hips along +y, left hip at +x, toes towards +z in the T-pose).
WORLD_TO_SMPL = np.eye(3)

_P = "CC_Base_"
# Rotation source bone for each SMPL joint (None: no counterpart, local rotation = identity).
# Spine: CC has Waist -> Spine01 -> Spine02 -> NeckTwist01 -> NeckTwist02 -> Head; NeckTwist02's
# world rotation carries both neck bones, so it drives SMPL's single neck bone.
# SMPL hands (22/23) stay identity: CMU has no finger motion worth transferring.
SMPL_ROTATION_SOURCE: tuple[str | None, ...] = tuple(
    None if n is None else _P + n
    for n in (
        "Pelvis", "L_Thigh", "R_Thigh", "Waist", "L_Calf", "R_Calf", "Spine01", "L_Foot",
        "R_Foot", "Spine02", "L_ToeBase", "R_ToeBase", "NeckTwist02", "L_Clavicle",
        "R_Clavicle", "Head", "L_Upperarm", "R_Upperarm", "L_Forearm", "R_Forearm", "L_Hand",
        "R_Hand", None, None,
    )
)  # fmt: skip
# CC joint whose position corresponds to each SMPL joint (for quality checks and plots).
SMPL_POSITION_SOURCE: tuple[str, ...] = tuple(
    _P + n
    for n in (
        "Hip", "L_Thigh", "R_Thigh", "Waist", "L_Calf", "R_Calf", "Spine01", "L_Foot",
        "R_Foot", "Spine02", "L_ToeBase", "R_ToeBase", "NeckTwist01", "L_Clavicle",
        "R_Clavicle", "Head", "L_Upperarm", "R_Upperarm", "L_Forearm", "R_Forearm", "L_Hand",
        "R_Hand", "L_Mid1", "R_Mid1",
    )
)  # fmt: skip

# World rotations (rotvec) of the CC_Base bones in the rig's T-pose: frame 0 of 007_04.bvh
# (identical in 007_03..007_12). Includes the rig's rest spine curve (pelvis tilted 11.8 deg,
# waist 16 deg, ...), feet pitched ~13 deg down with ~6 deg toe-out, arms horizontal.
CC_TPOSE_WORLD_ROTVEC: dict[str, tuple[float, float, float]] = {
    _P + k: v
    for k, v in {
        "Hip": (0.0, 0.00001, -0.00337),
        "Pelvis": (0.20543, -0.00034, -0.00336),
        "L_Thigh": (-0.00087, 0.13223, 3.13385),
        "R_Thigh": (0.00391, -0.11699, -3.13397),
        "Waist": (0.28335, 0.00001, 0.00000),
        "L_Calf": (0.00104, -0.12659, 3.13283),
        "R_Calf": (0.00544, 0.11209, -3.13333),
        "Spine01": (-0.08753, 0.00001, 0.00000),
        "L_Foot": (-0.13901, -1.91782, -2.40708),
        "R_Foot": (-0.14272, 1.91698, 2.40542),
        "Spine02": (-0.18023, -0.00003, 0.00003),
        "L_ToeBase": (-0.02409, -2.27173, -2.06091),
        "R_ToeBase": (-0.02757, 2.27035, 2.05912),
        "NeckTwist01": (0.19599, -0.00007, 0.00002),
        "NeckTwist02": (0.16820, -0.00009, 0.00000),
        "L_Clavicle": (-0.19969, 0.20887, -1.53287),
        "R_Clavicle": (-0.19961, -0.20883, 1.53294),
        "Head": (-0.00021, -0.00002, 0.00001),
        "L_Upperarm": (0.00750, -0.00668, -1.61402),
        "R_Upperarm": (0.01268, 0.00548, 1.61407),
        "L_Forearm": (0.00961, -0.00879, -1.59212),
        "R_Forearm": (0.01456, 0.00745, 1.59211),
        "L_Hand": (-0.03422, 0.03220, -1.67038),
        "R_Hand": (-0.03149, -0.03597, 1.67055),
    }.items()
}
# The CMU elbow is a one-axis hinge; in the CC T-pose that axis lies 30 deg off vertical
# (measured: left elbow rotvecs point along (0, -0.866, 0.5) in every trial), while SMPL's T-pose
# elbow bends about y. So the CC T-pose arms are twisted 30 deg about their long axis relative to
# SMPL's; re-reference the whole arm below the collar (upper arm, forearm, hand) by that twist so
# that elbow flexion becomes a pure SMPL y-rotation and the wrist gets no constant offset.
ARM_TWIST_DEG = 30.0
_ARM_BONES = tuple(_P + s + b for s in ("L_", "R_") for b in ("Upperarm", "Forearm", "Hand"))
# Frame 0 counts as the added T-pose if every mapped bone is within this of the stored T-pose.
TPOSE_TOLERANCE_DEG = 2.0


@dataclass
class SmplMotion:
    """One trial retargeted to SMPL-24, in SMPL's y-up body frame, metres."""

    global_orient: np.ndarray  # (T, 3) rotvec, pelvis world rotation
    body_pose: np.ndarray  # (T, 23, 3) rotvec, local rotations of joints 1..23
    root_position: np.ndarray  # (T, 3) CC hip joint position (m); see `smpl_transl`
    bvh_joints: np.ndarray  # (T, 24, 3) CC joint positions matching SMPL joints (m)
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.global_orient.shape[0])


def _tpose_world(names: tuple[str | None, ...], arm_fix: bool = True) -> np.ndarray:
    """Reference (T-pose) world rotation per bone; arm bones include the twist fix."""
    rv = np.array([CC_TPOSE_WORLD_ROTVEC[n] if n else (0.0, 0.0, 0.0) for n in names])
    mats = Rotation.from_rotvec(rv).as_matrix()
    if arm_fix:
        twist = Rotation.from_euler("x", ARM_TWIST_DEG, degrees=True).as_matrix()
        for i, n in enumerate(names):
            if n in _ARM_BONES:
                mats[i] = twist @ mats[i]
    return mats


def tpose_deviation_deg(pose: BvhPose, names: list[str], frame: int = 0) -> np.ndarray:
    """Angle (deg) of each mapped bone at `frame` away from the stored CC T-pose."""
    src = [n for n in SMPL_ROTATION_SOURCE if n is not None]
    w = np.stack([pose.rotations[frame, names.index(n)] for n in src])
    rel = np.swapaxes(_tpose_world(tuple(src), arm_fix=False), -1, -2) @ w
    return np.degrees(Rotation.from_matrix(rel).magnitude())


def has_added_tpose(motion: BvhMotion, pose: BvhPose | None = None) -> bool:
    """True if frame 0 is the rig's added T-pose (only some trials have one)."""
    pose = forward_kinematics(motion) if pose is None else pose
    return bool(tpose_deviation_deg(pose, motion.names).max() < TPOSE_TOLERANCE_DEG)


def retarget(
    motion: BvhMotion,
    target_fps: float | None = 30.0,
    drop_tpose: bool = True,
) -> SmplMotion:
    """CC_Base BVH -> SMPL-24 rotations. `target_fps` subsamples by an integer step (None: keep)."""
    pose = forward_kinematics(motion)
    names = motion.names
    start = 1 if drop_tpose and has_added_tpose(motion, pose) else 0
    step = 1
    if target_fps is not None:
        ratio = motion.fps / target_fps
        step = max(1, round(ratio))
        if abs(ratio - step) > 0.01 * ratio:
            raise ValueError(f"cannot subsample {motion.fps:.3f} fps to {target_fps} fps")
    frames = np.arange(start, motion.num_frames, step)

    # World rotations of the SMPL joints: bone rotation relative to its T-pose rotation.
    # Joints without a source bone inherit their parent's world rotation (identity local).
    w_tpose = _tpose_world(SMPL_ROTATION_SOURCE)
    world = np.empty((len(frames), 24, 3, 3))
    for j, src in enumerate(SMPL_ROTATION_SOURCE):
        if src is None:
            world[:, j] = world[:, SMPL_PARENTS[j]]
        else:
            w = WORLD_TO_SMPL @ pose.rotations[frames, names.index(src)] @ WORLD_TO_SMPL.T
            world[:, j] = w @ w_tpose[j].T
    local = np.empty_like(world)
    local[:, 0] = world[:, 0]
    for j in range(1, 24):
        local[:, j] = np.swapaxes(world[:, SMPL_PARENTS[j]], -1, -2) @ world[:, j]
    rotvec = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_rotvec().reshape(-1, 24, 3)

    pos_idx = [names.index(n) for n in SMPL_POSITION_SOURCE]
    joints = pose.positions[frames][:, pos_idx] @ WORLD_TO_SMPL.T * CM_TO_M
    return SmplMotion(
        global_orient=rotvec[:, 0],
        body_pose=rotvec[:, 1:],
        root_position=joints[:, 0].copy(),
        bvh_joints=joints,
        # Frame Time is printed with 6 decimals (0.016667): report the nominal target rate.
        fps=float(target_fps) if target_fps is not None else motion.fps,
    )


def smpl_transl(
    root_position: np.ndarray, pelvis_rest: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """Body-model `transl` that puts the model's pelvis joint at `scale * root_position`.

    `pelvis_rest` is the model's pelvis joint in the zero pose with zero transl. A `scale` of
    (model pelvis height above its soles) / (CC hip height) keeps feet on the floor and strides
    in proportion for a body of different size than the CMU actor.
    """
    return scale * root_position - pelvis_rest
