"""glTF / BVH export: validity (Khronos validator + structure), round trips, recordings, CLI
(and its errors: one line, no traceback)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib as gl
import pytest
import torch
from cli_support import assert_one_error_line, read_only_folder, run_cli_probe
from scipy.spatial.transform import Rotation

from coach_backend.body import SMPL_JOINT_NAMES, SMPL_PARENTS, BodyParams, load_body_model
from coach_backend.export import (
    Motion,
    export_animation_glb,
    export_body_glb,
    export_bvh,
    load_glb_rig,
    load_motion,
    motion_from_smpl,
)
from coach_backend.export.__main__ import main as cli
from coach_backend.export.figure import record_motion
from coach_backend.export.gltf import skin_influences
from coach_backend.export.gltf_read import read_accessor
from coach_backend.export.motion import rest_body
from coach_backend.mocap import forward_kinematics, load_bvh, pose_to_world
from coach_backend.recorder import SessionRecorder
from coach_backend.stream import camera_to_wire, make_session_info, rotation_error_deg

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = REPO / "tools" / "validate_gltf.mjs"
CODEC_MAX_DEG = 0.25  # wire codec worst case is 0.229 deg
CLI = "coach_backend.export.__main__"


def random_smpl(t: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    """Camera-frame SMPL params of a person ~3 m in front of the camera, varied poses."""
    rng = np.random.default_rng(seed)
    upright = Rotation.from_euler("x", 180, degrees=True)
    go = (upright * Rotation.from_rotvec(rng.normal(0, 0.3, (t, 3)))).as_rotvec()
    transl = np.c_[rng.normal(0, 0.1, t), rng.normal(0, 0.1, t), 3 + rng.normal(0, 0.1, t)]
    return {
        "global_orient": go,
        "body_pose": rng.normal(0, 0.35, (t, 23, 3)),
        "transl": transl,
        "betas": rng.normal(0, 1, 10),
    }


@pytest.fixture(scope="module")
def smpl() -> dict[str, np.ndarray]:
    return random_smpl()


@pytest.fixture(scope="module")
def motion(smpl: dict[str, np.ndarray]) -> Motion:
    return motion_from_smpl(**smpl, fps=30.0)


@pytest.fixture(scope="module")
def body_glb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_body_glb(tmp_path_factory.mktemp("glb") / "body.glb")


@pytest.fixture(scope="module")
def anim_glb(tmp_path_factory: pytest.TempPathFactory, motion: Motion) -> Path:
    return export_animation_glb(tmp_path_factory.mktemp("glb") / "anim.glb", motion)


def wire_rotvecs(smpl: dict[str, np.ndarray]) -> np.ndarray:
    go, _ = camera_to_wire(smpl["global_orient"], smpl["transl"])
    return np.concatenate([go[:, None], smpl["body_pose"]], axis=1)


# -- validity --


@pytest.mark.skipif(
    shutil.which("node") is None or not (REPO / "tools/node_modules/gltf-validator").is_dir(),
    reason="needs node and the Khronos validator: (cd tools && npm ci)",
)
def test_khronos_validator_reports_no_issues(body_glb: Path, anim_glb: Path) -> None:
    run = subprocess.run(
        ["node", str(VALIDATOR), str(body_glb), str(anim_glb)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    reports = json.loads(run.stdout)
    for report in reports:
        issues = report["issues"]
        assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"]
        assert report["info"]["hasSkins"] and report["info"]["maxInfluences"] == 4
    assert reports[0]["info"]["animationCount"] == 0
    assert reports[1]["info"]["animationCount"] == 1
    assert run.returncode == 0


def test_body_glb_structure(body_glb: Path) -> None:
    gltf = gl.GLTF2().load(str(body_glb))
    rest = rest_body()
    (skin,) = gltf.skins
    assert skin.joints == list(range(24)) and skin.skeleton == 0
    assert [gltf.nodes[j].name for j in skin.joints] == list(SMPL_JOINT_NAMES)
    parents = [-1] * 24
    for n, node in enumerate(gltf.nodes):
        for c in node.children or []:
            parents[c] = n
    assert parents == list(SMPL_PARENTS)
    assert gltf.scenes[gltf.scene].nodes == [0, 24]
    mesh_node = gltf.nodes[24]
    assert mesh_node.skin == 0 and mesh_node.mesh == 0 and not gltf.animations

    prim = gltf.meshes[0].primitives[0]
    n_vert, n_face = len(rest.vertices), len(rest.faces)
    counts = {
        name: gltf.accessors[getattr(prim.attributes, name)].count
        for name in ("POSITION", "NORMAL", "JOINTS_0", "WEIGHTS_0")
    }
    assert set(counts.values()) == {n_vert}
    assert gltf.accessors[prim.indices].count == 3 * n_face
    assert gltf.accessors[skin.inverseBindMatrices].count == 24

    weights = read_accessor(gltf, prim.attributes.WEIGHTS_0)
    joints = read_accessor(gltf, prim.attributes.JOINTS_0)
    assert weights.dtype == np.float32 and joints.dtype == np.uint8
    np.testing.assert_allclose(weights.sum(axis=1, dtype=np.float64), 1.0, atol=1e-6)
    assert weights.min() >= 0 and joints.max() < 24
    # The largest LBS weight of every vertex is kept on the same joint.
    assert np.array_equal(joints[:, 0], rest.weights.argmax(axis=1))

    rig = load_glb_rig(body_glb)
    # Inverse bind matrices invert the bind (rest) pose, and the bind pose is the T-pose.
    np.testing.assert_allclose(
        rig.world() @ rig.inverse_bind, np.tile(np.eye(4), (24, 1, 1)), atol=1e-6
    )
    np.testing.assert_allclose(rig.world()[:, :3, 3], rest.joints, atol=1e-6)
    np.testing.assert_allclose(rig.world()[:, :3, :3], np.tile(np.eye(3), (24, 1, 1)))
    np.testing.assert_allclose(rig.skin(), rest.vertices, atol=1e-5)
    # y up, metres, facing +z: a standing adult; the nose side (keypoint 0 region) is at +z.
    height = np.ptp(rig.positions[:, 1])
    assert 1.4 < height < 2.1
    head = rig.world()[SMPL_JOINT_NAMES.index("head"), :3, 3]
    assert head[1] > rig.world()[0, 1, 3] + 0.4
    # Facing +z: the feet point forward (+z), the left side is at +x.
    world = rig.world()[:, :3, 3]
    for side in ("left", "right"):
        foot, ankle = (
            SMPL_JOINT_NAMES.index(f"{side}_foot"),
            SMPL_JOINT_NAMES.index(f"{side}_ankle"),
        )
        assert world[foot, 2] > world[ankle, 2] + 0.05
    assert world[SMPL_JOINT_NAMES.index("left_hip"), 0] > 0


def test_skin_influences_top4_renormalised() -> None:
    rng = np.random.default_rng(1)
    w = rng.dirichlet(np.full(24, 0.2), size=500)
    w[0] = 0.0
    w[0, 5] = 1.0  # a rigid vertex: the unused slots must not repeat a joint
    joints, weights = skin_influences(w)
    np.testing.assert_array_equal(joints[0], [5, 0, 0, 0])
    np.testing.assert_array_equal(weights[0], [1, 0, 0, 0])
    top = np.sort(w, axis=1)[:, ::-1][:, :4]
    np.testing.assert_allclose(weights, top / top.sum(1, keepdims=True), atol=2e-6)
    assert np.abs(weights.sum(axis=1, dtype=np.float32) - 1.0).max() <= 1.2e-7  # 1 ulp


# -- animation --


def test_animation_channels(anim_glb: Path, motion: Motion) -> None:
    gltf = gl.GLTF2().load(str(anim_glb))
    (anim,) = gltf.animations
    targets = [(c.target.node, c.target.path) for c in anim.channels]
    assert targets == [(j, "rotation") for j in range(24)] + [(0, "translation")]
    for sampler in anim.samplers:
        assert sampler.interpolation == "LINEAR"
        times = read_accessor(gltf, sampler.input)
        np.testing.assert_allclose(times, motion.times, atol=1e-6)
        assert gltf.accessors[sampler.output].count == len(motion)


def test_animation_round_trip(anim_glb: Path, motion: Motion, smpl: dict) -> None:
    rig = load_glb_rig(anim_glb)
    expected = wire_rotvecs(smpl)
    for i in (0, 5, len(motion) - 1):
        quats, trans = rig.local_pose(float(motion.times[i]))
        got = Rotation.from_quat(quats).as_rotvec()
        assert rotation_error_deg(got, expected[i]).max() < 1e-3  # float32 storage only
        # relative root motion: the first frame's pelvis sits at the rest pelvis
        pelvis = motion.pelvis[i] - motion.pelvis[0] + rig.rest_translation[0]
        np.testing.assert_allclose(trans[0], pelvis, atol=1e-6)
    # Between keys the sampler slerps: halfway is the geodesic midpoint.
    t_mid = 0.5 * (motion.times[2] + motion.times[3])
    got = Rotation.from_quat(rig.local_pose(float(t_mid))[0])
    a, b = Rotation.from_rotvec(expected[2]), Rotation.from_rotvec(expected[3])
    half = a * Rotation.from_rotvec(0.5 * (a.inv() * b).as_rotvec())
    assert np.degrees((got.inv() * half).magnitude()).max() < 1e-3


def test_animation_skins_like_the_body_model(tmp_path: Path, smpl: dict) -> None:
    """The posed .glb (glTF skinning, top-4 weights) matches the body model, turned upright."""
    m = motion_from_smpl(**smpl)
    rig = load_glb_rig(export_animation_glb(tmp_path / "a.glb", m, root_motion="absolute"))
    body = load_body_model()
    i = 4
    with torch.no_grad():
        params = {k: smpl[k] if k == "betas" else smpl[k][i] for k in smpl}
        ref = body(BodyParams.from_numpy(**params)).vertices[0].double().numpy()
    ref = ref * np.array([1.0, -1.0, -1.0])  # camera -> wire frame is Rx(180)
    err = np.linalg.norm(rig.skin(float(m.times[i])) - ref, axis=1)
    assert np.median(err) < 1e-4  # most vertices have <= 4 influences
    assert err.max() < 0.03  # dropped 5th+ weights move a few vertices by millimetres


def test_invalid_frames_are_held(tmp_path: Path, smpl: dict) -> None:
    valid = np.ones(12, bool)
    valid[[0, 4, 5]] = False
    m = motion_from_smpl(**smpl, valid=valid)
    rig = load_glb_rig(export_animation_glb(tmp_path / "h.glb", m))
    expected = wire_rotvecs(smpl)
    source = {0: 1, 4: 3, 5: 3, 6: 6}  # leading invalid: first valid; others: last valid
    for i, j in source.items():
        q, _ = rig.local_pose(float(m.times[i]))
        assert rotation_error_deg(Rotation.from_quat(q).as_rotvec(), expected[j]).max() < 1e-3
    # NaN rows (a failed frame) are invalid too, and never reach the file.
    bad = {k: v.copy() for k, v in smpl.items()}
    bad["body_pose"][7] = np.nan
    m2 = motion_from_smpl(**bad)
    assert not m2.valid[7] and np.isfinite(m2.held()[0]).all()


# -- BVH --


def bvh_local_rotvecs(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(T,24,3) local rotvecs and (T,24,3) joint positions re-imported from a BVH."""
    bvh = load_bvh(path)
    names = bvh.names
    assert sorted(names) == sorted(SMPL_JOINT_NAMES) and names[0] == "pelvis"
    to_bvh = [names.index(n) for n in SMPL_JOINT_NAMES]  # SMPL index -> BVH index
    assert [bvh.joints[to_bvh[j]].parent for j in range(24)] == [
        to_bvh[p] if p >= 0 else -1 for p in SMPL_PARENTS
    ]
    pose = forward_kinematics(bvh)
    world = pose.rotations[:, to_bvh]
    local = world.copy()
    for j, p in enumerate(SMPL_PARENTS):
        if p >= 0:
            local[:, j] = np.swapaxes(world[:, p], -1, -2) @ world[:, j]
    rv = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_rotvec().reshape(local.shape[0], 24, 3)
    return rv, pose.positions[:, to_bvh]


@pytest.mark.parametrize("euler", ["ZYX", "XYZ"])
def test_bvh_round_trip(tmp_path: Path, smpl: dict, motion: Motion, euler: str) -> None:
    path = export_bvh(tmp_path / "m.bvh", motion, euler=euler)
    text = path.read_text()
    rot = "Zrotation Yrotation Xrotation" if euler == "ZYX" else "Xrotation Yrotation Zrotation"
    assert f"CHANNELS 6 Xposition Yposition Zposition {rot}" in text
    assert text.count("End Site") == 5  # head, 2 feet, 2 hands
    rv, positions = bvh_local_rotvecs(path)
    assert rv.shape[0] == len(motion)
    assert rotation_error_deg(rv, wire_rotvecs(smpl)).max() < 0.01
    # Joint positions: same kinematics as the body model (rest joints of the motion's shape).
    rest = rest_body(motion.betas).joints
    world = pose_to_world(motion.rotvecs[:, 0], motion.rotvecs[:, 1:])
    root = motion.pelvis - motion.pelvis[0] + rest[0]
    for j, p in enumerate(SMPL_PARENTS):
        if p < 0:
            np.testing.assert_allclose(positions[:, 0], root, atol=1e-5)
        else:
            bone = np.einsum("tij,j->ti", world[:, p], rest[j] - rest[p])
            np.testing.assert_allclose(positions[:, j] - positions[:, p], bone, atol=1e-5)
    assert load_bvh(path).frame_time == pytest.approx(1 / 30, abs=1e-6)


def test_bvh_scale_and_absolute_root(tmp_path: Path, motion: Motion) -> None:
    path = export_bvh(tmp_path / "cm.bvh", motion, root_motion="absolute", scale=100.0)
    _, positions = bvh_local_rotvecs(path)
    np.testing.assert_allclose(positions[:, 0], motion.pelvis * 100.0, atol=1e-3)


# -- inputs: recordings, replay npz, CLI --


def test_recording_to_glb_and_bvh(tmp_path: Path, smpl: dict) -> None:
    rotvecs = wire_rotvecs(smpl)
    _, pelvis = camera_to_wire(smpl["global_orient"], smpl["transl"] + 0.0)
    times = np.arange(12) / 30.0
    times[6:] += 0.1  # a gap (frames lost live): the glTF keeps the real times
    valid = np.ones(12, bool)
    valid[3] = False
    rec = record_motion(tmp_path / "s.coachrec", rotvecs, pelvis, times, valid, smpl["betas"])
    m = load_motion(rec)
    np.testing.assert_allclose(m.times, times, atol=1e-6)
    np.testing.assert_allclose(m.betas, smpl["betas"], atol=1e-6)  # SessionInfo betas (float32)
    assert list(m.valid) == list(valid)

    assert cli(["animation", str(rec), "--out", str(tmp_path / "s.glb")]) == 0
    rig = load_glb_rig(tmp_path / "s.glb")
    for i in (0, 3, 7):
        q, _ = rig.local_pose(float(times[i]))
        src = 2 if i == 3 else i  # frame 3 is invalid: held
        err = rotation_error_deg(Rotation.from_quat(q).as_rotvec(), rotvecs[src])
        assert err.max() < CODEC_MAX_DEG

    assert cli(["bvh", str(rec), "--out", str(tmp_path / "s.bvh")]) == 0
    rv, _ = bvh_local_rotvecs(tmp_path / "s.bvh")
    held = rotvecs.copy()
    held[3] = rotvecs[2]
    assert rotation_error_deg(rv, held).max() < CODEC_MAX_DEG


def test_recording_duplicate_times_dropped(tmp_path: Path) -> None:
    rotvecs = np.zeros((4, 24, 3))
    rec = record_motion(
        tmp_path / "d.coachrec", rotvecs, np.zeros((4, 3)), np.array([0.0, 0.1, 0.1, 0.2])
    )
    m = load_motion(rec)
    np.testing.assert_allclose(m.times, [0.0, 0.1, 0.2], atol=1e-9)


def test_replay_npz_to_glb_and_bvh(tmp_path: Path, smpl: dict) -> None:
    t = 12
    valid = np.ones(t, bool)
    valid[-1] = False
    npz = tmp_path / "smpl.npz"
    np.savez(
        npz, global_orient=smpl["global_orient"], body_pose=smpl["body_pose"],
        betas=np.tile(smpl["betas"], (t, 1)), transl=smpl["transl"], valid=valid,
        timestamps=np.arange(t) / 25.0, fps=np.float64(25.0), joints=np.zeros((t, 24, 3)),
        meta=np.array('{"smoothing": "zero_phase"}'),  # the replay CLI's extra keys are ignored
    )  # fmt: skip
    m = load_motion(npz)
    assert m.fps == pytest.approx(25.0)
    np.testing.assert_allclose(m.betas, smpl["betas"])
    assert cli(["animation", str(npz), "--out", str(tmp_path / "r.glb")]) == 0
    rig = load_glb_rig(tmp_path / "r.glb")
    q, trans = rig.local_pose(float(m.times[2]))
    expected = wire_rotvecs(smpl)
    assert rotation_error_deg(Rotation.from_quat(q).as_rotvec(), expected[2]).max() < 1e-3
    # The avatar stands upright: head above pelvis in the posed glb.
    world = rig.world(float(m.times[2]))
    assert world[SMPL_JOINT_NAMES.index("head"), 1, 3] > world[0, 1, 3] + 0.3
    assert cli(["bvh", str(npz), "--out", str(tmp_path / "r.bvh"), "--euler", "XYZ"]) == 0
    rv, _ = bvh_local_rotvecs(tmp_path / "r.bvh")
    held = expected.copy()
    held[-1] = expected[-2]
    assert rotation_error_deg(rv, held).max() < 0.01


def test_cli_body(tmp_path: Path) -> None:
    betas = ["2"] + ["0"] * 9
    assert cli(["body", "--out", str(tmp_path / "tall.glb"), "--betas", *betas]) == 0
    tall = load_glb_rig(tmp_path / "tall.glb")
    assert np.ptp(tall.positions[:, 1]) > np.ptp(rest_body().vertices[:, 1]) + 0.1
    with pytest.raises(SystemExit):
        cli(["body", "x.npz", "--out", str(tmp_path / "b.glb")])
    with pytest.raises(SystemExit):
        cli(["bvh", "--out", str(tmp_path / "b.bvh")])


def test_cli_force_replaces(tmp_path: Path, capsys) -> None:
    out = tmp_path / "body.glb"
    assert cli(["body", "--out", str(out)]) == 0
    before = out.stat().st_mtime_ns
    assert cli(["body", "--out", str(out)]) == 1  # refused: it exists
    assert "--force" in capsys.readouterr().err and out.stat().st_mtime_ns == before
    assert cli(["body", "--out", str(out), "--force"]) == 0


# -- every error path: one line on stderr, non-zero exit, nothing written (issue 12, fault 8) --


def test_cli_help_imports_nothing_heavy() -> None:
    run = run_cli_probe(CLI, "--help")
    assert run.returncode == 0 and "--out" in run.stdout
    assert run.heavy_imported == []


@pytest.mark.parametrize(
    "case",
    [
        "input_missing",
        "input_folder",
        "out_wrong_suffix",
        "out_is_a_folder",
        "out_exists",
        "out_read_only",
        "out_inside_a_file",
        "model_missing",
    ],
)
def test_cli_path_errors_before_any_import(case: str, tmp_path: Path) -> None:
    rec = record_motion(tmp_path / "s.coachrec", np.zeros((3, 24, 3)), np.zeros((3, 3)),
                        np.arange(3) / 30.0)  # fmt: skip
    out = tmp_path / "out.glb"
    args = ["animation", str(rec)]
    if case == "input_missing":
        args, named = ["animation", str(tmp_path / "gone.coachrec")], "no such file"
    elif case == "input_folder":
        args, named = ["animation", str(tmp_path)], "not a file"
    elif case == "out_wrong_suffix":
        out, named = tmp_path / "out.bvh", "*.glb"
    elif case == "out_is_a_folder":
        out, named = tmp_path, "is a folder"
    elif case == "out_exists":
        out.write_bytes(b"keep me")
        named = "--force"
    elif case == "out_inside_a_file":
        out, named = rec / "out.glb", "is a file, not a folder"
    elif case == "model_missing":
        args += ["--model", str(tmp_path / "none.npz")]
        named = "no such file"
    if case == "out_read_only":
        with read_only_folder(tmp_path / "read_only") as read_only:
            out = read_only / "out.glb"
            run = run_cli_probe(CLI, *args, "--out", str(out))
        named = "cannot write in"
    else:
        run = run_cli_probe(CLI, *args, "--out", str(out))
    assert run.returncode == 1, run.stderr
    assert_one_error_line(run.stderr, named)
    assert run.heavy_imported == []  # checked before torch and the body model
    if case == "out_exists":
        assert out.read_bytes() == b"keep me"
    elif case != "out_is_a_folder":
        assert not out.exists()


@pytest.mark.parametrize(
    "case", ["npz_garbage", "npz_not_a_zip", "npz_missing_keys", "rec_corrupt", "rec_no_frames",
             "model_garbage"],
)  # fmt: skip
def test_cli_unusable_files_are_one_line(case: str, tmp_path: Path) -> None:
    rec = record_motion(tmp_path / "s.coachrec", np.zeros((3, 24, 3)), np.zeros((3, 3)),
                        np.arange(3) / 30.0)  # fmt: skip
    bad = tmp_path / "bad.npz"
    extra: list[str] = []
    if case == "npz_garbage":
        bad.write_bytes(np.random.default_rng(0).bytes(3000))
        named = "not a usable recording or replay .npz"
    elif case == "npz_not_a_zip":
        bad.write_bytes(b"PK\x03\x04" + bytes(100))
        named = "not a usable recording or replay .npz"
    elif case == "npz_missing_keys":
        np.savez(bad, valid=np.ones(3, bool))
        named = "missing"
    elif case == "rec_corrupt":
        bad = tmp_path / "bad.coachrec"
        bad.write_bytes(np.random.default_rng(0).bytes(3000))
        named = "corrupt"
    elif case == "rec_no_frames":  # a replay killed before its first frame leaves this
        bad = tmp_path / "empty.coachrec"
        SessionRecorder(bad, make_session_info("empty")).close()
        named = "no frames"
    elif case == "model_garbage":
        bad, extra = rec, ["--model", str(tmp_path / "body.npz")]
        (tmp_path / "body.npz").write_bytes(b"not a body model")
        named = "body model"
    out = tmp_path / "out.bvh"
    run = run_cli_probe(CLI, "bvh", str(bad), "--out", str(out), *extra)
    assert run.returncode == 1, run.stderr
    assert_one_error_line(run.stderr, named)
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["animation", "--out", "x.glb"],  # no INPUT
        ["body", "--out", "x.glb", "--betas", "1", "2"],  # 2 betas, not 10
        ["bvh", "in.npz", "--out", "x.bvh", "--scale", "0"],
    ],
)
def test_cli_usage_errors_exit_2_without_traceback(args: list[str]) -> None:
    run = run_cli_probe(CLI, *args)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("python -m coach_backend.export: error:")
