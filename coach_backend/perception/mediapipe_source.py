"""MediaPipe Pose -> `Representation` (the live source of the geometric representation).

Wraps the legacy `mp.solutions.pose.Pose` graph (BlazePose full, `model_complexity=1` only: that
model ships inside the mediapipe wheel, the lite/heavy ones are downloaded on first use and the
product must run offline).

Keypoints: the 33 BlazePose landmarks are mapped onto the 23 surface keypoints (COCO-17 + feet):
COCO-17 names map one-to-one (BlazePose's "left_eye" is the eye centre); big_toe <- foot_index,
heel <- heel, small_toe has no BlazePose counterpart and is always missing (confidence 0).
Confidence = BlazePose `visibility` (probability that the landmark is in frame and not occluded),
kept as is, so occluded joints keep a low confidence instead of being dropped or invented.

Silhouette: BlazePose's segmentation mask (soft, [0, 1]) resampled into the same crop; None if the
graph returned no mask or `PerceptionConfig.segmentation` is off.

Input size: frames with a long side above `PerceptionConfig.max_input_side` are shrunk (INTER_AREA)
before the graph; MediaPipe's normalised coordinates run edge to edge in the shrunk frame as in
the full one, so keypoints, box and silhouette come out in full-frame pixels exactly.

One person only. BlazePose detects a single person: in `static_image_mode` every frame runs the
person detector and keeps its highest-scoring detection; in video mode (default) the detector
runs only until a person is found, then the ROI is tracked from the previous frame's landmarks,
so the graph *sticks to the first person it locked onto* and re-detects only when tracking is lost
(the landmark score drops below `min_tracking_confidence`). With two people in view you therefore
get one of them (not necessarily the nearest or largest), the mask may also cover parts of the
other person where they overlap the tracked ROI, and the crop box (keypoints U mask) may widen
accordingly. Multi-person input needs a person detector + one tracker per person upstream.

No person -> `Representation.empty(camera)` (has_person False), never an exception and never a
made-up body.
"""

from __future__ import annotations

import sys
from types import ModuleType, TracebackType

import cv2
import numpy as np

from coach_backend.perception.crop import box_around  # noqa: F401  (re-exported)
from coach_backend.perception.types import (
    NUM_KEYPOINTS,
    Camera,
    CropBox,
    PerceptionConfig,
    Representation,
    fit_within,
)

# BlazePose landmark index for each surface keypoint (None = no counterpart -> confidence 0).
MEDIAPIPE_TO_SURFACE: tuple[int | None, ...] = (
    0,  # nose
    2,  # left_eye (BlazePose 1/3 are the inner/outer corners)
    5,  # right_eye
    7,  # left_ear
    8,  # right_ear
    11,  # left_shoulder
    12,  # right_shoulder
    13,  # left_elbow
    14,  # right_elbow
    15,  # left_wrist
    16,  # right_wrist
    23,  # left_hip
    24,  # right_hip
    25,  # left_knee
    26,  # right_knee
    27,  # left_ankle
    28,  # right_ankle
    31,  # left_big_toe <- left_foot_index
    None,  # left_small_toe: missing
    29,  # left_heel
    32,  # right_big_toe <- right_foot_index
    None,  # right_small_toe: missing
    30,  # right_heel
)
assert len(MEDIAPIPE_TO_SURFACE) == NUM_KEYPOINTS


def landmarks_to_surface(landmarks_xyv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(33, 3) BlazePose (x_px, y_px, visibility) -> ((23, 2) points, (23,) confidences)."""
    pts = np.zeros((NUM_KEYPOINTS, 2), np.float32)
    conf = np.zeros((NUM_KEYPOINTS,), np.float32)
    for k, src in enumerate(MEDIAPIPE_TO_SURFACE):
        if src is not None:
            pts[k] = landmarks_xyv[src, :2]
            conf[k] = np.clip(landmarks_xyv[src, 2], 0.0, 1.0)
    return pts, conf


def world_to_surface(world_landmarks: np.ndarray) -> np.ndarray:
    """(33, 3) BlazePose world landmarks -> (23, 3) in surface keypoint order (0 = no match)."""
    out = np.zeros((NUM_KEYPOINTS, 3), np.float32)
    for k, src in enumerate(MEDIAPIPE_TO_SURFACE):
        if src is not None:
            out[k] = world_landmarks[src]
    return out


def _import_mediapipe() -> ModuleType:
    """``import mediapipe``, minus the frames its first import would pin for good.

    mediapipe keeps the ImportError of an optional dependency as a module global
    (``tasks.python.audio.core.audio_record.sd_error`` when ``sounddevice`` is missing). Its
    traceback holds every frame of the import chain, and those frames hold their callers' locals:
    in the live server the first session's detector, pipeline, hub, recorder and WebRTC peer
    stayed alive after that session ended. Dropping the stored tracebacks frees them; the
    exceptions themselves (and their messages) stay."""
    import mediapipe as mp  # Imported lazily: heavy, and the body renderer doesn't need it.

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != "mediapipe":
            continue
        for value in list(vars(module).values()):
            if isinstance(value, BaseException):
                _drop_tracebacks(value)
    return mp


def _drop_tracebacks(exc: BaseException | None) -> None:
    """Of ``exc`` and of the exceptions it was raised while handling."""
    while exc is not None and exc.__traceback__ is not None:  # (stops on a loop too)
        exc.__traceback__ = None
        exc = exc.__context__


def box_from_detection(
    landmarks_xyv: np.ndarray,
    mask: np.ndarray | None,
    config: PerceptionConfig,
    frame_size: tuple[int, int] | None = None,
) -> CropBox:
    """Crop box around confident landmarks (all 33: hands/feet extend the box) U mask > 0.5
    (`frame_size` as in `box_around`)."""
    conf = landmarks_xyv[:, 2]
    pts = landmarks_xyv[conf >= config.box_keypoint_threshold, :2]
    if len(pts) == 0:  # Nothing confident: fall back to all landmarks rather than no box.
        pts = landmarks_xyv[:, :2]
    return box_around(pts, mask, config, frame_size)


class MediaPipeDetector:
    """`detect(frame_bgr) -> Representation` with MediaPipe Pose (`detect_with_world` also returns
    MediaPipe's 3D world landmarks). Use as a context manager or call `close()` to free the graph
    (it owns threads and a TFLite interpreter)."""

    def __init__(self, config: PerceptionConfig | None = None) -> None:
        mp = _import_mediapipe()
        self.config = config or PerceptionConfig()
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=self.config.static_image_mode,
            model_complexity=1,  # The only complexity bundled in the wheel (others download).
            smooth_landmarks=self.config.smooth_landmarks,
            enable_segmentation=self.config.segmentation,
            smooth_segmentation=self.config.smooth_segmentation and self.config.segmentation,
            min_detection_confidence=self.config.min_detection_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
        )

    def camera_for(self, width: int, height: int) -> Camera:
        cam = self.config.camera
        if cam is None:
            return Camera.default_for(width, height)
        if (cam.width, cam.height) != (width, height):
            raise ValueError(
                f"config.camera is {cam.width}x{cam.height}, frame is {width}x{height}"
            )
        return cam

    def input_image(self, frame_bgr: np.ndarray) -> np.ndarray:
        """The frame as the graph gets it: shrunk to `config.max_input_side` if larger."""
        h, w = frame_bgr.shape[:2]
        size = fit_within(w, h, self.config.max_input_side)
        if size == (w, h):
            return frame_bgr
        return cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)

    def detect(self, frame_bgr: np.ndarray) -> Representation:
        return self.detect_with_world(frame_bgr)[0]

    def detect_with_world(self, frame_bgr: np.ndarray) -> tuple[Representation, np.ndarray | None]:
        """`detect` plus MediaPipe's own 3D estimate: the 33 `pose_world_landmarks` as a (33, 3)
        float64 array (metres, origin between the hips, axes as the camera's: x right, y down,
        z away from the camera), or None when no person was found. One graph call for both."""
        if self._pose is None:
            raise RuntimeError("MediaPipeDetector is closed")
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {frame_bgr.shape}")
        h, w = frame_bgr.shape[:2]
        camera = self.camera_for(w, h)
        result = self._pose.process(cv2.cvtColor(self.input_image(frame_bgr), cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return Representation.empty(camera, self.config.resolution), None

        lm = result.pose_landmarks.landmark
        # MediaPipe normalises by the image size with 0 = left *edge*; -0.5 -> pixel centres.
        # A shrunk input spans the same edges, so this is the full frame's position exactly.
        xyv = np.array([(p.x * w - 0.5, p.y * h - 0.5, p.visibility) for p in lm], np.float64)
        mask = result.segmentation_mask
        if mask is not None:
            mask = np.asarray(mask, dtype=np.float32)
        box = box_from_detection(xyv, mask, self.config, frame_size=(w, h))
        pts, conf = landmarks_to_surface(xyv)
        silhouette = None
        if mask is not None:  # (the size of the graph's input, maybe shrunk)
            silhouette = np.clip(box.crop_image(mask, frame_size=(w, h)), 0.0, 1.0)
        world = None
        # getattr: stand-in results (tests, other graphs) may not carry world landmarks.
        world_lm = getattr(result, "pose_world_landmarks", None)
        if world_lm is not None:
            world = np.array([(p.x, p.y, p.z) for p in world_lm.landmark])
        rep = Representation(
            keypoints=box.to_crop(pts.astype(np.float64)).astype(np.float32),
            confidences=conf,
            silhouette=silhouette,
            box=box,
            camera=camera,
            has_person=True,
            world=None if world is None else world_to_surface(world),
        )
        return rep, world

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self) -> MediaPipeDetector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
