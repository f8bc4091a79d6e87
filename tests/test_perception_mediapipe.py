"""MediaPipe source: keypoint mapping, empty / missing-mask cases, a real photo."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from coach_backend.perception import SURFACE_KEYPOINT_NAMES, PerceptionConfig
from coach_backend.perception.mediapipe_source import (
    MEDIAPIPE_TO_SURFACE,
    MediaPipeDetector,
    landmarks_to_surface,
)

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
