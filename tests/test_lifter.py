"""GC-SSN lifter: crop-free features, closed-form placement, training, adaptation, accuracy."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from coach_backend.body import load_body_model
from coach_backend.body.skeleton import MIRRORED_KEYPOINTS, SMPL_JOINT_NAMES
from coach_backend.config import OFFLINE_REFINE_STEPS
from coach_backend.gcssn import Reconstructor, reconstruct_from_keypoints
from coach_backend.gcssn.adaptation import adapt_lifter, reprojection_loss
from coach_backend.gcssn.api import DEFAULT_WEIGHTS, NO_VERTICES, load_gcssn
from coach_backend.gcssn.configs import AdaptConfig, CameraRanges, LifterTrainConfig, recipe_configs
from coach_backend.gcssn.lifter import (
    KeypointLifter,
    LiftedPose,
    LifterConfig,
    keypoint_rays,
    mirror_averaged,
    mirror_inputs,
    mirror_pose,
    place_body,
    ray_features,
    widen_to_window,
    window_indices,
    window_stride,
)
from coach_backend.gcssn.lifter_training import (
    ARM_ROWS,
    HIP_ROWS,
    LEG_ROWS,
    LIMB_JOINTS,
    LIMB_KEYPOINTS,
    SPINE_ROWS,
    SQUAT_SHARE,
    USER_KEYPOINT_SETS,
    DetectorNoise,
    KeypointSampler,
    bent_trunk,
    flexed_legs,
    raised_arms,
    run_recipe,
    supervised_losses,
    weighted_total,
)
from coach_backend.gcssn.metrics import pa_mpjpe
from coach_backend.gcssn.refine import fit_lifted_to_keypoints, similarity_aligned
from coach_backend.gcssn.rotations import rotvec_to_rotmat
from coach_backend.gcssn.synthetic import SyntheticSource, ViewConfig
from coach_backend.mocap import load_bvh, retarget
from coach_backend.mocap.dataset import MotionDataset
from coach_backend.perception.types import PerceptionConfig, stack

FIXTURES = Path(__file__).parent / "fixtures" / "cmu"  # both trials are held out of training


@pytest.fixture(scope="module")
def motion() -> tuple[np.ndarray, np.ndarray]:
    parts = [retarget(load_bvh(p)) for p in sorted(FIXTURES.glob("*.bvh"))]
    return (
        np.concatenate([p.global_orient for p in parts]).astype(np.float32),
        np.concatenate([p.body_pose for p in parts]).astype(np.float32),
    )


@pytest.fixture(scope="module")
def source(motion) -> SyntheticSource:
    return SyntheticSource(load_body_model(), *motion, resolution=64, seed=5)


def test_placement_recovers_a_known_translation() -> None:
    body = load_body_model()
    rng = np.random.default_rng(0)
    rotmats = torch.eye(3).repeat(2, 24, 1, 1)
    rotmats[:, 0] = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
    betas = torch.as_tensor(rng.normal(0, 1, (2, 10)), dtype=torch.float32)
    rooted = body.from_rotmats(rotmats, betas, torch.zeros(2, 3), NO_VERTICES).keypoints
    truth = torch.tensor([[0.3, -0.2, 4.0], [-1.0, 0.5, 7.5]])
    points = rooted + truth[:, None]
    rays = points[..., :2] / points[..., 2:]
    weights = torch.ones(2, 23)
    weights[1, :10] = 0.0  # missing keypoints carry no weight
    rays[1, :10] = 99.0  # ...whatever garbage sits in their slots
    found = place_body(rooted, rays, weights)
    torch.testing.assert_close(found, truth, atol=1e-3, rtol=0)


def test_features_do_not_depend_on_the_crop(source) -> None:
    """The same body seen through a tight and a loose crop gives the same network input."""
    tight, _ = source.clean_batch(3)
    loose = source.renderer.config
    source.renderer.config = replace(loose, margin=0.6)
    try:
        source.rng = np.random.default_rng(11)
        a, _ = source.clean_batch(3, np.arange(3))
        source.renderer.config = loose
        source.rng = np.random.default_rng(11)
        b, _ = source.clean_batch(3, np.arange(3))
    finally:
        source.renderer.config = loose
    assert not torch.allclose(a.box, b.box)  # the crops differ...
    fa = ray_features(keypoint_rays(a), a.conf)
    fb = ray_features(keypoint_rays(b), b.conf)
    torch.testing.assert_close(fa, fb, atol=2e-4, rtol=0)  # ...the features do not
    assert tight.keypoints.shape == a.keypoints.shape


def test_sampler_mirrors_and_hides_what_the_detector_cannot_see(motion) -> None:
    body = load_body_model()
    sampler = KeypointSampler(body, *motion, np.random.default_rng(0))
    batch = sampler.sample(64)
    assert (batch["conf"][:, [18, 21]] == 0).all()  # no small toes, as from MediaPipe
    assert (batch["rays"][batch["conf"] == 0] == 0).all()
    assert (batch["world"][~batch["world_present"]] == 0).all()
    assert batch["world_present"].any() and not batch["world_present"].all()
    # Some samples are mirror images: compare a row sampled with and without mirroring.
    plain = KeypointSampler(body, *motion, np.random.default_rng(1), mirror=False).sample(64)
    assert torch.isfinite(plain["joints"]).all() and plain["joints"].shape == (64, 24, 3)


def test_sampler_rolls_the_camera_as_far_as_asked(motion) -> None:
    """Wider camera roll (`--camera-roll-deg`) tilts the body in the image further: the
    hips -> shoulders direction spreads wider around upright."""
    body = load_body_model()

    def trunk_tilt_deg(roll: float) -> np.ndarray:
        cameras = CameraRanges(roll_deg=(-roll, roll), elevation_deg=(0.0, 0.0))
        batch = KeypointSampler(
            body, *motion, np.random.default_rng(0), cameras=cameras, mirror=False
        ).sample(512, clean=True)
        rays = batch["rays"].numpy()
        trunk = rays[:, [5, 6]].mean(1) - rays[:, [11, 12]].mean(1)  # shoulders - hips
        return np.degrees(np.arctan2(trunk[:, 0], -trunk[:, 1]))

    narrow, wide = trunk_tilt_deg(6.0), trunk_tilt_deg(30.0)
    assert np.percentile(np.abs(wide), 90) > np.percentile(np.abs(narrow), 90) + 10.0
    assert LifterTrainConfig().camera_roll_deg == CameraRanges().roll_deg[1]


def test_flexed_legs_squat_or_lunge_and_keep_the_upper_body(motion) -> None:
    """`--leg-pose-rate` samples: the upper body stays the mocap's; in the body's own frame
    (facing +z, y up) a squat or sit puts both knees ahead of the hips, a lunge one ahead and
    one behind, in about SQUAT_SHARE and the rest of the samples; knees bend forward only."""
    body = load_body_model()
    rows = np.random.default_rng(0).integers(0, len(motion[1]), 400)
    orient = np.zeros((400, 1, 3))
    pose = motion[1][rows][:, None].astype(np.float64)
    bent_orient, bent = flexed_legs(orient, pose, np.random.default_rng(1))
    legs = sorted(r for side in LEG_ROWS.values() for r in side)
    others = [r for r in range(pose.shape[2]) if r not in legs]
    np.testing.assert_array_equal(bent[:, :, others], pose[:, :, others])
    assert bent_orient.shape == orient.shape and not np.allclose(bent_orient, 0.0)
    knees = bent[:, 0, [LEG_ROWS["left"][1], LEG_ROWS["right"][1]]]
    assert (knees[..., 0] >= 0).all() and np.allclose(knees[..., 1:], 0.0)
    # Where the knees are relative to the hips, the root pitched as the trunk leans.
    full = np.concatenate([bent_orient, bent[:, 0]], 1)
    rotmats = rotvec_to_rotmat(torch.as_tensor(full, dtype=torch.float32))
    joints = body.from_rotmats(rotmats, torch.zeros(400, 10), torch.zeros(400, 3), NO_VERTICES)
    j = joints.joints.numpy()
    names = ("left_hip", "right_hip", "left_knee", "right_knee")
    lh, rh, lk, rk = (SMPL_JOINT_NAMES.index(n) for n in names)
    ahead = np.stack([j[:, lk, 2] > j[:, lh, 2], j[:, rk, 2] > j[:, rh, 2]], 1)
    both, one = ahead.all(1).mean(), (ahead.sum(1) == 1).mean()
    assert abs(both - SQUAT_SHARE) < 0.1 and abs(one - (1 - SQUAT_SHARE)) < 0.1
    assert both + one > 0.97


def test_raised_arms_lift_the_elbows_and_keep_the_rest(motion) -> None:
    """`--arm-pose-rate` samples: only the arm rows change; most elbows end above their
    shoulders (elevation 60-178 deg from hanging), none behind the back beyond the sampled
    planes; half of the samples raise both arms alike."""
    body = load_body_model()
    rows = np.random.default_rng(0).integers(0, len(motion[1]), 400)
    pose = motion[1][rows][:, None].astype(np.float64)
    _, raised = raised_arms(np.zeros(pose.shape[:2] + (3,)), pose, np.random.default_rng(2))
    arms = sorted(r for side in ARM_ROWS.values() for r in side)
    others = [r for r in range(pose.shape[2]) if r not in arms]
    np.testing.assert_array_equal(raised[:, :, others], pose[:, :, others])
    full = np.concatenate([np.zeros((400, 1, 3)), raised[:, 0]], 1)
    rotmats = rotvec_to_rotmat(torch.as_tensor(full, dtype=torch.float32))
    joints = body.from_rotmats(rotmats, torch.zeros(400, 10), torch.zeros(400, 3), NO_VERTICES)
    j = joints.joints.numpy()
    # The upper arm's direction in the trunk's frame (spine3's rotation taken out).
    trunk = joints.joint_transforms[:, SMPL_JOINT_NAMES.index("spine3"), :3, :3].numpy()
    elevation = {}
    for side in ("left", "right"):
        arm = (
            j[:, SMPL_JOINT_NAMES.index(f"{side}_elbow")]
            - j[:, SMPL_JOINT_NAMES.index(f"{side}_shoulder")]
        )
        local = np.einsum("bji,bj->bi", trunk, arm / np.linalg.norm(arm, axis=-1, keepdims=True))
        elevation[side] = np.degrees(np.arccos(np.clip(-local[:, 1], -1, 1)))
    both = np.concatenate(list(elevation.values()))
    assert both.min() > 50 and np.mean(both > 90) > 0.6
    alike = np.abs(elevation["left"] - elevation["right"]) < 20
    assert 0.4 < alike.mean() < 0.8


def test_bent_trunk_tilts_the_trunk_and_keeps_the_thighs(motion) -> None:
    """`--trunk-pose-rate` samples: only the root, spine and hip rows change; each thigh keeps
    its direction in the world (the hip hinge is taken back at the hips); the trunk (pelvis ->
    neck) leans forward on average, some samples far (a deadlift or a toe touch)."""
    body = load_body_model()
    n = 400
    rows = np.random.default_rng(0).integers(0, len(motion[1]), n)
    orient = motion[0][rows][:, None].astype(np.float64)
    pose = motion[1][rows][:, None].astype(np.float64)
    new_orient, bent = bent_trunk(orient, pose, np.random.default_rng(4))
    changed = [*SPINE_ROWS, *HIP_ROWS]
    others = [r for r in range(pose.shape[2]) if r not in changed]
    np.testing.assert_array_equal(bent[:, :, others], pose[:, :, others])

    def joints(root: np.ndarray, body_pose: np.ndarray) -> np.ndarray:
        full = np.concatenate([root[:, 0, None], body_pose[:, 0]], 1)
        rotmats = rotvec_to_rotmat(torch.as_tensor(full, dtype=torch.float32))
        out = body.from_rotmats(rotmats, torch.zeros(n, 10), torch.zeros(n, 3), NO_VERTICES)
        return out.joints.numpy()

    before, after = joints(orient, pose), joints(new_orient, bent)
    for side in ("left", "right"):
        hip, knee = (SMPL_JOINT_NAMES.index(f"{side}_{j}") for j in ("hip", "knee"))
        thigh_before, thigh_after = before[:, knee] - before[:, hip], after[:, knee] - after[:, hip]
        np.testing.assert_allclose(thigh_after, thigh_before, atol=2e-3)
    # The lean, in the pelvis' frame before the change (forward = +z there).
    frame = Rotation.from_rotvec(orient[:, 0]).as_matrix()
    neck = SMPL_JOINT_NAMES.index("neck")

    def lean(j: np.ndarray) -> np.ndarray:
        trunk = np.einsum("bji,bj->bi", frame, j[:, neck] - j[:, 0])
        return np.degrees(np.arctan2(trunk[:, 2], trunk[:, 1]))

    gained = lean(after) - lean(before)
    assert np.median(gained) > 20 and np.mean(gained > 60) > 0.1 and gained.min() > -60


def test_sampler_shapes_some_samples_like_user_keypoints(motion) -> None:
    """User-keypoint samples carry no detector 3D and only one of the user keypoint sets; with
    the rate at 1 and no corruption but the sets, some land exactly on joint centres."""
    body = load_body_model()
    exact = DetectorNoise(
        user_keypoints_rate=1.0,
        jitter=(0.0, 0.0),
        bias_sd=0.0,
        outlier_rate=0.0,
        low_confidence_rate=0.0,
        drop_rate=(0.0, 0.0),
        face_drop_rate=0.0,
    )
    sampler = KeypointSampler(body, *motion, np.random.default_rng(3), noise=exact)
    batch = sampler.sample(64)
    assert not batch["world_present"].any()
    seen = [set(np.flatnonzero(row > 0)) for row in batch["conf"].numpy()]
    # Each sample shows one of the sets (minus any points out of the frame), never more.
    assert all(any(s <= set(kps) for kps in USER_KEYPOINT_SETS) for s in seen)
    assert any(s == set(USER_KEYPOINT_SETS[0]) for s in seen)
    assert any(18 in s for s in seen)  # small toes, which MediaPipe never gives, users may
    # Joint-centre samples: the limb rays are exact projections of the joints (the residual of
    # the best placement is ~0), the others of the body's keypoints.
    rays = batch["rays"][:, LIMB_KEYPOINTS]
    weights = (batch["conf"][:, LIMB_KEYPOINTS] > 0).float()  # some fall out of the frame

    def residual(points: torch.Tensor) -> torch.Tensor:
        placed = points + place_body(points, rays, weights)[:, None]
        return ((placed[..., :2] / placed[..., 2:] - rays).norm(dim=-1) * weights).amax(1)

    at_joints = residual(batch["joints"][:, LIMB_JOINTS]) < 1e-4
    at_keypoints = residual(batch["keypoints"][:, LIMB_KEYPOINTS]) < 1e-4
    assert (at_joints ^ at_keypoints).all()  # every sample is one or the other
    assert 10 < int(at_joints.sum()) < 54  # about half


def test_a_few_training_steps_reduce_the_supervised_loss(motion) -> None:
    torch.manual_seed(0)
    body = load_body_model()
    sampler = KeypointSampler(body, *motion, np.random.default_rng(0))
    batch = sampler.sample(64)
    net = KeypointLifter(LifterConfig(hidden=64, blocks=1))
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    config = LifterTrainConfig()
    with torch.no_grad():
        start = float(weighted_total(supervised_losses(net, body, batch), config))
    for _ in range(40):
        loss = weighted_total(supervised_losses(net, body, batch), config)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.7 * start


def test_a_recipe_trains_its_stages_in_turn_and_resumes_after_the_last_done(tmp_path) -> None:
    """`train_lifter --recipe`: stage k starts from stage k-1's export with its own sampling;
    the last stage's weights and card land at --export and load as a network; a rerun trains
    nothing that is already exported."""
    from coach_backend.mocap.build_dataset import main as build_dataset

    dataset = tmp_path / "motion.npz"
    build_dataset(["--cmu-dir", str(FIXTURES), "--out", str(dataset)])
    with np.load(dataset) as f:  # both fixture trials are held out: train on the first
        arrays = dict(f)
    arrays["trial_split"] = np.array(["train", "test"])
    np.savez(dataset, **arrays)
    base = LifterTrainConfig(
        dataset=dataset, out=tmp_path / "run", batch=8, hidden=32, blocks=1, checkpoint_every=2
    )
    stages = ({"steps": 2}, {"steps": 3, "lr": 1e-4, "arm_pose_rate": 0.5})
    configs = recipe_configs(base, stages)
    assert [c.steps for c in configs] == [2, 3] and configs[1].arm_pose_rate == 0.5
    assert configs[0].init is None and configs[1].init == configs[0].out / "lifter.pt"
    export = tmp_path / "model.pt"
    assert run_recipe(configs, export) == export
    card = json.loads(export.with_suffix(".json").read_text())
    assert card["steps"] == 3 and "stage1/lifter.pt" in card["data"]
    assert "arms of 50% of samples raised" in card["data"]
    load_gcssn(export)
    done = {p: p.stat().st_mtime_ns for p in (tmp_path / "run").glob("stage*/lifter.pt")}
    assert len(done) == 2
    run_recipe(configs, export)
    assert {p: p.stat().st_mtime_ns for p in done} == done


def test_adaptation_fits_the_footage_and_leaves_the_input_model_alone(source) -> None:
    torch.manual_seed(0)
    body = load_body_model()
    reps, _ = source.batch(32)
    net = KeypointLifter(LifterConfig(hidden=64, blocks=1)).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rays = keypoint_rays(reps)
    with torch.no_grad():
        start = float(reprojection_loss(body, net, rays, reps.conf)[0])
    adapted, history = adapt_lifter(
        net, reps, AdaptConfig(steps=30, batch=32, lr=3e-3), body=body, anchor=False, progress=False
    )
    with torch.no_grad():
        end = float(reprojection_loss(body, adapted, rays, reps.conf)[0])
    assert end < 0.8 * start
    assert len(history) == 30 and {"2d", "cycle", "prior"} <= set(history[-1])
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_not_a_weights_file_is_refused(tmp_path) -> None:
    bogus = tmp_path / "weights.pt"
    torch.save({"hello": 1}, bogus)
    with pytest.raises(ValueError, match="not a GC-SSN weights file"):
        load_gcssn(bogus)


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="shipped lifter weights not built")
def test_shipped_model_is_accurate_on_held_out_motion(source) -> None:
    """Held-out CMU trials, random shapes and views: far below the 160 mm of the old default
    and below the constant average pose (~130 mm on these renders)."""
    source.rng = np.random.default_rng(21)
    reps, truth = source.batch(96)
    result = Reconstructor(DEFAULT_WEIGHTS).predict(reps)
    error = pa_mpjpe(result.joints, truth.joints.numpy())
    assert np.median(error) < 75.0
    # The closed-form placement puts the body where the 2D evidence says (median < 0.5 m).
    placement = np.linalg.norm(result.joints[:, 0] - truth.joints[:, 0].numpy(), axis=-1)
    assert np.median(placement) < 0.5


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="shipped lifter weights not built")
def test_keypoints_api_matches_the_representation_path(source) -> None:
    """`reconstruct_from_keypoints` (no image, no MediaPipe) gives what the pipeline gives."""
    reps, truth = source.clean_batch(4)
    frame_points = np.stack([reps.item(i).keypoints_frame() for i in range(4)])
    camera = truth.frame_camera
    from_keypoints = reconstruct_from_keypoints(
        frame_points, reps.conf.numpy(), (camera.width, camera.height), camera.intrinsics
    )
    reps_again = stack([reps.item(i) for i in range(4)])
    from_reps = Reconstructor(DEFAULT_WEIGHTS, refine_steps=OFFLINE_REFINE_STEPS).predict(
        reps_again
    )
    np.testing.assert_allclose(from_keypoints.joints, from_reps.joints, atol=2e-3)
    assert PerceptionConfig().resolution == Reconstructor(DEFAULT_WEIGHTS).resolution


def test_mirror_pose_is_the_bodys_mirror_image(source) -> None:
    """M R M per joint with left and right swapped is the reflected body: its keypoints are
    the original's with x negated and left/right exchanged (the open body is near-symmetric),
    and mirroring twice gives the pose back."""
    _, truth = source.clean_batch(8)
    body = load_body_model()
    rotvecs = torch.cat([truth.params.global_orient[:, None], truth.params.body_pose], 1)
    pose = LiftedPose(rotvec_to_rotmat(rotvecs), torch.zeros(8, 10))
    zero = torch.zeros(8, 3)
    with torch.no_grad():
        direct = body.from_rotmats(pose.rotmats, pose.betas, zero, NO_VERTICES).keypoints
        flipped = mirror_pose(pose)
        mirrored = body.from_rotmats(flipped.rotmats, flipped.betas, zero, NO_VERTICES).keypoints
    reflected, _, _ = mirror_inputs(direct[..., :2], torch.ones(8, direct.shape[1]))
    assert (mirrored[..., :2] - reflected).norm(dim=-1).max() < 0.01  # metres
    assert (mirrored[..., 2] - direct[:, MIRRORED_KEYPOINTS, 2]).abs().max() < 0.01
    torch.testing.assert_close(mirror_pose(flipped).rotmats, pose.rotmats)


def test_mirror_averaging_answers_a_mirrored_input_with_the_mirrored_pose(source) -> None:
    """The averaged lifter is exactly left/right symmetric (a single pass is only nearly so),
    and on held-out motion it is no less accurate than the single pass."""
    source.rng = np.random.default_rng(23)
    reps, truth = source.batch(96)
    net = load_gcssn(DEFAULT_WEIGHTS)
    rays = keypoint_rays(reps)
    flip_rays, flip_conf, _ = mirror_inputs(rays, reps.conf)
    with torch.no_grad():
        averaged = mirror_averaged(net, rays, reps.conf)
        of_mirrored = mirror_averaged(net, flip_rays, flip_conf)
    torch.testing.assert_close(
        mirror_pose(averaged).rotmats, of_mirrored.rotmats, atol=1e-4, rtol=0
    )
    single = Reconstructor(net).predict(reps)
    both = Reconstructor(net, mirror_average=True).predict(reps)
    truth_joints = truth.joints.numpy()
    assert (
        pa_mpjpe(both.joints, truth_joints).mean() <= pa_mpjpe(single.joints, truth_joints).mean()
    )


def test_short_2d_fit_lays_the_body_onto_the_keypoints(source) -> None:
    """From a deliberately wrong start (zero pose), the fit pulls the keypoints onto the
    detections, and keeps the corrections small where the start was already right."""
    from coach_backend.gcssn.lifter import reprojection_error
    from coach_backend.gcssn.refine import fit_lifted_to_keypoints

    body = load_body_model()
    reps, truth = source.clean_batch(6)
    rays = keypoint_rays(reps)
    weights = reps.conf
    start = torch.eye(3).repeat(6, 24, 1, 1)
    orient = Rotation.from_rotvec(truth.params.global_orient.numpy()).as_matrix()
    start[:, 0] = torch.as_tensor(orient, dtype=torch.float32)
    betas = truth.params.betas

    def error(rotmats: torch.Tensor) -> float:
        rooted = body.from_rotmats(rotmats, betas, torch.zeros(6, 3), NO_VERTICES).keypoints
        points = rooted + place_body(rooted, rays, weights)[:, None]
        return float(reprojection_error(points, rays, weights).mean())

    fitted, transl = fit_lifted_to_keypoints(body, start, betas, rays, weights, steps=30)
    assert error(fitted) < 0.5 * error(start)
    assert torch.isfinite(transl).all() and (transl[:, 2] > 0).all()


def test_only_the_lifter_adapts() -> None:
    from coach_backend.gcssn import GCSSN

    with pytest.raises(ValueError, match="only the lifter"):
        Reconstructor(GCSSN().eval()).adapt(None, 1)  # type: ignore[arg-type]


def test_settle_lays_a_smoothed_pose_back_onto_its_keypoints(source) -> None:
    """A pose moved off the person (as smoothing does) is laid back onto the 2D keypoints: with
    0 steps only the translation is re-solved, with a few steps the limbs follow too."""
    from coach_backend.gcssn.api import settle_on_keypoints
    from coach_backend.gcssn.lifter import reprojection_error

    body = load_body_model()
    reps, truth = source.clean_batch(6)
    rotvecs = np.concatenate(
        [truth.params.global_orient.numpy()[:, None], truth.params.body_pose.numpy()], axis=1
    )
    betas = truth.params.betas.numpy()
    rng = np.random.default_rng(4)
    moved = rotvecs + rng.normal(0, 0.12, rotvecs.shape).astype(np.float32)  # ~7 deg per joint
    rays, weights = keypoint_rays(reps), reps.conf

    def error(rv: np.ndarray, transl: np.ndarray) -> float:
        rotmats = torch.as_tensor(
            Rotation.from_rotvec(rv.reshape(-1, 3)).as_matrix(), dtype=torch.float32
        ).reshape(6, 24, 3, 3)
        out = body.from_rotmats(
            rotmats, torch.as_tensor(betas), torch.as_tensor(transl), NO_VERTICES
        )
        return float(reprojection_error(out.keypoints, rays, weights).mean())

    exact_rv, exact_t = settle_on_keypoints(body, rotvecs, betas, reps, steps=0)
    np.testing.assert_allclose(exact_rv, rotvecs, atol=1e-4)  # 0 steps: the pose is kept
    np.testing.assert_allclose(exact_t, truth.params.transl.numpy(), atol=0.02)
    placed_rv, placed_t = settle_on_keypoints(body, moved, betas, reps, steps=0)
    fitted_rv, fitted_t = settle_on_keypoints(body, moved, betas, reps, steps=10)
    assert error(fitted_rv, fitted_t) < 0.7 * error(placed_rv, placed_t)
    change = Rotation.from_rotvec(fitted_rv.reshape(-1, 3)).inv() * Rotation.from_rotvec(
        moved.reshape(-1, 3)
    )
    assert change.magnitude().max() < 0.5  # corrections, not a new pose


def test_detector_3d_input_follows_the_card_unless_asked(source) -> None:
    """The shipped card says whether MediaPipe's world landmarks are fed to the network; the
    choice can be overridden, and without it the world landmarks change nothing."""
    reps, _ = source.clean_batch(4)
    reps.world = torch.randn(4, reps.keypoints.shape[1], 3) * 0.3  # arbitrary 3D keypoints
    reps.world_present = torch.ones(4, dtype=torch.bool)
    no_world = replace(reps, world_present=torch.zeros(4, dtype=torch.bool))
    card_default = Reconstructor(DEFAULT_WEIGHTS)
    assert card_default.detector_3d == card_default.net.card.get("reads_detector_3d", True)
    without = Reconstructor(DEFAULT_WEIGHTS, detector_3d=False)
    with_3d = Reconstructor(DEFAULT_WEIGHTS, detector_3d=True)
    np.testing.assert_allclose(without.predict(reps).joints, without.predict(no_world).joints)
    assert not np.allclose(with_3d.predict(reps).joints, with_3d.predict(no_world).joints)


@pytest.fixture(scope="module")
def sequences() -> MotionDataset:
    """The fixture trials as a motion dataset: trial order and root motion, for windows."""
    parts = [retarget(load_bvh(p)) for p in sorted(FIXTURES.glob("*.bvh"))]

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts]).astype(np.float32)

    return MotionDataset(
        global_orient=cat("global_orient"),
        body_pose=cat("body_pose"),
        transl=cat("root_position"),
        root_position=cat("root_position"),
        bvh_joints=cat("bvh_joints"),
        trial_index=np.concatenate([np.full(p.num_frames, i) for i, p in enumerate(parts)]),
        frame_index=np.concatenate([np.arange(p.num_frames) for p in parts]),
        trials=[p.name for p in sorted(FIXTURES.glob("*.bvh"))],
        fps=parts[0].fps,
    )


def test_windows_repeat_the_first_and_last_frames_at_the_clip_ends() -> None:
    windows = window_indices(5, radius=2, stride=2)
    assert windows.tolist()[0] == [0, 0, 0, 2, 4]
    assert windows.tolist()[2] == [0, 0, 2, 4, 4]
    assert windows.tolist()[4] == [0, 2, 4, 4, 4]
    assert window_stride(60.0, 30.0) == 2 and window_stride(25.0, 30.0) == 1


def _randomised_lifter(config: LifterConfig) -> KeypointLifter:
    torch.manual_seed(4)
    net = KeypointLifter(config)
    torch.nn.init.normal_(net.head.weight, std=0.01)  # zero at birth: make answers differ
    return net.eval()


def test_a_widened_lifter_starts_from_the_one_frame_answers(source) -> None:
    """A temporal lifter started from a one-frame network (`widen_to_window`) gives, through
    `Reconstructor.predict` over a clip, exactly that network's answers; training then
    teaches it to read the neighbours."""
    one = _randomised_lifter(LifterConfig(hidden=64, blocks=1))
    wide_config = LifterConfig(hidden=64, blocks=1, window_radius=3)
    wide = KeypointLifter(wide_config)
    wide.load_state_dict(widen_to_window(one.state_dict(), wide_config))
    reps, _ = source.clean_batch(9)
    body = load_body_model()
    alone = Reconstructor(one, body).predict(reps)
    temporal = Reconstructor(wide.eval(), body)
    assert temporal.temporal and not Reconstructor(one, body).temporal
    clip = temporal.predict(reps, fps=60.0)
    np.testing.assert_allclose(clip.keypoints, alone.keypoints, atol=1e-5)
    # Its neighbours now matter: weight on them changes the centre frame's answer.
    torch.nn.init.normal_(wide.stem[0].weight, std=0.05)
    moved = Reconstructor(wide, body).predict(reps, fps=60.0)
    assert np.abs(moved.keypoints - alone.keypoints).max() > 1e-3


def test_window_samples_are_clips_seen_by_one_camera(sequences) -> None:
    """Each window is one trial's frames in time order; the truth is the centre frame's (its
    keypoints project onto the centre rays); neighbours move little against other samples."""
    body = load_body_model()
    radius = 2
    sampler = KeypointSampler(
        body,
        sequences.global_orient,
        sequences.body_pose,
        np.random.default_rng(2),
        sequences=sequences,
        window=LifterConfig(window_radius=radius),
    )
    batch = sampler.sample(32, clean=True)
    assert batch["rays"].shape == (32, 2 * radius + 1, 23, 2)
    assert batch["conf"].shape == (32, 2 * radius + 1, 23)
    rows = sampler._window_rows(np.arange(0, len(sequences), 7), np.full(
        len(range(0, len(sequences), 7)), 2), edges=False)  # fmt: skip
    assert (np.diff(rows, axis=1) >= 0).all()
    assert (sequences.trial_index[rows] == sequences.trial_index[rows[:, :1]]).all()
    centre = batch["rays"][:, radius]
    seen = (batch["conf"][:, radius] > 0).float()
    points = batch["keypoints"]
    placed = points + place_body(points, centre, seen)[:, None]
    residual = ((placed[..., :2] / placed[..., 2:] - centre).norm(dim=-1) * seen).amax(1)
    assert (residual < 1e-4).all()
    both = (batch["conf"][:, radius] > 0) & (batch["conf"][:, radius + 1] > 0)
    step = (batch["rays"][:, radius + 1] - centre).norm(dim=-1)[both].median()
    across = (batch["rays"][1:, radius] - centre[:-1]).norm(dim=-1).median()
    assert step < 0.2 * across


def test_similarity_alignment_undoes_a_known_similarity() -> None:
    generator = torch.Generator().manual_seed(8)
    target = torch.randn(2, 12, 3, generator=generator)
    turn = torch.as_tensor(Rotation.from_rotvec([0.3, -1.0, 0.5]).as_matrix(), dtype=torch.float32)
    moved = 0.7 * target @ turn.T + torch.tensor([0.2, -0.1, 3.0])
    weights = torch.ones(2, 12)
    weights[1, 3:] = 0.0  # three points are enough
    torch.testing.assert_close(similarity_aligned(moved, target, weights), target, atol=1e-4,
                               rtol=0)  # fmt: skip


def test_the_detectors_3d_pulls_the_fit_out_of_a_depth_ambiguity() -> None:
    """An arm raised toward the camera and one raised away look alike in 2D; a fit that starts
    from the wrong one stays there on 2D alone, and moves toward the truth when the detector's
    3D keypoints (which know the arm is forward) pull on it."""
    body = load_body_model()
    shoulder = 16  # left shoulder
    facing = torch.diag(torch.tensor([1.0, -1.0, -1.0]))

    def pose(angle: float) -> torch.Tensor:
        rot = torch.eye(3).repeat(1, 24, 1, 1)
        rot[0, 0] = facing
        rot[0, shoulder] = torch.as_tensor(
            Rotation.from_rotvec([0.0, angle, 0.0]).as_matrix(), dtype=torch.float32
        )
        return rot

    betas = torch.zeros(1, 10)
    zero = torch.zeros(1, 3)
    truth = body.from_rotmats(pose(0.35), betas, zero, NO_VERTICES).keypoints
    points = truth + torch.tensor([0.0, 0.0, 4.0])
    rays = points[..., :2] / points[..., 2:]
    weights = torch.ones(1, 23)
    start = pose(-0.35)  # the mirror image in depth
    wrist = 9  # left wrist

    def wrist_error(pull: float) -> float:
        fitted, _ = fit_lifted_to_keypoints(
            body, start, betas, rays, weights, 50,
            detector_3d=truth * 1.1 + 0.3, detector_3d_weights=weights, detector_3d_pull=pull,
        )  # fmt: skip
        found = body.from_rotmats(fitted, betas, zero, NO_VERTICES).keypoints
        return float((found[0, wrist] - truth[0, wrist]).norm())

    alone, pulled = wrist_error(0.0), wrist_error(1.0)
    assert alone > 0.15  # 2D alone keeps the wrong side
    assert pulled < 0.65 * alone  # moved well toward the truth within the 50 steps


def _noisy_clip(motion, frames: int, noise_px: float, seed: int):
    """Consecutive fixture frames (60 fps) filmed by one fixed camera, the body's keypoints
    with independent pixel noise per frame, as a detector gives them."""
    fixed = ViewConfig(
        yaw_deg=(30.0, 30.0),
        elevation_deg=(5.0, 5.0),
        roll_deg=(0.0, 0.0),
        distance_m=(4.0, 4.0),
        hfov_deg=(60.0, 60.0),
        betas_sd=0.0,
        off_centre=0.0,
        truncation_prob=0.0,
    )
    clip = SyntheticSource(load_body_model(), *motion, view=fixed, seed=seed)
    reps, truth = clip.clean_batch(frames, rows=np.arange(frames))
    points = np.stack([reps.item(i).keypoints_frame() for i in range(frames)])
    points = points + np.random.default_rng(seed).normal(0.0, noise_px, points.shape)
    camera = truth.frame_camera
    return points, reps.conf.numpy(), camera, truth.joints.numpy()


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="shipped lifter weights not built")
def test_a_clip_with_its_frame_rate_is_smoothed_in_time_and_gets_closer(motion) -> None:
    """Given fps, `reconstruct_from_keypoints` reads the frames as one clip: smoothed in time
    and laid back onto the keypoints, as the replay does. On noisy keypoints of held-out motion
    that is nearer the truth than every frame on its own; smooth=False is every frame alone."""
    points, conf, camera, truth = _noisy_clip(motion, 120, noise_px=3.0, seed=2)
    size, intrinsics = (camera.width, camera.height), camera.intrinsics
    alone = reconstruct_from_keypoints(points, conf, size, intrinsics)
    clip = reconstruct_from_keypoints(points, conf, size, intrinsics, fps=60.0)
    unsmoothed = reconstruct_from_keypoints(points, conf, size, intrinsics, fps=60.0, smooth=False)
    np.testing.assert_allclose(unsmoothed.joints, alone.joints, atol=1e-5)
    error_alone = pa_mpjpe(alone.joints, truth).mean()
    error_clip = pa_mpjpe(clip.joints, truth).mean()
    assert error_clip < error_alone - 1.0, (error_clip, error_alone)  # mm
    # One shape for the person, and the body still on the keypoints (placement, metres).
    assert np.ptp(clip.betas, axis=0).max() < 1e-6
    assert np.median(np.linalg.norm(clip.joints[:, 0] - truth[:, 0], axis=-1)) < 0.3


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="shipped lifter weights not built")
def test_a_clip_keeps_its_frames_without_a_person_empty(motion) -> None:
    points, conf, camera, _ = _noisy_clip(motion, 40, noise_px=1.0, seed=3)
    conf[10:13] = 0.0  # nobody in three frames
    result = reconstruct_from_keypoints(
        points, conf, (camera.width, camera.height), camera.intrinsics, fps=30.0
    )
    assert result.valid.tolist() == [not 10 <= i < 13 for i in range(40)]
    assert not result.joints[10:13].any() and result.joints[9].any()
    with pytest.raises(ValueError, match="fps"):
        reconstruct_from_keypoints(points, conf, (camera.width, camera.height), fps=0.0)
