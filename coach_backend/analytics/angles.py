"""Joint angles (degrees) from SMPL-24 joint positions or SMPL rotations.

Input frame: y up (the wire frame, docs/CONTRIBUTING-internal.md); for the camera frame of
``smpl.npz`` use :func:`camera_to_y_up` first. Only the trunk lean depends on the frame (it is
measured from the vertical); every other angle is between body segments.

Definitions (the first four are exactly the dashboard's, coach_backend/dashboard/web/src/angles.js,
checked against it in tests/test_analytics_angles.py):

- ``knee_flexion``: 180 - angle at the knee between hip->knee->ankle (0 = straight leg);
- ``hip_flexion``: 180 - angle between the trunk (pelvis -> neck) and the thigh (hip -> knee);
- ``elbow_flexion``: 180 - angle at the elbow between shoulder->elbow->wrist;
- ``trunk_lean``: angle of pelvis -> neck from the vertical (0 = upright, 90 = horizontal);
- ``shoulder_elevation``: angle between the upper arm (shoulder -> elbow) and the trunk's
  downward direction (neck -> pelvis): 0 = arm hanging, 90 = level, 180 = overhead, in any plane;
- ``shoulder_abduction``: the same, measured after projecting the upper arm onto the trunk's
  frontal plane (trunk axis and hip-to-hip axis): the sideways raise of a jumping jack. It is
  ill-defined when the upper arm points straight forward or back (its projection vanishes).

Rest-relative angles (the four dashboard ones) have the same angle of the body's zero pose
subtracted when ``rest_joints`` are given, as the dashboard does: the model's joint centres are
not exactly collinear, so a straight limb reads a few degrees otherwise. The shoulder angles are
anatomical (the zero pose is a T-pose: its arms are at 90 deg, which should read 90).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach_backend.body.skeleton import SMPL_JOINT_NAMES
from coach_backend.mocap.skeleton import smpl_skeleton_fk

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
UP_Y = np.array([0.0, 1.0, 0.0])  # the vertical of the y-up frame


@dataclass(frozen=True)
class AngleDef:
    name: str  # e.g. "left_knee_flexion"
    kind: str  # "flexion" | "hip_flexion" | "trunk_lean" | "shoulder_elevation" | ...
    joints: tuple[int, ...]  # SMPL joint indices the kind reads, in its order
    rest_relative: bool  # zero-pose angle subtracted (dashboard convention)
    title: str  # for plots and reports


def _side(side: str, kind: str, joints: tuple[str, ...], rest: bool, title: str) -> AngleDef:
    return AngleDef(
        f"{side}_{title.lower().replace(' ', '_')}",
        kind,
        tuple(_J[f"{side}_{j}"] for j in joints),
        rest,
        f"{side.capitalize()} {title.lower()}",
    )


# The one list of angles: index k is column k of every angle array in coach_backend.analytics.
ANGLES: tuple[AngleDef, ...] = (
    *(
        _side(s, "flexion", ("hip", "knee", "ankle"), True, "Knee flexion")
        for s in ("left", "right")
    ),
    *(_side(s, "hip_flexion", ("hip", "knee"), True, "Hip flexion") for s in ("left", "right")),
    *(
        _side(s, "flexion", ("shoulder", "elbow", "wrist"), True, "Elbow flexion")
        for s in ("left", "right")
    ),
    *(
        _side(s, "shoulder_elevation", ("shoulder", "elbow"), False, "Shoulder elevation")
        for s in ("left", "right")
    ),
    *(
        _side(s, "shoulder_abduction", ("shoulder", "elbow"), False, "Shoulder abduction")
        for s in ("left", "right")
    ),
    AngleDef("trunk_lean", "trunk_lean", (), True, "Trunk lean"),
)
ANGLE_NAMES: tuple[str, ...] = tuple(a.name for a in ANGLES)
ANGLE_INDEX: dict[str, int] = {name: i for i, name in enumerate(ANGLE_NAMES)}
NUM_ANGLES = len(ANGLES)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-9)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between (..., 3) vectors; 0 where either is zero (as the dashboard)."""
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    cos = np.sum(a * b, axis=-1) / np.maximum(na * nb, 1e-18)
    out = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return np.where(na * nb < 1e-9, 0.0, out)


def _raw_angles(joints: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(..., 24, 3) -> (..., NUM_ANGLES) before rest offsets."""
    p = np.asarray(joints, np.float64)
    trunk = p[..., _J["neck"], :] - p[..., _J["pelvis"], :]  # pelvis -> neck
    # Frontal plane of the trunk: its axis and the right-to-left hip axis made orthogonal to it.
    trunk_u = _unit(trunk)
    lateral = p[..., _J["left_hip"], :] - p[..., _J["right_hip"], :]
    lateral = _unit(lateral - np.sum(lateral * trunk_u, -1, keepdims=True) * trunk_u)
    out = np.empty((*p.shape[:-2], NUM_ANGLES))
    for k, a in enumerate(ANGLES):
        j = a.joints
        if a.kind == "flexion":
            out[..., k] = 180.0 - _angle_deg(
                p[..., j[0], :] - p[..., j[1], :], p[..., j[2], :] - p[..., j[1], :]
            )
        elif a.kind == "hip_flexion":
            out[..., k] = 180.0 - _angle_deg(trunk, p[..., j[1], :] - p[..., j[0], :])
        elif a.kind == "trunk_lean":
            out[..., k] = _angle_deg(trunk, np.broadcast_to(up, trunk.shape))
        elif a.kind == "shoulder_elevation":
            out[..., k] = _angle_deg(p[..., j[1], :] - p[..., j[0], :], -trunk)
        elif a.kind == "shoulder_abduction":
            arm = p[..., j[1], :] - p[..., j[0], :]
            frontal = (
                np.sum(arm * trunk_u, -1, keepdims=True) * trunk_u
                + np.sum(arm * lateral, -1, keepdims=True) * lateral
            )
            out[..., k] = _angle_deg(frontal, -trunk)
        else:  # pragma: no cover - ANGLES is fixed above
            raise AssertionError(a.kind)
    return out


def rest_offsets(rest_joints: np.ndarray, up: np.ndarray = UP_Y) -> np.ndarray:
    """(NUM_ANGLES,) what the rest-relative angles read in the zero pose (0 for the others).
    ``rest_joints``: (24, 3) joints of the body's zero pose, y up (as the body model gives)."""
    raw = _raw_angles(np.asarray(rest_joints, np.float64)[None], up)[0]
    return np.where([a.rest_relative for a in ANGLES], raw, 0.0)


def joint_angles(
    joints: np.ndarray, rest_joints: np.ndarray | None = None, up: np.ndarray = UP_Y
) -> np.ndarray:
    """(..., 24, 3) SMPL-24 joint positions -> (..., NUM_ANGLES) degrees, columns ``ANGLE_NAMES``.

    ``rest_joints`` (24, 3): the body's zero-pose joints; when given, rest-relative angles read 0
    in that pose. ``up``: the vertical in the joints' frame (trunk lean only)."""
    joints = np.asarray(joints, np.float64)
    if joints.shape[-2:] != (24, 3):
        raise ValueError(f"joints must be (..., 24, 3), got {joints.shape}")
    angles = _raw_angles(joints, np.asarray(up, np.float64))
    if rest_joints is not None:
        angles = angles - rest_offsets(rest_joints, up)
    return angles


def angles_from_rotations(
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    rest_joints: np.ndarray,
    up: np.ndarray = UP_Y,
) -> np.ndarray:
    """SMPL rotations (..., 3) and (..., 23, 3) axis-angle (y-up frame) -> joint angles.

    Joints come from the SMPL tree's forward kinematics on the body's ``rest_joints`` (the same
    joints the body model outputs, without the mesh); rest offsets are taken from them too."""
    joints = smpl_skeleton_fk(
        np.asarray(global_orient, np.float64), np.asarray(body_pose, np.float64), rest_joints
    )
    return joint_angles(joints, rest_joints, up)


def camera_to_y_up(joints_camera: np.ndarray) -> np.ndarray:
    """OpenCV camera frame (y down, z forward; ``smpl.npz``) -> y-up wire frame: (x, -y, -z),
    the same change as coach_backend.stream.camera_to_wire."""
    return np.asarray(joints_camera, np.float64) * np.array([1.0, -1.0, -1.0])
