"""MediaPipe source: keypoint mapping, empty / missing-mask cases, a real photo."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from coach_backend.config import LIVE_PERCEPTION_MAX_SIDE, REPLAY_PERCEPTION_MAX_SIDE
from coach_backend.perception import SURFACE_KEYPOINT_NAMES, PerceptionConfig
from coach_backend.perception.mediapipe_source import (
    MEDIAPIPE_TO_SURFACE,
    MediaPipeDetector,
    box_around,
    landmarks_to_surface,
)
from coach_backend.perception.types import DEFAULT_MAX_INPUT_SIDE

FIXTURE = Path(__file__).parent / "fixtures" / "lunge-barbell-pexels-320.jpg"

# BlazePose landmark names (index order), to check the mapping by name, not by number.
BLAZEPOSE = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip


def test_mapping_by_name() -> None:
    import mediapipe as mp

    assert [lm.name.lower() for lm in mp.solutions.pose.PoseLandmark] == list(BLAZEPOSE)
    renamed = {"big_toe": "foot_index"}
    for name, src in zip(SURFACE_KEYPOINT_NAMES, MEDIAPIPE_TO_SURFACE, strict=True):
        side, _, part = name.partition("_")
        if part == "small_toe":
            assert src is None
        elif part in renamed:
            assert BLAZEPOSE[src] == f"{side}_{renamed[part]}"
        else:
            assert BLAZEPOSE[src] == name


def test_landmarks_to_surface_values() -> None:
    xyv = np.zeros((33, 3))
    xyv[:, 0] = np.arange(33)  # x = BlazePose index, to read the mapping back
    xyv[:, 1] = 100 + np.arange(33)
    xyv[:, 2] = np.linspace(0.0, 1.2, 33)  # includes an out-of-range visibility
    pts, conf = landmarks_to_surface(xyv)
    assert pts.shape == (23, 2) and conf.shape == (23,)
    for k, src in enumerate(MEDIAPIPE_TO_SURFACE):
        if src is None:
            assert conf[k] == 0.0
        else:
            assert pts[k, 0] == src and pts[k, 1] == 100 + src
            assert conf[k] == pytest.approx(min(xyv[src, 2], 1.0))
    assert conf[0] == 0.0  # nose had visibility 0: kept low, not dropped or raised


@pytest.fixture(scope="module")
def detector() -> MediaPipeDetector:
    with MediaPipeDetector(PerceptionConfig(static_image_mode=True)) as det:
        yield det


def test_blank_image_gives_empty(detector: MediaPipeDetector) -> None:
    for frame in (np.zeros((480, 640, 3), np.uint8), np.full((240, 320, 3), 200, np.uint8)):
        rep = detector.detect(frame)
        assert not rep.has_person
        assert rep.silhouette is None and not rep.confidences.any()
        assert (rep.camera.width, rep.camera.height) == (frame.shape[1], frame.shape[0])


def test_lunge_photo(detector: MediaPipeDetector) -> None:
    frame = cv2.imread(str(FIXTURE))
    rep = detector.detect(frame)
    assert rep.has_person
    assert rep.silhouette is not None and rep.silhouette.shape == (64, 64)
    assert rep.silhouette.min() >= 0.0 and rep.silhouette.max() <= 1.0
    assert rep.silhouette.mean() > 0.15  # the person fills a good part of the crop
    assert rep.confidences[18] == 0.0 and rep.confidences[21] == 0.0  # small toes
    ok = rep.confidences > 0.5
    assert ok.sum() >= 15
    # Confident keypoints lie inside the crop and on the silhouette (or right next to it).
    kp = rep.keypoints[ok]
    assert (kp > -0.5).all() and (kp < 63.5).all()
    ij = np.clip(np.round(kp).astype(int), 0, 63)
    on_mask = cv2.dilate(rep.silhouette, np.ones((5, 5)))[ij[:, 1], ij[:, 0]] > 0.5
    assert on_mask.mean() > 0.9
    # Seen from behind with the left leg forward: left knee is on the image left.
    names = list(SURFACE_KEYPOINT_NAMES)
    assert rep.keypoints[names.index("left_knee"), 0] < rep.keypoints[names.index("right_knee"), 0]
    # Frame coordinates agree with the crop.
    np.testing.assert_allclose(rep.box.to_crop(rep.keypoints_frame()), rep.keypoints, atol=1e-3)


def test_resolution_128() -> None:
    frame = cv2.imread(str(FIXTURE))
    with MediaPipeDetector(PerceptionConfig(resolution=128, static_image_mode=True)) as det:
        rep = det.detect(frame)
    assert rep.has_person and rep.silhouette is not None and rep.silhouette.shape == (128, 128)


def test_missing_mask_gives_none_silhouette(detector: MediaPipeDetector, monkeypatch) -> None:
    frame = cv2.imread(str(FIXTURE))
    real = detector._pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    fake = SimpleNamespace(pose_landmarks=real.pose_landmarks, segmentation_mask=None)
    monkeypatch.setattr(detector._pose, "process", lambda _rgb: fake)
    rep = detector.detect(frame)
    assert rep.has_person and rep.silhouette is None
    assert (rep.confidences > 0.5).sum() >= 15


def test_close_and_bad_input() -> None:
    det = MediaPipeDetector()
    with pytest.raises(ValueError):
        det.detect(np.zeros((10, 10), np.uint8))
    det.close()
    det.close()  # idempotent
    with pytest.raises(RuntimeError):
        det.detect(np.zeros((10, 10, 3), np.uint8))


# ---- input size (PerceptionConfig.max_input_side) and the mask switch ---------------------------
def upscaled_photo(factor: int = 4) -> np.ndarray:
    """The fixture photo (320x479) at `factor` x its size: a stand-in for a phone frame, whose
    picture has no more detail than a shrunk copy of it."""
    frame = cv2.imread(str(FIXTURE))
    h, w = frame.shape[:2]
    return cv2.resize(frame, (w * factor, h * factor), interpolation=cv2.INTER_CUBIC)


def detect(frame: np.ndarray, **config: object):
    with MediaPipeDetector(PerceptionConfig(static_image_mode=True, **config)) as det:
        return det.detect(frame)


def test_default_input_size_is_lives_choice() -> None:
    # One source: coach_backend.config (measured in benchmarks/results/phone.md and live.md).
    assert PerceptionConfig().max_input_side == DEFAULT_MAX_INPUT_SIDE == LIVE_PERCEPTION_MAX_SIDE
    with pytest.raises(ValueError):
        PerceptionConfig(max_input_side=0)


def test_replay_input_size_shrinks_phone_frames_and_keeps_webcam_frames() -> None:
    side = REPLAY_PERCEPTION_MAX_SIDE
    assert side is not None
    with MediaPipeDetector(PerceptionConfig(max_input_side=side)) as det:
        webcam = np.zeros((480, 640, 3), np.uint8)
        assert det.input_image(webcam) is webcam
        landscape = det.input_image(np.zeros((1080, 1920, 3), np.uint8))
        portrait = det.input_image(np.zeros((1920, 1080, 3), np.uint8))
    assert landscape.shape == (round(1080 * side / 1920), side, 3)
    assert portrait.shape == (side, round(1080 * side / 1920), 3)


def test_graph_gets_the_shrunk_frame(monkeypatch) -> None:
    frame = upscaled_photo()  # 1280 x 1916 (portrait)
    seen: list[tuple[int, ...]] = []
    with MediaPipeDetector(PerceptionConfig(static_image_mode=True, max_input_side=320)) as det:
        real = det._pose.process
        monkeypatch.setattr(det._pose, "process", lambda rgb: seen.append(rgb.shape) or real(rgb))
        rep = det.detect(frame)
        small = np.zeros((100, 200, 3), np.uint8)
        assert det.input_image(small) is small  # smaller than the limit: untouched
    assert seen == [(320, 214, 3)]  # the long side (the height) at 320
    assert (rep.camera.width, rep.camera.height) == (1280, 1916)  # intrinsics: full frame


# BlazePose landmarks that become surface keypoints, in surface order.
REPORTED = [src for src in MEDIAPIPE_TO_SURFACE if src is not None]


def test_shrunk_input_maps_back_to_full_frame_pixels_exactly(monkeypatch) -> None:
    """MediaPipe's normalised coordinates run edge to edge in the shrunk frame as in the full
    one: a landmark at normalised (u, v) is at (u * W - 0.5, v * H - 0.5) in the full frame,
    and the mask (shrunk frame's size) lands where the same mask of the full frame would."""
    full_w, full_h = 1920, 1080
    rng = np.random.default_rng(0)
    uv = np.column_stack([rng.uniform(0.3, 0.6, 33), rng.uniform(0.2, 0.9, 33)])
    shapes: list[tuple[int, ...]] = []

    def fake_process(rgb: np.ndarray) -> SimpleNamespace:
        h, w = rgb.shape[:2]
        shapes.append(rgb.shape)
        mask = np.zeros((h, w), np.float32)  # the person: normalised x 0.25-0.65, y 0.1-0.95
        mask[round(0.1 * h) : round(0.95 * h), round(0.25 * w) : round(0.65 * w)] = 1.0
        landmarks = [SimpleNamespace(x=u, y=v, visibility=0.9) for u, v in uv]
        return SimpleNamespace(
            pose_landmarks=SimpleNamespace(landmark=landmarks), segmentation_mask=mask
        )

    reps = {}
    for side in (None, 960, 1280):
        with MediaPipeDetector(PerceptionConfig(max_input_side=side)) as det:
            monkeypatch.setattr(det._pose, "process", fake_process)
            reps[side] = det.detect(np.zeros((full_h, full_w, 3), np.uint8))
    assert [s[:2] for s in shapes] == [(1080, 1920), (540, 960), (720, 1280)]
    expected = uv * (full_w, full_h) - 0.5
    native = reps[None]
    for side, rep in reps.items():
        ok = rep.confidences > 0
        np.testing.assert_allclose(rep.keypoints_frame()[ok], expected[REPORTED], atol=1e-3)
        # Box (keypoints U mask): within a pixel or two of the full-size mask's.
        assert abs(rep.box.cx - native.box.cx) < 1.5 and abs(rep.box.cy - native.box.cy) < 1.5
        assert abs(rep.box.side - native.box.side) < 3.0, side
        assert np.abs(rep.silhouette - native.silhouette).mean() < 0.02, side


def test_box_around_a_resized_mask() -> None:
    mask = np.zeros((1080, 1920), np.float32)
    mask[150:901, 480:1201] = 1.0
    points = np.array([[700.0, 300.0], [900.0, 800.0]])
    config = PerceptionConfig()
    native = box_around(points, mask, config)
    for size in ((960, 540), (1280, 720), (640, 360)):
        small = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
        box = box_around(points, small, config, frame_size=(1920, 1080))
        scale = 1920 / size[0]  # the mask's extent is known to about a (small) pixel
        assert abs(box.cx - native.cx) <= scale and abs(box.cy - native.cy) <= scale
        assert abs(box.side - native.side) <= 2.5 * scale


@pytest.mark.parametrize("side", [320, 640, 960])
def test_shrunk_input_keypoints_agree_with_native(side: int) -> None:
    """The same picture at 1280x1916, fed natively and shrunk: keypoints (full-frame pixels)
    within a couple of % of the person's height, same box and silhouette."""
    frame = upscaled_photo()
    native = detect(frame, max_input_side=None)
    shrunk = detect(frame, max_input_side=side)
    assert native.has_person and shrunk.has_person
    ok = (native.confidences > 0.5) & (shrunk.confidences > 0.5)
    assert ok.sum() >= 15
    height = np.ptp(native.keypoints_frame()[ok, 1])
    dist = np.linalg.norm(shrunk.keypoints_frame()[ok] - native.keypoints_frame()[ok], axis=1)
    assert np.median(dist) / height < 0.015 and dist.max() / height < 0.04
    assert abs(shrunk.box.cx - native.box.cx) < 0.01 * native.box.side
    assert abs(shrunk.box.side - native.box.side) < 0.02 * native.box.side
    iou = (
        np.minimum(shrunk.silhouette, native.silhouette).sum()
        / np.maximum(shrunk.silhouette, native.silhouette).sum()
    )
    assert iou > 0.9


def test_segmentation_off_gives_the_same_keypoints_and_no_silhouette() -> None:
    frame = cv2.imread(str(FIXTURE))
    with_mask = detect(frame)
    without = detect(frame, segmentation=False)
    assert without.has_person and without.silhouette is None
    np.testing.assert_allclose(without.keypoints_frame(), with_mask.keypoints_frame(), atol=0.01)
    np.testing.assert_array_equal(without.confidences, with_mask.confidences)
