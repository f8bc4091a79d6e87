"""benchmarks/bench_real.py pieces that need no media or network: robust triangulation,
the Qualisys calibration parser, the 2D alignment metric; plus MediaPipe's world landmarks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_real", ROOT / "benchmarks" / "bench_real.py")
assert _spec is not None and _spec.loader is not None
br = importlib.util.module_from_spec(_spec)
sys.modules["bench_real"] = br  # dataclasses resolve their module by name
_spec.loader.exec_module(br)

FIXTURE_PHOTO = Path(__file__).parent / "fixtures" / "lunge-barbell-pexels-320.jpg"

# Made-up two-camera calibration in Qualisys' .qca.txt XML layout (sub-pixel units x64:
# sensorMaxU = 799 * 64, sensorMaxV = 599 * 64).
QCA_FIXTURE = """<?xml version='1.0' encoding='ASCII'?>
<calibration created="test" source="made-up.qca.txt" type="regular">
  <results min-max-diff="0." std-dev="0."/>
  <cameras>
    <camera active="1" avg-residual="0.3" model="none" serial="camA" viewrotation="0">
      <fov_marker bottom="599" left="0" right="799" top="0"/>
      <fov_video bottom="599" left="0" right="799" top="0"/>
      <transform r11="1.0" r12="0.0" r13="0.0" r21="0.0" r22="0.0" r23="-1.0" r31="0.0"
        r32="1.0" r33="0.0" x="100.0" y="-2500.0" z="1200.0"/>
      <intrinsic centerPointU="25600.0" centerPointV="19200.0" focalLengthU="51200.0"
        focalLengthV="51264.0" focallength="5.0" radialDistortion1="-0.05"
        radialDistortion2="0.12" radialDistortion3="0.01" sensorMaxU="51136" sensorMaxV="38336"
        sensorMinU="0.000000" sensorMinV="0.000000" skew="0.000000"
        tangentalDistortion1="0.001" tangentalDistortion2="-0.002"/>
    </camera>
    <camera active="1" avg-residual="0.4" model="none" serial="camB" viewrotation="0">
      <fov_marker bottom="599" left="0" right="799" top="0"/>
      <fov_video bottom="599" left="0" right="799" top="0"/>
      <transform r11="0.0" r12="1.0" r13="0.0" r21="-1.0" r22="0.0" r23="0.0" r31="0.0"
        r32="0.0" r33="1.0" x="-3000.0" y="0.0" z="1500.0"/>
      <intrinsic centerPointU="25280.0" centerPointV="19520.0" focalLengthU="48000.0"
        focalLengthV="48000.0" focallength="4.8" radialDistortion1="0.0"
        radialDistortion2="0.0" radialDistortion3="0.0" sensorMaxU="51136" sensorMaxV="38336"
        sensorMinU="0.000000" sensorMinV="0.000000" skew="0.000000"
        tangentalDistortion1="0.0" tangentalDistortion2="0.0"/>
    </camera>
  </cameras>
</calibration>
"""


def test_parse_qualisys_units_and_fields() -> None:
    cams = br.parse_qualisys(QCA_FIXTURE)
    assert [c.serial for c in cams] == ["camA", "camB"]
    a, b = cams
    assert a.subpixel == 64.0
    assert (a.fx, a.fy, a.cx, a.cy) == pytest.approx((800.0, 801.0, 400.0, 300.0))
    assert (b.fx, b.cx, b.cy) == pytest.approx((750.0, 395.0, 305.0))
    assert (a.width, a.height) == (800, 600)
    # OpenCV order: k1, k2, p1, p2, k3.
    np.testing.assert_allclose(a.dist, [-0.05, 0.12, 0.001, -0.002, 0.01])
    np.testing.assert_allclose(a.rotation, [[1, 0, 0], [0, 0, -1], [0, 1, 0]])
    np.testing.assert_allclose(a.position_mm, [100.0, -2500.0, 1200.0])
    np.testing.assert_allclose(b.rotation[0], [0.0, 1.0, 0.0])


def test_extrinsic_readings() -> None:
    cam = br.parse_qualisys(QCA_FIXTURE)[0]
    centre = cam.position_mm / 1000.0
    for reading in br.CONVENTIONS:
        rot, t = br.extrinsics(cam, reading)
        np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
        if reading.endswith("centre"):  # the stored position is the camera centre
            np.testing.assert_allclose(rot @ centre + t, 0.0, atol=1e-12)
        else:
            np.testing.assert_allclose(np.abs(t), np.abs(centre))
    rot, _ = br.extrinsics(cam, "flip R, centre")
    np.testing.assert_allclose(rot, np.diag([1.0, -1.0, -1.0]) @ cam.rotation)
    rot, _ = br.extrinsics(cam, "R^T, centre")
    np.testing.assert_allclose(rot, cam.rotation.T)


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """World->camera rotation (OpenCV axes) of a camera at `position` looking at `target`,
    world z up."""
    z = target - position
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


def four_cameras(dist: np.ndarray | None = None) -> list:
    k = np.array([[1500.0, 0, 540.0], [0, 1500.0, 960.0], [0, 0, 1]])
    cams = []
    for i, angle in enumerate(np.radians([20.0, 110.0, 200.0, 290.0])):
        pos = np.array([4.0 * np.cos(angle), 4.0 * np.sin(angle), 1.5])
        rot = look_at(pos, np.array([0.0, 0.0, 1.0]))
        d = np.zeros(5) if dist is None else dist
        cams.append(br.CalibratedCamera(f"c{i}", k, d, rot, -rot @ pos, 1080, 1920))
    return cams


def test_robust_triangulation_drops_outlier_view() -> None:
    rng = np.random.default_rng(0)
    cams = four_cameras()
    proj = np.stack([c.projection for c in cams])
    truth = rng.uniform([-0.5, -0.5, 0.2], [0.5, 0.5, 1.8], size=(20, 3))
    conf = np.array([0.9, 0.8, 0.95, 0.7])
    for x in truth:
        px = np.stack([c.project(x) for c in cams]) + rng.normal(0, 0.5, (4, 2))
        px[2] += [60.0, -45.0]  # view 2 saw something else
        tri = br.robust_triangulate(proj, px, conf, max_residual=8.0)
        assert tri.used.tolist() == [True, True, False, True]
        assert np.linalg.norm(tri.point - x) < 0.006
        assert tri.max_residual < 8.0
        assert tri.residuals[2] > 30.0
        # Without the robust step the outlier would pull the point off by centimetres.
        plain = br.dlt(proj, px, conf)
        assert np.linalg.norm(plain - x) > 0.01


def test_robust_triangulation_confidence_and_minimum_views() -> None:
    cams = four_cameras()
    proj = np.stack([c.projection for c in cams])
    x = np.array([0.1, -0.2, 1.1])
    px = np.stack([c.project(x) for c in cams])
    px[3] += 200.0  # a wrong but low-confidence detection is never used
    tri = br.robust_triangulate(proj, px, np.array([0.9, 0.9, 0.9, 0.3]))
    assert tri.used.tolist() == [True, True, True, False]
    np.testing.assert_allclose(tri.point, x, atol=1e-6)
    lonely = br.robust_triangulate(proj, px, np.array([0.9, 0.2, 0.1, 0.0]))
    assert not lonely.used.any() and np.isnan(lonely.point).all()


def test_triangulate_trial_undistorts_and_flags_incomplete_frames() -> None:
    rng = np.random.default_rng(1)
    cams = four_cameras(dist=np.array([-0.08, 0.15, 0.001, -0.001, 0.0]))
    truth = rng.uniform([-0.5, -0.5, 0.2], [0.5, 0.5, 1.8], size=(3, 12, 3))  # (T,12,3)
    kp = np.stack([c.project(truth) for c in cams])  # (V,T,12,2) distorted pixels
    conf = np.full(kp.shape[:3], 0.9)
    kp[1, 1, 4] += [80.0, 0.0]  # frame 1: one outlier view (recoverable)
    conf[1:, 2, 7] = 0.3  # frame 2: one point seen confidently by a single view only
    ref = br.triangulate_trial(cams, kp, conf, max_residual=5.0)
    assert ref.kept.tolist() == [True, True, False]
    np.testing.assert_allclose(ref.points[:2], truth[:2], atol=1e-4)
    assert not ref.used[1, 4, 1] and ref.dropped[1, 4, 1]
    assert np.nanmax(ref.residuals[ref.kept]) < 1e-3


def test_well_triangulated_frames_need_three_views_and_steady_edges() -> None:
    """A frame seen by only two views, and one whose wrist landed far off (a consistent but
    wrong two-view solution), are kept by the residual test but are not well triangulated."""
    rng = np.random.default_rng(2)
    cams = four_cameras()
    base = rng.uniform([-0.3, -0.3, 0.5], [0.3, 0.3, 1.5], size=(12, 3))
    truth = np.repeat(base[None], 5, axis=0) + rng.normal(0, 0.003, (5, 12, 3))
    kp = np.stack([c.project(truth) for c in cams])
    conf = np.full(kp.shape[:3], 0.9)
    conf[2:, 1] = 0.3  # frame 1: views 2 and 3 not confident anywhere -> two views
    ref = br.triangulate_trial(cams, kp, conf, max_residual=5.0)
    assert ref.kept.all()
    ref.points[3, 4] += [0.0, 0.0, 0.6]  # frame 3: the left wrist 60 cm off
    assert ref.well_triangulated().tolist() == [True, False, True, False, True]


def _walking_reference(frames: int = 100, fps: float = 60.0) -> np.ndarray:
    """A rigid 12-point skeleton swaying at 1 Hz: (T,12,3) metres, bones of constant length."""
    rng = np.random.default_rng(0)
    rest = rng.normal(0.0, 0.3, (12, 3))
    t = np.arange(frames) / fps
    angle = 0.4 * np.sin(2 * np.pi * 1.0 * t)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.zeros((frames, 3, 3))
    rot[:, 0, 0], rot[:, 0, 2], rot[:, 1, 1], rot[:, 2, 0], rot[:, 2, 2] = c, s, 1, -s, c
    return np.einsum("tij,kj->tki", rot, rest) + np.array([0.0, 0.0, 3.0])


def test_filtered_reference_removes_jitter_not_motion() -> None:
    truth = _walking_reference()
    noisy = truth + np.random.default_rng(1).normal(0.0, 0.02, truth.shape)
    frames = np.delete(np.arange(100), [40, 41, 70])  # frames left out are bridged
    view = br.View3D("pose2sim/Trial_1/cam01", frames, noisy[frames], np.zeros(100),
                     np.ones(len(frames), bool), fps=60.0)  # fmt: skip
    filtered = br.filtered_target(view, cutoff_hz=6.0)
    error = lambda x: np.linalg.norm(x - truth[frames], axis=-1).mean()  # noqa: E731
    assert error(filtered) < 0.5 * error(noisy[frames])  # jitter gone...
    clean = br.View3D("c", frames, truth[frames], np.zeros(100), np.ones(len(frames), bool))
    assert error(br.filtered_target(clean, cutoff_hz=6.0)) < 0.002  # ...a 1 Hz sway kept


def test_limb_length_sd_is_zero_for_a_rigid_body_and_grows_with_noise() -> None:
    truth = _walking_reference()
    assert br.limb_length_sd(truth) < 1e-6
    noisy = truth + np.random.default_rng(2).normal(0.0, 0.02, truth.shape)
    assert 15.0 < br.limb_length_sd(noisy) < 40.0  # mm: 2 cm per point, two points per bone


def test_relative_errors_2d_hand_made() -> None:
    # Frame 0: confident keypoints at y = 100, 300, 200 (height 200 px); errors 5, 20, ignored
    # (low confidence), and a missing prediction (counts as a miss). Frame 1: nothing seen.
    det = np.array([[[10.0, 100.0], [20.0, 300.0], [30.0, 200.0], [40.0, 250.0]],
                    [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]])  # fmt: skip
    conf = np.array([[0.9, 0.6, 0.2, 0.5], [0.1, 0.0, 0.3, 0.4]])
    pred = det.copy()
    pred[0, 0] += [3.0, 4.0]  # 5 px = 2.5 %
    pred[0, 1] += [0.0, -20.0]  # 20 px = 10 %
    pred[0, 2] += [500.0, 0.0]  # low confidence: not compared
    pred[0, 3] = np.nan  # no prediction: infinite error
    height = br.person_height(det, conf)
    assert height[0] == pytest.approx(200.0)  # 100..300; the low-confidence y=200 is inside anyway
    assert np.isnan(height[1])
    rel = br.relative_errors_2d(pred, det, conf, height)
    np.testing.assert_allclose(np.sort(rel), [0.025, 0.1, np.inf])
    median, pck = br.summarise_2d(rel)
    assert median == pytest.approx(10.0)
    assert pck == pytest.approx(100.0 / 3.0)
    assert np.isnan(br.summarise_2d(np.zeros(0))[0])


def test_person_height_uses_confident_keypoints_only() -> None:
    kp = np.array([[[0.0, 50.0], [0.0, 400.0], [0.0, 900.0]]])
    assert br.person_height(kp, np.array([[0.9, 0.8, 0.4]]))[0] == pytest.approx(350.0)
    assert np.isnan(br.person_height(kp, np.array([[0.9, 0.1, 0.4]]))[0])


def test_pelvis_aligned_mpjpe_ignores_translation_not_rotation() -> None:
    rng = np.random.default_rng(2)
    target = rng.normal(size=(2, 12, 3))
    assert br.pelvis_aligned_mpjpe(target + [1.0, 2.0, 3.0], target) == pytest.approx(0.0, abs=1e-9)
    turned = target @ cv2.Rodrigues(np.array([0.0, 0.5, 0.0]))[0].T
    assert (br.pelvis_aligned_mpjpe(turned, target) > 10.0).all()
    assert br.pa_mpjpe(turned, target) == pytest.approx(0.0, abs=1e-6)


def test_detect_with_world_matches_detect() -> None:
    pytest.importorskip("mediapipe")
    from coach_backend.perception import PerceptionConfig
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    frame = cv2.imread(str(FIXTURE_PHOTO))
    config = PerceptionConfig(static_image_mode=True)
    with MediaPipeDetector(config) as a, MediaPipeDetector(config) as b:
        rep = a.detect(frame)
        rep_w, world = b.detect_with_world(frame)
        empty, none = b.detect_with_world(np.zeros((120, 160, 3), np.uint8))
    assert rep.has_person and rep_w.has_person
    np.testing.assert_array_equal(rep.keypoints, rep_w.keypoints)
    np.testing.assert_array_equal(rep.confidences, rep_w.confidences)
    assert rep.box == rep_w.box
    assert world is not None and world.shape == (33, 3)
    hips = world[[23, 24]].mean(0)  # origin between the hips, metres
    assert np.linalg.norm(hips) < 0.05
    assert 0.2 < np.linalg.norm(world[11] - world[27]) < 2.0  # shoulder to ankle
    assert not empty.has_person and none is None


def test_given_2d_rows_lift_the_projected_reference() -> None:
    """The reference projected into a view is all the model sees; held-out mocap poses come
    back well below the constant pose, with or without the nose."""
    from coach_backend.body import BodyParams, load_body_model
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS, Reconstructor
    from coach_backend.gcssn.metrics import pa_mpjpe
    from coach_backend.mocap import load_bvh, retarget

    motion = retarget(
        load_bvh(sorted((Path(__file__).parent / "fixtures" / "cmu").glob("*.bvh"))[0])
    )
    take = np.linspace(0, len(motion.body_pose) - 1, 12).astype(int)
    params = BodyParams.zeros(len(take))
    params.body_pose[:] = torch.as_tensor(motion.body_pose[take])
    with torch.no_grad():
        kp = load_body_model()(params).keypoints.double().numpy()  # y up, facing +z
    world = np.stack([kp[..., 0], -kp[..., 2], kp[..., 1] + 1.0], -1)  # z up, standing
    camera = four_cameras()[0]
    target = camera.to_camera(world[:, list(br.LIMB)])
    view = br.View3D(
        "test", np.arange(len(take)), target, np.zeros(len(take)), np.ones(len(take), bool)
    )
    constant = np.broadcast_to(target.mean(0), target.shape)
    view.pa[br.CONSTANT_ROW] = pa_mpjpe(constant, target)
    nose = world[:, 0].copy()
    nose[::2] = np.nan  # half the frames without a nose
    model = br.Model("lifter", "lifter", Reconstructor(DEFAULT_WEIGHTS), 64)
    br.given_2d_scores(view, camera, nose, [model], fps=30.0)
    error = view.given_2d_pa["lifter"]
    assert error.shape == (len(take),) and np.isfinite(error).all()
    assert error.mean() < 80.0 and error.mean() < 0.7 * view.pa[br.CONSTANT_ROW].mean()
    assert view.given_2d_pa[br.CONSTANT_ROW] is view.pa[br.CONSTANT_ROW]
