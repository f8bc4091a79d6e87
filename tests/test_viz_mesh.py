"""The mesh painter: skipping the faces turned away from the viewer and painting only the mesh's
bounding box change nothing visible."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from coach_backend.body import BodyParams, load_body_model
from coach_backend.viz import draw_mesh, perspective
from coach_backend.viz.mesh import SKIN, Projection


def paint_every_face(image: np.ndarray, projection: Projection, faces: np.ndarray, alpha: float):
    """Reference: every face, back to front, over the whole frame (the painter before)."""
    tri_px, tri_depth = projection.pixels[faces], projection.depth[faces]
    p3 = np.concatenate([tri_px, tri_depth[..., None] * projection.pixels_per_depth], axis=2)
    normal = np.cross(p3[:, 1] - p3[:, 0], p3[:, 2] - p3[:, 0])
    shade = 0.35 + 0.65 * np.abs(normal[:, 2]) / (np.linalg.norm(normal, axis=1) + 1e-12)
    layer = image.copy()
    fixed = np.round(tri_px * 16).astype(np.int32)
    for i in np.argsort(tri_depth.mean(1)):
        color = tuple(int(ch * shade[i]) for ch in SKIN)
        cv2.fillConvexPoly(layer, fixed[i], color, lineType=cv2.LINE_AA, shift=4)
    return cv2.addWeighted(layer, alpha, image, 1 - alpha, 0)


@pytest.fixture(scope="module")
def body_mesh() -> tuple[np.ndarray, np.ndarray]:
    """Vertices of a body with its arms down by its sides (seen from the side, an arm hides
    the torso) and its faces."""
    body = load_body_model()
    pose = torch.zeros(1, 23, 3)
    pose[0, 15, 2], pose[0, 16, 2] = -1.2, 1.2  # shoulders: the arms come down
    params = BodyParams.zeros(1)
    params = BodyParams(params.global_orient, pose, params.betas, params.transl)
    with torch.no_grad():
        vertices = body(params).vertices[0].numpy().astype(np.float64)
    return vertices, np.asarray(body.faces)


@pytest.mark.parametrize("turn_deg", [0.0, 90.0, 180.0])  # front, side, back
@pytest.mark.parametrize("alpha", [0.6, 1.0])
def test_same_picture_as_painting_every_face(body_mesh, turn_deg: float, alpha: float) -> None:
    vertices, faces = body_mesh
    a = np.radians(turn_deg)
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    # Body y up, facing +z -> camera frame (y down, the body 3.5 m in front, facing the camera).
    flip = np.diag([1.0, -1.0, -1.0])
    cam = vertices @ turn.T @ flip.T + [0.3, 0.2, 3.5]
    projection = perspective(cam, 900.0, 900.0, 639.5, 359.5)
    image = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    expected = paint_every_face(image, projection, faces, alpha)
    got = draw_mesh(image.copy(), projection, faces, alpha=alpha)
    covered = np.abs(expected.astype(int) - image).max(2) > 0
    differs = np.abs(got.astype(int) - expected).max(2) > 8
    assert covered.sum() > 20_000
    # Only antialiased outlines may differ (outer and over the body: where the skipped back
    # faces peeked out by a fraction of a pixel), and never outside the body.
    assert differs.sum() < 0.06 * covered.sum()
    assert np.abs(got.astype(int) - expected)[covered].mean() < 2.0
    kernel = np.ones((5, 5), np.uint8)
    assert not differs[~cv2.dilate(covered.astype(np.uint8), kernel).astype(bool)].any()


def test_mesh_outside_the_frame_leaves_it_alone(body_mesh) -> None:
    vertices, faces = body_mesh
    cam = vertices * [1, -1, -1] + [50.0, 0.0, 3.5]  # far off to the right
    image = np.full((120, 160, 3), 7, np.uint8)
    draw_mesh(image, perspective(cam, 100.0, 100.0, 79.5, 59.5), faces, alpha=0.5)
    assert (image == 7).all()
