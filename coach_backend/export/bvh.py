"""BVH of a Motion on the SMPL-24 skeleton, serialised by ``coach_backend.mocap.write_bvh``.

- Joints: SMPL_JOINT_NAMES, parented as SMPL_PARENTS, listed depth-first (BVH's own order:
  pelvis, left_hip, left_knee, ...; match joints by name, not position). OFFSETs from the body's
  rest joints (shape = ``motion.betas``), so the rest pose (all channels 0) is SMPL's T-pose,
  y up, facing +z.
  Leaf joints (head, feet, hands) get an End Site half their bone's length further along it.
- Channels: root ``Xposition Yposition Zposition`` + three rotations; others three rotations.
  Rotation order ``ZYX`` (default: ``Zrotation Yrotation Xrotation``, R = Rz @ Ry @ Rx, the
  Biovision/CMU/Blender convention) or ``XYZ`` (R = Rx @ Ry @ Rz), degrees, intrinsic as listed.
  Each channel is unwrapped over time (+-360 deg steps are the same rotation), so curves do not
  jump at +-180.
- Root: OFFSET = rest pelvis; position channels = pelvis - rest pelvis (see ``root_motion``).
- Units: metres times ``scale`` (pass 100 for centimetre tools). Frame Time = 1 / motion.fps;
  frames are written as they are (BVH has no timestamps: an irregular recording plays at its
  nominal rate). Invalid frames hold the last valid pose, as in the glTF export.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.body import SMPL_JOINT_NAMES, SMPL_PARENTS
from coach_backend.mocap import BvhJoint, BvhMotion, write_bvh

from .motion import Motion, RootMotion, rest_body, root_positions

EulerOrder = Literal["ZYX", "XYZ"]
_POSITION = ("Xposition", "Yposition", "Zposition")


def dfs_order() -> list[int]:
    """SMPL joint indices in depth-first order (children by index), the order a BVH hierarchy
    lists joints in and ``write_bvh`` writes them in."""
    order: list[int] = []

    def visit(j: int) -> None:
        order.append(j)
        for c, p in enumerate(SMPL_PARENTS):
            if p == j:
                visit(c)

    visit(0)
    return order


def smpl_bvh(
    motion: Motion,
    *,
    euler: EulerOrder = "ZYX",
    root_motion: RootMotion = "relative",
    scale: float = 1.0,
    model_path: str | Path | None = None,
) -> BvhMotion:
    """The motion as a BvhMotion (see the module docstring for the conventions)."""
    if euler not in ("ZYX", "XYZ"):
        raise ValueError(f"euler must be 'ZYX' or 'XYZ', got {euler!r}")
    rest = rest_body(motion.betas, model_path).joints
    rot_channels = tuple(f"{axis}rotation" for axis in euler)
    order = dfs_order()
    position = {j: k for k, j in enumerate(order)}
    has_child = {p for p in SMPL_PARENTS if p >= 0}
    joints: list[BvhJoint] = []
    column = 0
    for j in order:  # file order: parse_bvh assigns channel columns in the order joints appear
        parent = SMPL_PARENTS[j]
        channels = (_POSITION + rot_channels) if parent < 0 else rot_channels
        offset = rest[j] if parent < 0 else rest[j] - rest[parent]
        end = None if j in has_child or parent < 0 else 0.5 * (rest[j] - rest[parent]) * scale
        bvh_parent = position[parent] if parent >= 0 else -1
        joints.append(
            BvhJoint(SMPL_JOINT_NAMES[j], bvh_parent, offset * scale, channels, column, end)
        )
        column += len(channels)

    rotvecs, _ = motion.held()
    t = len(motion)
    angles = Rotation.from_rotvec(rotvecs[:, order].reshape(-1, 3)).as_euler(euler, degrees=True)
    angles = np.rad2deg(np.unwrap(np.deg2rad(angles.reshape(t, -1, 3)), axis=0))
    root = (root_positions(motion, rest[0], root_motion) - rest[0]) * scale
    data = np.concatenate([root, angles.reshape(t, -1)], axis=1)  # order[0] is the root
    return BvhMotion(joints, 1.0 / motion.fps, data)


def export_bvh(
    path: str | os.PathLike[str],
    motion: Motion,
    *,
    euler: EulerOrder = "ZYX",
    root_motion: RootMotion = "relative",
    scale: float = 1.0,
    decimals: int = 6,
    model_path: str | Path | None = None,
) -> Path:
    """Write ``motion`` as BVH text (conventions in the module docstring). ``decimals`` = digits
    after the point for every channel (6: 1e-6 deg / 1e-6 m)."""
    out = Path(path)
    bvh = smpl_bvh(motion, euler=euler, root_motion=root_motion, scale=scale, model_path=model_path)
    out.write_text(write_bvh(bvh, decimals=decimals))
    return out
