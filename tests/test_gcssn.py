"""GC-SSN: network contract, camera geometry, losses, self-supervision, training, inference."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from coach_backend.body import BodyParams, load_body_model
from coach_backend.gcssn import GCSSN, Reconstructor, reconstruct_from_keypoints
from coach_backend.gcssn.api import DEFAULT_WEIGHTS, load_gcssn
from coach_backend.gcssn.configs import TrainConfig
from coach_backend.gcssn.geometry import (
    camera_from_pelvis,
    pelvis_position,
    posed_body,
    rest_pelvis,
)
from coach_backend.gcssn.losses import keypoint_reprojection, silhouette_agreement
from coach_backend.gcssn.refine import FitConfig, fit_to_representation
from coach_backend.gcssn.synthetic import SyntheticSource, drop_keypoints, remove_silhouettes
from coach_backend.gcssn.training import Trainer
from coach_backend.mocap import load_bvh, retarget
from coach_backend.perception.render import cluster_vertices, project_to_crop
from coach_backend.prior import load_pose_prior

FIXTURES = Path(__file__).parent / "fixtures" / "cmu"


@pytest.fixture(scope="module")
def motion() -> tuple[np.ndarray, np.ndarray]:
    parts = [retarget(load_bvh(p)) for p in sorted(FIXTURES.glob("*.bvh"))]
    return (
        np.concatenate([p.global_orient for p in parts]).astype(np.float32),
        np.concatenate([p.body_pose for p in parts]).astype(np.float32),
    )


@pytest.fixture(scope="module")
def source(motion) -> SyntheticSource:
    return SyntheticSource(load_body_model(), *motion, resolution=64, seed=3)


def test_network_outputs_rotations_shape_and_camera(source) -> None:
    torch.manual_seed(0)
    net = GCSSN().eval()
    reps, _ = source.batch(4)
    with torch.no_grad():
        out = net(reps)
    assert out.rotmats.shape == (4, 24, 3, 3) and out.betas.shape == (4, 10)
    eye = torch.eye(3).expand(4, 24, 3, 3)
    torch.testing.assert_close(out.rotmats @ out.rotmats.transpose(-1, -2), eye, atol=1e-5, rtol=0)
    assert torch.allclose(torch.linalg.det(out.rotmats), torch.ones(4, 24), atol=1e-5)
    assert (out.camera[:, 0] > 0).all()
    with pytest.raises(ValueError, match="64px"):
        net(replace(reps, silhouette=torch.zeros(4, 1, 32, 32)))


def test_untrained_network_starts_upright_facing_the_camera(source) -> None:
    net = GCSSN().eval()
    reps, _ = source.batch(2)
    body = load_body_model()
    with torch.no_grad():
        _, out = posed_body(net(reps), body, reps.crop_intrinsics, 64)
    joints = out.joints[0].numpy()
    # Camera y points down: the head is above (smaller y than) the pelvis, in front of the lens.
    assert joints[15, 1] < joints[0, 1] - 0.4
    assert joints[0, 2] > 1.0


def test_camera_parameters_round_trip(source) -> None:
    reps, truth = source.batch(6)
    pelvis = truth.joints[:, 0]
    camera = camera_from_pelvis(pelvis, reps.crop_intrinsics, 64)
    torch.testing.assert_close(pelvis_position(camera, reps.crop_intrinsics, 64), pelvis)


def test_transl_places_the_pelvis_where_the_camera_says(source) -> None:
    body = load_body_model()
    reps, truth = source.batch(3)
    torch.testing.assert_close(
        truth.params.transl + rest_pelvis(body, truth.params.betas),
        truth.joints[:, 0],
        atol=1e-5,
        rtol=0,
    )


def test_losses_are_near_zero_for_the_true_body_and_grow_when_it_moves(source) -> None:
    body = load_body_model()
    reps, truth = source.clean_batch(8)
    ids = torch.as_tensor(
        cluster_vertices(body.v_template.numpy().astype(float), body.faces, 0.06)[0]
    )
    with torch.no_grad():
        true_out = body(truth.params, ids)
        shifted = replace(truth.params, transl=truth.params.transl + torch.tensor([0.25, 0.0, 0.0]))
        moved_out = body(shifted, ids)
    projected = project_to_crop(true_out.keypoints, reps.crop_intrinsics)
    seen = reps.conf > 0
    assert (projected - reps.keypoints)[seen].abs().max() < 1e-3
    right = keypoint_reprojection(true_out.keypoints, reps)
    wrong = keypoint_reprojection(moved_out.keypoints, reps)
    assert (right < 1e-6).all() and (wrong > 100 * right.max() + 1e-4).all()
    sil_right = silhouette_agreement(true_out.vertices, reps)
    sil_wrong = silhouette_agreement(moved_out.vertices, reps)
    assert (sil_wrong > 2 * sil_right).all()
    assert (silhouette_agreement(true_out.vertices, remove_silhouettes(reps)) == 0).all()


def test_dropping_keypoints_and_silhouettes(source) -> None:
    reps, _ = source.clean_batch(4)
    fewer = drop_keypoints(reps, 0.3, seed=0)
    seen, kept = (reps.conf > 0).sum(1), (fewer.conf > 0).sum(1)
    assert ((seen - kept) == torch.ceil(0.3 * seen)).all()
    assert (fewer.keypoints[fewer.conf == 0] == 0).all()
    assert not remove_silhouettes(reps).silhouette_present.any()


def _tiny_config(tmp_path: Path, mode: str, steps: int) -> TrainConfig:
    return TrainConfig(
        mode=mode, out=tmp_path / mode, steps=steps, batch=8, pool=32, checkpoint_every=2
    )


def test_self_supervised_training_never_sees_3d_truth(tmp_path, motion) -> None:
    """Poison every 3D quantity that made the inputs: self-supervised losses stay finite."""
    trainer = Trainer(_tiny_config(tmp_path, "self", 2), motion)
    reps, truth = trainer.source.batch(8)
    poison = {
        f.name: torch.full_like(getattr(truth.params, f.name), float("nan"))
        for f in fields(BodyParams)
    }
    truth.params = BodyParams(**poison)
    truth.joints = torch.full_like(truth.joints, float("nan"))
    terms = trainer.losses(reps, None)
    assert {"keypoints", "silhouette", "prior", "shape", "cycle"} <= set(terms)
    assert all(torch.isfinite(v) for v in terms.values())
    supervised = Trainer(_tiny_config(tmp_path, "supervised", 2), motion)
    with pytest.raises(AssertionError):
        supervised.losses(reps, None)  # the baseline does need ground truth


def test_training_resumes_from_its_checkpoint_and_exports(tmp_path, motion) -> None:
    config = _tiny_config(tmp_path, "self", 2)
    first = Trainer(config, motion)
    first.train()
    assert first.checkpoint_path.is_file()
    longer = Trainer(replace(config, steps=4), motion)
    assert longer.try_resume() and longer.step == 2
    torch.testing.assert_close(
        next(iter(longer.net.state_dict().values())), next(iter(first.net.state_dict().values()))
    )
    longer.train()
    assert longer.step == 4 and len(longer.history) == 4
    weights = tmp_path / "gcssn.pt"
    longer.export(weights, {})
    loaded = load_gcssn(weights)
    assert loaded.card["mode"] == "self" and loaded.card["steps"] == 4
    assert weights.with_suffix(".json").is_file()


def test_few_self_supervised_steps_reduce_the_2d_error(tmp_path, motion) -> None:
    torch.manual_seed(0)
    trainer = Trainer(replace(_tiny_config(tmp_path, "self", 40), lr=2e-3), motion)
    reps, _ = trainer.source.clean_batch(16)
    before = trainer.losses(reps, None)["keypoints"].item()
    trainer.net.train()
    for _ in range(40):
        loss = trainer.losses(reps, None)
        total = sum(getattr(trainer.weights, k) * v for k, v in loss.items())
        trainer.optimizer.zero_grad()
        total.backward()
        trainer.optimizer.step()
        trainer.step += 1
    assert trainer.losses(reps, None)["keypoints"].item() < 0.7 * before


def test_refinement_fits_the_2d_evidence_better_than_its_start(source) -> None:
    body = load_body_model()
    reps, _ = source.clean_batch(4)
    net = GCSSN().eval()
    with torch.no_grad():
        start = net(reps)
        _, out = posed_body(start, body, reps.crop_intrinsics, 64)
    ids = torch.as_tensor(
        cluster_vertices(body.v_template.numpy().astype(float), body.faces, 0.06)[0]
    )
    fit = fit_to_representation(reps, start, body, load_pose_prior(), ids, FitConfig(steps=25))
    with torch.no_grad():
        fitted = body.from_rotmats(
            fit.rotmats, fit.betas, fit.pelvis - rest_pelvis(body, fit.betas)
        )
    assert (
        keypoint_reprojection(fitted.keypoints, reps).mean()
        < 0.85 * keypoint_reprojection(out.keypoints, reps).mean()
    )


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="shipped GC-SSN weights not built yet")
def test_reconstruct_from_keypoints_api(source) -> None:
    reps, truth = source.clean_batch(3)
    camera_frame_kp = []
    conf = reps.conf.numpy().copy()
    for i in range(3):
        camera_frame_kp.append(reps.item(i).keypoints_frame())
    keypoints = np.stack(camera_frame_kp)
    conf[2] = 0.0  # a frame where the detector saw nobody
    fx, fy, cx, cy = truth.frame_camera.intrinsics
    result = reconstruct_from_keypoints(
        keypoints, conf, (truth.frame_camera.width, truth.frame_camera.height), (fx, fy, cx, cy)
    )
    assert result.joints.shape == (3, 24, 3) and result.keypoints.shape == (3, 23, 3)
    assert result.valid.tolist() == [True, True, False]
    assert (result.joints[2] == 0).all()
    assert (result.joints[:2, :, 2] > 0.5).all()  # in front of the camera, metres
    with pytest.raises(ValueError, match="keypoints must be"):
        reconstruct_from_keypoints(keypoints[:, :17], conf[:, :17], (640, 480))


def test_reconstructor_accepts_a_network_instance(source) -> None:
    reps, _ = source.clean_batch(2)
    result = Reconstructor(GCSSN().eval()).predict(reps)
    assert result.valid.all() and np.isfinite(result.joints).all()


def test_real_video_representations_feed_self_supervised_steps(tmp_path, motion) -> None:
    from coach_backend.gcssn.training import real_representations

    clip = Path(__file__).parents[1] / "examples" / "walk_shot.mp4"
    reps = real_representations(clip, 64, every_nth=20)
    assert reps is not None and len(reps) >= 5 and reps.has_person.all()
    assert (reps.conf[:, [18, 21]] == 0).all()  # MediaPipe has no small toes
    trainer = Trainer(_tiny_config(tmp_path, "self", 1), motion)
    terms = trainer.losses(reps, None)  # no truth exists for real footage
    assert all(torch.isfinite(v) for v in terms.values())
