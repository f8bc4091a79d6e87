"""Camera / CropBox / Representation conventions (no MediaPipe, no body model needed)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from coach_backend.perception import (
    NUM_KEYPOINTS,
    SURFACE_KEYPOINT_NAMES,
    Camera,
    CropBox,
    Representation,
    square_box,
    stack,
)
from coach_backend.perception.types import fit_within, resize_map


def test_keypoint_names_follow_the_team_convention() -> None:
    assert NUM_KEYPOINTS == 23
    assert SURFACE_KEYPOINT_NAMES[:5] == ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
    assert SURFACE_KEYPOINT_NAMES[17:] == (
        "left_big_toe", "left_small_toe", "left_heel",
        "right_big_toe", "right_small_toe", "right_heel",
    )  # fmt: skip


def test_default_camera_is_60_degrees_across_the_long_side() -> None:
    for w, h in ((640, 480), (480, 640)):
        cam = Camera.default_for(w, h)
        assert cam.fx == cam.fy == pytest.approx(640 / (2 * math.tan(math.radians(30))))
        assert (cam.cx, cam.cy) == ((w - 1) / 2, (h - 1) / 2)
        # A point on the optical axis lands on the image centre.
        np.testing.assert_allclose(cam.project(np.array([0.0, 0.0, 3.0])), [cam.cx, cam.cy])


def test_crop_round_trip_is_exact() -> None:
    rng = np.random.default_rng(0)
    box = CropBox(cx=321.7, cy=205.3, side=187.9, resolution=64)
    pts = rng.uniform(-200, 900, size=(1000, 2))
    np.testing.assert_allclose(box.to_frame(box.to_crop(pts)), pts, rtol=0, atol=1e-9)
    np.testing.assert_allclose(box.to_crop(box.to_frame(pts)), pts, rtol=0, atol=1e-9)
    # The crop's outer edges are the box's edges (pixel-centre convention).
    edges = np.array([[box.x0, box.y0], [box.x0 + box.side, box.y0 + box.side]])
    np.testing.assert_allclose(box.to_crop(edges), [[-0.5, -0.5], [63.5, 63.5]], atol=1e-9)
    # The 3x3 affine is the same map.
    h = np.c_[pts, np.ones(len(pts))] @ box.affine().T
    np.testing.assert_allclose(h[:, :2], box.to_crop(pts), atol=1e-9)
    # float32 input stays float32 and round-trips to float32 precision.
    p32 = pts.astype(np.float32)
    assert box.to_crop(p32).dtype == np.float32
    np.testing.assert_allclose(box.to_frame(box.to_crop(p32)), p32, atol=1e-3)


def test_crop_camera_projects_like_frame_then_crop() -> None:
    cam = Camera.default_for(640, 480)
    box = CropBox(cx=300.0, cy=260.0, side=250.0, resolution=128)
    crop_cam = box.crop_camera(cam)
    pts = np.random.default_rng(1).uniform([-1, -1, 2], [1, 1, 6], size=(200, 3))
    np.testing.assert_allclose(crop_cam.project(pts), box.to_crop(cam.project(pts)), atol=1e-9)
    assert (crop_cam.width, crop_cam.height) == (128, 128)


@pytest.mark.parametrize("side", [40.0, 400.0])  # upsampling and the INTER_AREA downscale path
def test_crop_image_agrees_with_to_crop(side: float) -> None:
    img = np.zeros((480, 640), np.float32)
    centre = np.array([310.0, 250.0])
    cv2.circle(img, (310, 250), 9, 1.0, -1)
    box = CropBox(cx=300.3, cy=244.1, side=side, resolution=64)
    crop = box.crop_image(img)
    ys, xs = np.mgrid[0:64, 0:64]
    got = np.array([(crop * xs).sum(), (crop * ys).sum()]) / crop.sum()
    np.testing.assert_allclose(got, box.to_crop(centre), atol=0.15)


def blob(width: int, height: int, centre: tuple[float, float], sigma: float) -> np.ndarray:
    """A smooth float32 image: a Gaussian bump, centre in pixel-centre coordinates."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2
    return np.exp(-r2 / (2 * sigma**2)).astype(np.float32)


def test_fit_within_keeps_the_aspect_and_never_enlarges() -> None:
    assert fit_within(1920, 1080, None) == (1920, 1080)
    assert fit_within(1920, 1080, 1920) == (1920, 1080)
    assert fit_within(1920, 1080, 960) == (960, 540)
    assert fit_within(1080, 1920, 640) == (360, 640)  # portrait: the long side is the height
    assert fit_within(3840, 2160, 1280) == (1280, 720)
    assert fit_within(640, 480, 960) == (640, 480)


@pytest.mark.parametrize("size", [(960, 540), (1280, 720), (640, 360)])
def test_resize_map_is_where_cv2_resize_puts_things(size: tuple[int, int]) -> None:
    frame_size, centre = (1920, 1080), (700.3, 400.7)
    small = cv2.resize(blob(*frame_size, centre, 40.0), size, interpolation=cv2.INTER_AREA)
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    got = np.array([(small * xs).sum(), (small * ys).sum()]) / small.sum()
    m = resize_map(frame_size, size)
    np.testing.assert_allclose(got, (m @ [*centre, 1.0])[:2], atol=0.02)
    # Edges map to edges, and the reverse map undoes it.
    np.testing.assert_allclose(m @ [-0.5, -0.5, 1], [-0.5, -0.5, 1])
    np.testing.assert_allclose(m @ [1919.5, 1079.5, 1], [size[0] - 0.5, size[1] - 0.5, 1])
    np.testing.assert_allclose(resize_map(size, frame_size) @ m, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("size", [(960, 540), (1280, 720)])
@pytest.mark.parametrize("side", [300.0, 1000.0])  # with and without the INTER_AREA step
def test_crop_image_of_a_resized_copy_matches_the_full_frame(
    size: tuple[int, int], side: float
) -> None:
    frame = blob(1920, 1080, (700.3, 400.7), 60.0)
    box = CropBox(cx=712.0, cy=420.0, side=side, resolution=64)
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    direct = box.crop_image(frame)
    via_small = box.crop_image(small, frame_size=(1920, 1080))
    assert direct.max() > 0.9
    assert np.abs(via_small - direct).max() < 0.02
    np.testing.assert_array_equal(box.crop_image(frame, frame_size=(1920, 1080)), direct)


def test_square_box_margin_rule() -> None:
    cx, cy, side = square_box(np.array([10.0, 20.0]), np.array([110.0, 60.0]), 0.1, 32.0)
    assert (float(cx), float(cy), float(side)) == pytest.approx((60.0, 40.0, 120.0))
    _, _, small = square_box(np.array([0.0, 0.0]), np.array([2.0, 2.0]), 0.1, 32.0)
    assert float(small) == 32.0


def test_empty_representation_and_stack_round_trip() -> None:
    cam = Camera.default_for(640, 480)
    empty = Representation.empty(cam, resolution=64)
    assert not empty.has_person and empty.silhouette is None
    assert empty.keypoints.shape == (23, 2) and not empty.confidences.any()
    box = CropBox(320.0, 240.0, 300.0, 64)
    full = Representation(
        keypoints=np.random.default_rng(2).uniform(0, 64, (23, 2)),
        confidences=np.linspace(0, 1, 23),
        silhouette=np.ones((64, 64)),
        box=box,
        camera=cam,
    )
    batch = stack([full, empty])
    assert batch.keypoints.shape == (2, 23, 2) and batch.keypoints.dtype == torch.float32
    assert batch.silhouette.shape == (2, 1, 64, 64)
    assert batch.silhouette_present.tolist() == [True, False]
    assert batch.has_person.tolist() == [True, False]
    np.testing.assert_allclose(batch.crop_intrinsics[0].numpy(), box.crop_camera(cam).intrinsics,
                               rtol=1e-6)  # fmt: skip
    back = batch.item(0)
    np.testing.assert_allclose(back.keypoints, full.keypoints)
    # The tensor form is float32: boxes and intrinsics come back to float32 precision.
    assert back.box.params() == pytest.approx(box.params(), rel=1e-6)
    assert back.camera.intrinsics == pytest.approx(cam.intrinsics, rel=1e-6)
    assert batch.item(1).silhouette is None and not batch.item(1).has_person
    edges = batch.normalized_keypoints()
    assert edges.shape == (2, 23, 2)


def test_representation_rejects_bad_shapes() -> None:
    cam = Camera.default_for(64, 64)
    box = CropBox(32, 32, 64, 64)
    with pytest.raises(ValueError):
        Representation(np.zeros((23, 2)), np.zeros(22), None, box, cam)
    with pytest.raises(ValueError):
        Representation(np.zeros((23, 2)), np.zeros(23), np.zeros((32, 32)), box, cam)
