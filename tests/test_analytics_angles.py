"""Joint angles: known single-joint poses, rotations == body-model joints, and the dashboard's
JavaScript definitions (coach_backend/dashboard/web/src/angles.js) give the same numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from analytics_support import rest_joints
from scipy.spatial.transform import Rotation

from coach_backend.analytics import (
    ANGLE_INDEX,
    ANGLE_NAMES,
    angles_from_rotations,
    camera_to_y_up,
    joint_angles,
    rest_offsets,
)
from coach_backend.analytics.synthetic import ARM_DOWN_DEG
from coach_backend.body import BodyParams, load_body_model

REPO = Path(__file__).resolve().parents[1]
ANGLES_JS = REPO / "coach_backend" / "dashboard" / "web" / "src" / "angles.js"
# body_pose rows (SMPL joint index - 1)
L_HIP, L_KNEE, L_SHOULDER, R_SHOULDER, L_ELBOW = 0, 3, 15, 16, 17


def one_pose(rows: dict[int, tuple[float, float, float]], go_deg=(0.0, 0.0, 0.0)) -> dict:
    bp = np.zeros((1, 23, 3))
    for row, deg in rows.items():
        bp[0, row] = np.radians(deg)
    a = angles_from_rotations(np.radians([go_deg]), bp, rest_joints())[0]
    return dict(zip(ANGLE_NAMES, a, strict=True))


def test_zero_pose_reads_zero_and_t_pose_arms() -> None:
    a = one_pose({})
    for name, value in a.items():
        expected = 90.0 if "shoulder" in name else 0.0  # the zero pose is a T-pose
        assert value == pytest.approx(expected, abs=0.5), name


@pytest.mark.parametrize(
    ("rows", "go", "angle", "expected"),
    [
        ({L_KNEE: (90, 0, 0)}, (0, 0, 0), "left_knee_flexion", 90),
        ({L_KNEE: (45, 0, 0)}, (0, 0, 0), "left_knee_flexion", 45),
        ({L_HIP: (-90, 0, 0)}, (0, 0, 0), "left_hip_flexion", 90),
        ({L_ELBOW: (0, -90, 0)}, (0, 0, 0), "left_elbow_flexion", 90),
        ({}, (30, 0, 0), "trunk_lean", 30),
        ({L_SHOULDER: (0, 0, -ARM_DOWN_DEG)}, (0, 0, 0), "left_shoulder_elevation", 10),
        ({L_SHOULDER: (0, 0, -ARM_DOWN_DEG)}, (0, 0, 0), "left_shoulder_abduction", 10),
        ({L_SHOULDER: (0, 0, 70)}, (0, 0, 0), "left_shoulder_abduction", 160),
        ({R_SHOULDER: (0, 0, -70)}, (0, 0, 0), "right_shoulder_elevation", 160),
        # Arm straight forward (a front raise): elevated ~90; the model's trunk axis leans
        # back a few degrees in its zero pose (spine curve), hence 94.
        ({L_SHOULDER: (0, -90, 0)}, (0, 0, 0), "left_shoulder_elevation", 94),
    ],
)
def test_single_joint_rotations(rows, go, angle, expected) -> None:
    # Joint centres are not collinear in the model, so a rotation of X deg reads X within ~2.
    assert one_pose(rows, go)[angle] == pytest.approx(expected, abs=2.5)


def test_angles_do_not_depend_on_where_the_body_is_or_faces() -> None:
    rng = np.random.default_rng(1)
    bp = rng.normal(0, 0.4, (5, 23, 3))
    rest = rest_joints()
    from coach_backend.mocap import smpl_skeleton_fk

    joints = smpl_skeleton_fk(np.zeros((5, 3)), bp, rest)
    turned = Rotation.from_euler("y", 123, degrees=True).apply(joints.reshape(-1, 3))
    moved = turned.reshape(joints.shape) + np.array([1.0, 0.2, -3.0])
    np.testing.assert_allclose(joint_angles(moved, rest), joint_angles(joints, rest), atol=1e-9)


def test_rotations_give_the_body_models_joints() -> None:
    rng = np.random.default_rng(0)
    go, bp = rng.normal(0, 0.3, (8, 3)), rng.normal(0, 0.4, (8, 23, 3))
    with torch.no_grad():
        out = load_body_model()(BodyParams.from_numpy(global_orient=go, body_pose=bp))
    from_body = joint_angles(out.joints.double().numpy(), rest_joints())
    np.testing.assert_allclose(angles_from_rotations(go, bp, rest_joints()), from_body, atol=1e-3)


def test_camera_frame_joints_converted_to_y_up() -> None:
    from coach_backend.mocap import smpl_skeleton_fk

    upright = smpl_skeleton_fk(np.zeros((1, 3)), np.zeros((1, 23, 3)), rest_joints())
    camera = upright * np.array([1.0, -1.0, -1.0])  # what smpl.npz holds: y down
    assert joint_angles(camera)[0, ANGLE_INDEX["trunk_lean"]] > 170  # upside down in y-up
    fixed = joint_angles(camera_to_y_up(camera), rest_joints())
    assert fixed[0, ANGLE_INDEX["trunk_lean"]] == pytest.approx(0.0, abs=1e-6)


def test_bad_shape_rejected() -> None:
    with pytest.raises(ValueError, match="24, 3"):
        joint_angles(np.zeros((4, 17, 3)))


@pytest.mark.skipif(shutil.which("node") is None, reason="node not on PATH")
def test_same_numbers_as_the_dashboard_javascript() -> None:
    rng = np.random.default_rng(7)
    go, bp = rng.normal(0, 0.5, (20, 3)), rng.normal(0, 0.5, (20, 23, 3))
    from coach_backend.mocap import smpl_skeleton_fk

    rest = rest_joints()
    joints = smpl_skeleton_fk(go, bp, rest)
    script = (
        f"import {{ jointAngles, restOffsets }} from {json.dumps(ANGLES_JS.as_uri())};\n"
        "let data = ''; process.stdin.on('data', (c) => (data += c));\n"
        "process.stdin.on('end', () => {\n"
        "  const { rest, frames } = JSON.parse(data);\n"
        "  const v = (a) => a.map(([x, y, z]) => ({ x, y, z }));\n"
        "  const off = restOffsets(rest);\n"
        "  console.log(JSON.stringify(frames.map((f) => jointAngles(v(f), off))));\n"
        "});\n"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=json.dumps({"rest": rest.tolist(), "frames": joints.tolist()}),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    js = json.loads(out.stdout)
    py = joint_angles(joints, rest)
    for frame, expected in zip(js, py, strict=True):
        for key, side in (
            ("knee", "knee_flexion"),
            ("hip", "hip_flexion"),
            ("elbow", "elbow_flexion"),
        ):
            got = [expected[ANGLE_INDEX[f"{s}_{side}"]] for s in ("left", "right")]
            np.testing.assert_allclose(got, frame[key], atol=1e-6)
        np.testing.assert_allclose(
            expected[ANGLE_INDEX["trunk_lean"]], frame["trunk"][0], atol=1e-6
        )
    # The shoulders are not in the dashboard: no rest offset (T-pose arms read 90).
    assert rest_offsets(rest)[ANGLE_INDEX["left_shoulder_elevation"]] == 0.0
