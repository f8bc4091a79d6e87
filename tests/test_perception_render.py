"""Body renderer: same type/convention as MediaPipe, splat vs exact raster, soft silhouette, and
agreement with MediaPipe on shaded renders."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from coach_backend.perception import Camera, CropBox, PerceptionConfig
from coach_backend.perception.render import (
    MEDIAPIPE_MISSING,
    BodyRenderer,
    decimate_mesh,
    project_points,
    project_to_crop,
    rasterize_silhouette_exact,
    soft_silhouette,
)

body_mod = pytest.importorskip("coach_backend.body")
try:
    body_mod.resolve_model_path()
except FileNotFoundError:  # pragma: no cover - only before the open body exists
    pytest.skip("no body model file", allow_module_level=True)

BodyParams = body_mod.BodyParams


@pytest.fixture(scope="module")
def renderer() -> BodyRenderer:
    return BodyRenderer()


def random_params(n: int, depth: float, seed: int = 0) -> BodyParams:
    rng = np.random.default_rng(seed)
    p = BodyParams.zeros(n)
    yaw = Rotation.from_rotvec(np.c_[np.zeros(n), rng.uniform(-np.pi, np.pi, n), np.zeros(n)])
    upright = Rotation.from_rotvec([np.pi, 0.0, 0.0])  # SMPL y-up -> camera y-down
    p.global_orient[:] = torch.tensor((yaw * upright).as_rotvec(), dtype=torch.float32)
    p.body_pose[:] = torch.tensor(rng.normal(0, 0.3, (n, 23, 3)), dtype=torch.float32)
    p.betas[:] = torch.tensor(rng.normal(0, 1, (n, 10)), dtype=torch.float32)
    p.transl[:] = torch.tensor([0.0, 0.1, depth])
    return p


def posed(yaw_deg: float, arms: float, knee: float) -> BodyParams:
    p = BodyParams.zeros(1)
    rot = Rotation.from_rotvec([0, np.radians(yaw_deg), 0]) * Rotation.from_rotvec([np.pi, 0, 0])
    p.global_orient[0] = torch.tensor(rot.as_rotvec(), dtype=torch.float32)
    p.body_pose[0, 15, 2] = -arms  # left shoulder (SMPL joint 16) down
    p.body_pose[0, 16, 2] = arms
    p.body_pose[0, 0, 0] = -knee / 2  # left hip flexion
    p.body_pose[0, 3, 0] = knee  # left knee
    p.transl[0] = torch.tensor([0.0, 0.1, 3.0])
    return p


def exact_silhouettes(renderer: BodyRenderer, params: BodyParams, batch) -> list[np.ndarray]:
    with torch.no_grad():
        full = renderer.body(params).vertices.double().numpy()
    cam = renderer.camera
    out = []
    for i in range(len(batch)):
        box = CropBox(*(float(v) for v in batch.box[i]), batch.resolution)
        px, ok = project_points(full[i], cam)
        faces = renderer.faces[ok[renderer.faces].all(axis=1)]
        sil = rasterize_silhouette_exact(box.to_crop(px), faces, batch.resolution)
        out.append(sil * (box.crop_image(np.ones((cam.height, cam.width), np.float32)) > 0.5))
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum() / max(np.maximum(a, b).sum(), 1.0))


def test_batch_types_and_projection_convention(renderer: BodyRenderer) -> None:
    params = random_params(8, depth=4.0)
    batch = renderer.render(params)
    assert batch.keypoints.shape == (8, 23, 2) and batch.conf.shape == (8, 23)
    assert batch.silhouette.shape == (8, 1, 64, 64) and batch.silhouette.dtype == torch.float32
    assert batch.has_person.all() and batch.silhouette_present.all()
    assert (batch.conf == 1).all()  # whole body in view, nothing dropped
    # Keypoints = CropBox.to_crop(Camera.project(body keypoints)), and the crop camera agrees.
    with torch.no_grad():
        kp3d = renderer.body(params).keypoints.double().numpy()
    cam = renderer.camera
    for i in range(8):
        rep = batch.item(i)
        np.testing.assert_allclose(rep.keypoints, rep.box.to_crop(cam.project(kp3d[i])), atol=2e-3)
        np.testing.assert_allclose(rep.crop_camera.project(kp3d[i]), rep.keypoints, atol=2e-3)
        # Same margin rule: the mesh's larger extent spans R / (1 + 2 * margin) crop px.
        ys, xs = np.nonzero(rep.silhouette)
        extent = max(xs.max() - xs.min(), ys.max() - ys.min()) + 1
        assert abs(extent - 64 / 1.2) <= 2.0
    proj = project_to_crop(torch.as_tensor(kp3d).float(), batch.crop_intrinsics)
    torch.testing.assert_close(proj, batch.keypoints, atol=2e-3, rtol=0)


def test_drop_keypoints_and_nobody(renderer: BodyRenderer) -> None:
    dropper = BodyRenderer(renderer.body, drop_keypoints=MEDIAPIPE_MISSING)
    batch = dropper.render(random_params(2, depth=4.0))
    assert (batch.conf[:, list(MEDIAPIPE_MISSING)] == 0).all()
    behind = random_params(1, depth=-3.0)
    empty = renderer.render(behind)
    assert not empty.has_person[0] and not empty.conf.any() and empty.silhouette.sum() == 0


@pytest.mark.parametrize(("depth", "min_iou"), [(4.0, 0.93), (1.2, 0.9), (0.6, 0.9)])
def test_fast_silhouette_matches_exact_raster(
    renderer: BodyRenderer, depth: float, min_iou: float
) -> None:
    # 0.6 m: a close-up past MAX_SPLAT_SPACING_PX, i.e. the exact fallback path.
    params = random_params(12, depth=depth, seed=3)
    batch = renderer.render(params)
    exact = exact_silhouettes(renderer, params, batch)
    scores = [iou(batch.silhouette[i, 0].numpy(), e) for i, e in enumerate(exact) if e.sum() > 0]
    assert min(scores) >= min_iou, scores


def test_resolution_128(renderer: BodyRenderer) -> None:
    r128 = BodyRenderer(renderer.body, config=PerceptionConfig(resolution=128))
    params = random_params(4, depth=4.0, seed=5)
    batch = r128.render(params)
    assert batch.silhouette.shape == (4, 1, 128, 128)
    exact = exact_silhouettes(r128, params, batch)
    assert min(iou(batch.silhouette[i, 0].numpy(), e) for i, e in enumerate(exact)) >= 0.93


def test_soft_silhouette_is_differentiable_and_close(renderer: BodyRenderer) -> None:
    params = random_params(8, depth=4.0, seed=7)
    batch = renderer.render(params)
    with torch.no_grad():
        verts = renderer.body(params, vertex_ids=renderer.point_ids).vertices
    pts = project_to_crop(verts, batch.crop_intrinsics).requires_grad_(True)
    soft = soft_silhouette(pts, 64)
    assert soft.shape == (8, 1, 64, 64)
    hard = batch.silhouette
    for i in range(8):
        assert iou((soft[i, 0] > 0.5).float().numpy(), hard[i, 0].numpy()) >= 0.88
    ((soft - hard) ** 2).mean().backward()
    assert torch.isfinite(pts.grad).all() and pts.grad.abs().sum() > 0


def test_shaded_render_agrees_with_mediapipe(renderer: BodyRenderer) -> None:
    """Shaded body render -> MediaPipe keypoints vs projected keypoints, in units of the crop
    side. Measured on 8 poses (front/side/back views, bent knee, lunge): per-pose median
    0.6-1.1 %, worst keypoint 3.2 % (toes, hips, ears). Tolerance: median < 2.5 %, worst < 6 %.
    MediaPipe's mask (> 0.5) vs the exact mesh silhouette: IoU 0.79-0.82 measured, > 0.7 asserted
    (its mask is soft and rounded at 64 px)."""
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    cam = Camera.default_for(640, 480)
    with MediaPipeDetector(PerceptionConfig(static_image_mode=True)) as det:
        for params in (posed(0, 1.2, 0.0), posed(-30, 1.0, 0.8), posed(180, 1.2, 0.0)):
            image = renderer.render_shaded(params, cam)
            assert image.shape == (480, 640, 3) and image.dtype == np.uint8
            rendered = renderer.render_one(params, cam)
            detected = det.detect(image)
            assert detected.has_person
            ok = (detected.confidences >= 0.5) & (rendered.confidences > 0)
            assert ok.sum() >= 18
            err = np.linalg.norm(detected.keypoints_frame() - rendered.keypoints_frame(), axis=1)
            err = err[ok] / rendered.box.side
            assert np.median(err) < 0.025 and err.max() < 0.06, err
            # Crop boxes from the two sources agree too (mask ~ mesh).
            assert abs(detected.box.side / rendered.box.side - 1) < 0.1
            # MediaPipe's mask vs the exact mesh silhouette, both in MediaPipe's crop.
            with torch.no_grad():
                verts = renderer.body(params).vertices[0].double().numpy()
            mesh = rasterize_silhouette_exact(
                detected.box.to_crop(cam.project(verts)), renderer.faces, 64
            )
            assert detected.silhouette is not None
            assert iou((detected.silhouette > 0.5).astype(np.float32), mesh) > 0.7


def test_decimated_mesh_keeps_the_bodys_outline_and_winding() -> None:
    """The overlay's decimated body (replay `OVERLAY_VOXEL_M`) covers the same pixels as the
    full mesh, encloses the same volume with the same (outward) winding, with far fewer faces."""
    from coach_backend.replay.run import OVERLAY_VOXEL_M

    body = body_mod.load_body_model()
    rest = body.v_template.numpy().astype(np.float64)
    faces = np.asarray(body.faces)
    ids, small = decimate_mesh(rest, faces, OVERLAY_VOXEL_M)
    assert len(small) < 0.5 * len(faces) and small.max() < len(ids)

    def mask(vertices: np.ndarray, tris: np.ndarray) -> np.ndarray:
        canvas = np.zeros((400, 400), np.uint8)
        px = np.round((vertices[:, :2] * [1, -1] + [1.0, 1.0]) * 200 * 16).astype(np.int32)
        for tri in px[tris]:
            cv2.fillConvexPoly(canvas, tri, 1, cv2.LINE_8, 4)
        return canvas.astype(bool)

    def volume(vertices: np.ndarray, tris: np.ndarray) -> float:
        a, b, c = (vertices[tris[:, k]] for k in range(3))
        return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6)

    full, decimated = mask(rest, faces), mask(rest[ids], small)
    assert (full & decimated).sum() / (full | decimated).sum() > 0.97
    assert volume(rest, faces) > 0 and volume(rest[ids], small) > 0
    assert abs(volume(rest[ids], small) / volume(rest, faces) - 1) < 0.05
