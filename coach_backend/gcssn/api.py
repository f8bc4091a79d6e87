"""Inference: representations (or your own 2D keypoints) -> SMPL parameters and 3D points.

from coach_backend.gcssn import reconstruct_from_keypoints
result = reconstruct_from_keypoints(keypoints_px, confidences, image_size=(640, 480))
result.joints  # (T,24,3) metres, camera frame (OpenCV axes: x right, y down, z forward)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from coach_backend.body import BodyModel, BodyParams, load_body_model
from coach_backend.body.skeleton import KEYPOINT_NAMES, NUM_JOINTS, NUM_KEYPOINTS
from coach_backend.config import (
    DETECTOR_3D_PULL,
    OFFLINE_MIRROR_AVERAGE,
    OFFLINE_REFINE_STEPS,
    SETTLE_STEPS,
)
from coach_backend.gcssn.geometry import pelvis_position, rest_pelvis
from coach_backend.gcssn.lifter import (
    NETWORK_TYPE as LIFTER_TYPE,
)
from coach_backend.gcssn.lifter import (
    KeypointLifter,
    LifterConfig,
    keypoint_rays,
    mirror_averaged,
    place_body,
    window_indices,
    window_stride,
)
from coach_backend.gcssn.network import GCSSN, NetworkConfig, Prediction
from coach_backend.gcssn.rotations import rotvec_to_rotmat
from coach_backend.perception.crop import box_around
from coach_backend.perception.types import (
    Camera,
    PerceptionConfig,
    Representation,
    RepresentationBatch,
    stack,
)
from coach_backend.resources import model_path
from coach_backend.smoothing import SmoothingConfig, SmplSequence, smooth_sequence

# One lifter serves live, the replay and `reconstruct_from_keypoints` (models/README.md).
DEFAULT_WEIGHTS = model_path("gcssn_lifter.pt")
NO_VERTICES = torch.zeros(0, dtype=torch.long)
# Frames per call of the settle fit over a clip (bounds the memory of a long file).
SETTLE_CHUNK = 256
# Keypoints below this confidence do not pull on the body's placement (occluded, guessed).
PLACEMENT_MIN_CONFIDENCE = 0.3
Network = GCSSN | KeypointLifter


@dataclass
class Reconstruction:
    """Per-frame results, camera frame, metres; rows with valid=False had no person."""

    global_orient: np.ndarray  # (T,3) axis-angle
    body_pose: np.ndarray  # (T,23,3) axis-angle
    betas: np.ndarray  # (T,10)
    transl: np.ndarray  # (T,3)
    joints: np.ndarray  # (T,24,3) SMPL joints
    keypoints: np.ndarray  # (T,23,3) surface keypoints (KEYPOINT_NAMES order)
    valid: np.ndarray  # (T,) bool

    def __len__(self) -> int:
        return len(self.valid)

    def sequence(self, fps: float) -> SmplSequence:
        """The frames as one clip at `fps` (frame i at i / fps seconds)."""
        return SmplSequence(
            global_orient=self.global_orient,
            body_pose=self.body_pose,
            betas=self.betas,
            transl=self.transl,
            valid=self.valid,
            timestamp_s=np.arange(len(self)) / fps,
        )

    @classmethod
    def of_sequence(cls, body: BodyModel, seq: SmplSequence) -> Reconstruction:
        """A clip's parameters with the body's joints and keypoints (zeros where invalid)."""
        valid = np.asarray(seq.valid, bool)
        joints = np.zeros((len(seq), NUM_JOINTS, 3), np.float32)
        keypoints = np.zeros((len(seq), NUM_KEYPOINTS, 3), np.float32)
        rows = np.flatnonzero(valid)
        for start in range(0, len(rows), SETTLE_CHUNK):
            part = rows[start : start + SETTLE_CHUNK]
            params = BodyParams.from_numpy(
                global_orient=seq.global_orient[part],
                body_pose=seq.body_pose[part],
                betas=seq.betas[part],
                transl=seq.transl[part],
            )
            with torch.no_grad():
                out = body(params, NO_VERTICES)  # joints and keypoints need no skinning
            joints[part], keypoints[part] = out.joints.numpy(), out.keypoints.numpy()

        def masked(a: np.ndarray) -> np.ndarray:
            return np.where(valid.reshape(-1, *[1] * (a.ndim - 1)), a, 0.0).astype(np.float32)

        return cls(
            global_orient=masked(seq.global_orient),
            body_pose=masked(seq.body_pose),
            betas=masked(seq.betas),
            transl=masked(seq.transl),
            joints=joints,
            keypoints=keypoints,
            valid=valid,
        )


def load_gcssn(path: str | Path = DEFAULT_WEIGHTS) -> Network:
    """Shipped or trained weights (a `.pt` written by `gcssn.train --export` or
    `gcssn.train_lifter --export`); the card's `network_type` says which network."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GC-SSN weights {path} not found")
    saved = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(saved, dict) or "card" not in saved or "state_dict" not in saved:
        raise ValueError(f"{path} is not a GC-SSN weights file (no card and state_dict)")
    card = saved["card"]
    net: Network
    if card.get("network_type") == LIFTER_TYPE:
        net = KeypointLifter(LifterConfig(**card["network"]))
    else:
        net = GCSSN(
            NetworkConfig(**{**card["network"], "channels": tuple(card["network"]["channels"])})
        )
    net.load_state_dict({k: v.float() for k, v in saved["state_dict"].items()})
    net.card = card
    return net.eval()


def save_gcssn(net: torch.nn.Module, card: dict, path: str | Path) -> None:
    """What `load_gcssn` reads: fp16 weights and the card in one `.pt` (half the size; loaded
    back as float32), and the card beside it as `.json` for people. Folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "card": card}, path)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")


class Reconstructor:
    """GC-SSN plus the body model: representations -> `Reconstruction`.

    refine_steps > 0 runs that many steps of test-time fitting (2D + silhouette + prior),
    initialised from the network; it trades latency for accuracy.
    detector_3d: whether a lifter that can read the detector's 3D keypoints (MediaPipe's world
    landmarks) is given them; None = what its card says (`reads_detector_3d`, default True).
    detector_3d_pull: in the lifter's fit, how strongly the detector's 3D keypoints (when the
    representation has them) pull the body (`fit_lifted_to_keypoints`); 0 = not at all.
    mirror_average: the lifter's pose is averaged with the mirror image of its pose for the
    mirrored keypoints (`mirror_averaged`, twice the network's cost; off in the replay and
    live: `coach_backend.config.OFFLINE_MIRROR_AVERAGE`).
    """

    def __init__(
        self,
        weights: str | Path | Network = DEFAULT_WEIGHTS,
        body: BodyModel | None = None,
        refine_steps: int = 0,
        detector_3d: bool | None = None,
        detector_3d_pull: float = DETECTOR_3D_PULL,
        mirror_average: bool = False,
    ) -> None:
        self.net = weights if isinstance(weights, Network) else load_gcssn(weights)
        self.body = body or load_body_model()
        self.refine_steps = refine_steps
        card = getattr(self.net, "card", None) or {}
        self.detector_3d = (
            card.get("reads_detector_3d", True) if detector_3d is None else detector_3d
        )
        self.detector_3d_pull = detector_3d_pull
        self.mirror_average = mirror_average
        self._prior = None

    @property
    def resolution(self) -> int:
        """Crop side the network reads; the lifter reads only keypoints, so any will do."""
        if isinstance(self.net, KeypointLifter):
            return PerceptionConfig().resolution
        return self.net.config.resolution

    @property
    def needs_silhouette(self) -> bool:
        """Whether the network (or its refinement) reads the silhouette: the CNN GC-SSN does, the
        lifter reads only keypoints (perception may then skip MediaPipe's mask)."""
        return not isinstance(self.net, KeypointLifter)

    @property
    def temporal(self) -> bool:
        """Whether the network reads a window of frames around each one (files, not live)."""
        return isinstance(self.net, KeypointLifter) and self.net.config.window_radius > 0

    def predict(self, reps: RepresentationBatch, fps: float | None = None) -> Reconstruction:
        """One reconstruction per representation. A temporal network takes `reps` as one clip
        in time order at `fps` (None: its own window rate) and reads each frame's neighbours;
        the others treat every frame on its own."""
        b = len(reps)
        valid = reps.has_person.clone()
        if isinstance(self.net, KeypointLifter):
            rotmats, betas, transl, joints, keypoints = self._lift(reps, fps)
        else:
            rotmats, betas, transl = self._regress(reps)
            with torch.no_grad():
                out = self.body.from_rotmats(rotmats, betas, transl, NO_VERTICES)
            joints, keypoints = out.joints, out.keypoints
        rotvecs = _rotvecs(rotmats)
        keep = valid.numpy()

        def masked(a: torch.Tensor | np.ndarray) -> np.ndarray:
            a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
            return np.where(keep.reshape(-1, *[1] * (a.ndim - 1)), a, 0.0).astype(np.float32)

        return Reconstruction(
            global_orient=masked(rotvecs[:, 0]),
            body_pose=masked(rotvecs[:, 1:]),
            betas=masked(betas),
            transl=masked(transl),
            joints=masked(joints),
            keypoints=masked(keypoints),
            valid=keep.astype(bool).reshape(b),
        )

    def predict_clip(
        self, reps: RepresentationBatch, fps: float, settle_steps: int = SETTLE_STEPS
    ) -> Reconstruction:
        """`reps` as one clip in time order at `fps`: `predict`, then smoothed in time and
        laid back onto the keypoints as the replay does (`smoothed_on_keypoints`)."""
        per_frame = self.predict(reps, fps)
        clip = smoothed_on_keypoints(self.body, per_frame.sequence(fps), reps, settle_steps)
        return Reconstruction.of_sequence(self.body, clip)

    def adapt(self, reps: RepresentationBatch, steps: int) -> list[dict[str, float]]:
        """Adapt the lifter to these (unlabelled) representations of one clip, self-supervised
        (`coach_backend.gcssn.adapt`), and use the adapted network from now on. Returns the
        loss history. Only the lifter adapts; the CNN models raise ValueError."""
        from coach_backend.gcssn.adaptation import adapt_lifter
        from coach_backend.gcssn.configs import AdaptConfig

        if not isinstance(self.net, KeypointLifter):
            raise ValueError("only the lifter models can adapt to a clip")
        self.net, history = adapt_lifter(
            self.net, reps, AdaptConfig(steps=steps, batch=64), body=self.body, progress=False
        )
        return history

    def _lift(self, reps: RepresentationBatch, fps: float | None) -> tuple[torch.Tensor, ...]:
        """Lifter: rotations and shape from the keypoints, then the translation that lays the
        body's keypoints onto the detected ones."""
        rays = keypoint_rays(reps)
        present = reps.world_present if self.detector_3d else torch.zeros_like(reps.world_present)
        rays_in, conf_in = rays, reps.conf
        if self.temporal:
            config = self.net.config
            stride = window_stride(fps or config.window_fps, config.window_fps)
            window = window_indices(len(reps), config.window_radius, stride)
            rays_in, conf_in = rays[window], reps.conf[window]
        with torch.no_grad():
            if self.mirror_average:
                pose = mirror_averaged(self.net, rays_in, conf_in, reps.world, present)
            else:
                pose = self.net(self.net.input_features(rays_in, conf_in, reps.world, present))
            zero = torch.zeros(len(reps), 3)
            rooted = self.body.from_rotmats(pose.rotmats, pose.betas, zero, NO_VERTICES)
            weights = placement_weights(reps.conf)
            transl = place_body(rooted.keypoints, rays, weights)
        rotmats = pose.rotmats
        if self.refine_steps > 0:
            from coach_backend.gcssn.refine import fit_lifted_to_keypoints

            with torch.enable_grad():
                rotmats, transl = fit_lifted_to_keypoints(
                    self.body,
                    rotmats,
                    pose.betas,
                    rays,
                    weights,
                    self.refine_steps,
                    **detector_3d_terms(reps, weights, self.detector_3d_pull),
                )
            with torch.no_grad():
                zero = torch.zeros(len(reps), 3)
                rooted = self.body.from_rotmats(rotmats, pose.betas, zero, NO_VERTICES)
        # Translation moves every point alike: no second pass through the body model.
        shift = transl[:, None]
        return rotmats, pose.betas, transl, rooted.joints + shift, rooted.keypoints + shift

    def _regress(self, reps: RepresentationBatch) -> tuple[torch.Tensor, ...]:
        """CNN GC-SSN: rotations, shape and a weak-perspective camera (+ optional refinement)."""
        with torch.no_grad():
            prediction = self.net(reps)
        rotmats, betas = prediction.rotmats, prediction.betas
        pelvis = pelvis_position(prediction.camera, reps.crop_intrinsics, self.resolution)
        if self.refine_steps > 0:
            rotmats, betas, pelvis = self._refine(reps, prediction)
        with torch.no_grad():
            transl = pelvis - rest_pelvis(self.body, betas)
        return rotmats, betas, transl

    def _refine(self, reps: RepresentationBatch, prediction: Prediction):
        from coach_backend.gcssn.refine import FitConfig, fit_to_representation
        from coach_backend.perception.render import cluster_vertices
        from coach_backend.prior.model import load_pose_prior

        if self._prior is None:
            self._prior = load_pose_prior()
            rest = self.body.v_template.numpy().astype(np.float64)
            self._fit_ids = torch.as_tensor(cluster_vertices(rest, self.body.faces, 0.06)[0])
        fit = fit_to_representation(
            reps, prediction, self.body, self._prior, self._fit_ids, FitConfig(self.refine_steps)
        )
        return fit.rotmats, fit.betas, fit.pelvis


def settle_on_keypoints(
    body: BodyModel,
    rotvecs: np.ndarray,
    betas: np.ndarray,
    reps: RepresentationBatch,
    steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Lay an already estimated (e.g. temporally smoothed) pose back onto its frames' 2D
    keypoints: `steps` of the lifter's short 2D fit starting from it (kept close to it), then
    the closed-form translation (0 steps: the translation alone). Why: smoothing a sequence
    moves rotations and settles one shape per person, which shifts the body off the person in
    the image; the pose itself is kept. No pull toward the detector's 3D here: the per-frame
    fit has had it, and pulling the smoothed pose back toward each frame's 3D cost 1.5-2 mm
    on the real-footage benchmark. rotvecs (T,24,3) axis-angle camera frame, betas (T,10),
    reps: the T frames' own representations -> (rotvecs (T,24,3), transl (T,3))."""
    from coach_backend.gcssn.refine import fit_lifted_to_keypoints

    rotmats = rotvec_to_rotmat(torch.as_tensor(rotvecs, dtype=torch.float32))
    shape = torch.as_tensor(betas, dtype=torch.float32)
    with torch.enable_grad():
        rotmats, transl = fit_lifted_to_keypoints(
            body, rotmats, shape, keypoint_rays(reps), placement_weights(reps.conf), steps
        )
    return _rotvecs(rotmats), transl.detach().numpy()


def smoothed_on_keypoints(
    body: BodyModel,
    seq: SmplSequence,
    reps: Sequence[Representation] | RepresentationBatch,
    steps: int = SETTLE_STEPS,
    config: SmoothingConfig | None = None,
) -> SmplSequence:
    """A clip's per-frame bodies, smoothed in time and laid back onto each frame's keypoints:
    zero-phase smoothing (`smooth_sequence`: no lag, one shape per person), then `steps` of
    `settle_on_keypoints` on the valid frames. The smoothing carries what one frame cannot see,
    the depth, from its neighbours; the settle keeps the body on the person in the image.
    seq: the per-frame results (camera frame), reps: the same frames' representations."""
    out = smooth_sequence(seq, config, mode="zero_phase")  # (new arrays: filled in below)
    smoothed = out.rotvecs()
    rows = np.flatnonzero(out.valid)
    for start in range(0, len(rows), SETTLE_CHUNK):
        part = rows[start : start + SETTLE_CHUNK]
        if isinstance(reps, RepresentationBatch):
            part_reps = reps[part]
        else:
            part_reps = stack([reps[i] for i in part])
        rotvecs, transl = settle_on_keypoints(
            body, smoothed[part], out.betas[part], part_reps, steps
        )
        out.global_orient[part] = rotvecs[:, 0]
        out.body_pose[part] = rotvecs[:, 1:]
        out.transl[part] = transl
    return out


def detector_3d_terms(
    reps: RepresentationBatch, weights: torch.Tensor, pull: float
) -> dict[str, object]:
    """`fit_lifted_to_keypoints`' detector-3D arguments for these representations: their 3D
    keypoints where present, weighted like the 2D ones."""
    if reps.world is None or reps.world_present is None or pull <= 0:
        return {}
    return {
        "detector_3d": reps.world,
        "detector_3d_weights": weights * reps.world_present[:, None],
        "detector_3d_pull": pull,
    }


def placement_weights(conf: torch.Tensor) -> torch.Tensor:
    """How much each detected keypoint pulls on the body's placement and fit: its confidence,
    none below PLACEMENT_MIN_CONFIDENCE."""
    return conf * (conf >= PLACEMENT_MIN_CONFIDENCE)


def _rotvecs(rotmats: torch.Tensor) -> np.ndarray:
    """(...,3,3) -> (...,3) float32 axis-angle (scipy: no autograd needed here)."""
    flat = rotmats.detach().reshape(-1, 3, 3).double().numpy()
    return Rotation.from_matrix(flat).as_rotvec().reshape(*rotmats.shape[:-2], 3).astype(np.float32)


def representation_from_keypoints(
    keypoints_px: np.ndarray,
    confidences: np.ndarray,
    camera: Camera,
    silhouette: np.ndarray | None = None,
    config: PerceptionConfig | None = None,
    min_confidence: float = 0.3,
) -> Representation:
    """One frame of user keypoints (K,2 full-frame px, KEYPOINT_NAMES order) and an optional
    full-frame silhouette -> the representation GC-SSN reads (same crop rule as perception)."""
    config = config or PerceptionConfig()
    seen = confidences >= min_confidence
    if not seen.any():
        return Representation.empty(camera, config.resolution)
    box = box_around(keypoints_px[seen], silhouette, config)
    conf = np.where(seen, confidences, 0.0).astype(np.float32)
    crop_points = box.to_crop(keypoints_px.astype(np.float64)).astype(np.float32)
    crop_silhouette = None
    if silhouette is not None:
        crop_silhouette = np.clip(box.crop_image(silhouette.astype(np.float32)), 0.0, 1.0)
    return Representation(
        keypoints=crop_points * (conf[:, None] > 0),
        confidences=conf,
        silhouette=crop_silhouette,
        box=box,
        camera=camera,
        has_person=True,
    )


def reconstruct_from_keypoints(
    keypoints: np.ndarray,
    confidences: np.ndarray,
    image_size: tuple[int, int],
    intrinsics: tuple[float, float, float, float] | None = None,
    silhouettes: np.ndarray | None = None,
    weights: str | Path = DEFAULT_WEIGHTS,
    refine_steps: int = OFFLINE_REFINE_STEPS,
    fps: float | None = None,
    mirror_average: bool = OFFLINE_MIRROR_AVERAGE,
    smooth: bool = True,
) -> Reconstruction:
    """SMPL from your own 2D keypoints.

    keypoints: (T,K,2) pixels, K = 23 in `coach_backend.body.KEYPOINT_NAMES` order (COCO-17,
        then left big toe, small toe, heel, right big toe, small toe, heel).
    confidences: (T,K) in [0, 1]; 0 marks a missing keypoint.
    image_size: (width, height) in pixels.
    intrinsics: (fx, fy, cx, cy) in pixels; default `Camera.default_for(width, height)`.
    silhouettes: optional (T,H,W) full-frame person masks in [0, 1].
    weights: default `DEFAULT_WEIGHTS`, the shipped lifter.
    refine_steps: steps of the short 2D fit after the network (default
        `coach_backend.config.OFFLINE_REFINE_STEPS`; 0 = the network alone, ~10x faster).
    fps: the frames' rate, when they are one clip in time order. The clip is then smoothed in
        time and laid back onto the keypoints, as the replay does (`smoothed_on_keypoints`;
        `smooth=False`: every frame on its own), and a temporal network
        (`Reconstructor.temporal`) reads each frame's neighbours at that rate.
    mirror_average: average the lifter's pose with the mirror image of its pose for the
        mirrored keypoints. Default: as in the replay (off: it did not pay on real footage,
        `coach_backend.config.OFFLINE_MIRROR_AVERAGE`).
    Returns per-frame SMPL parameters and 3D joints/keypoints in metres, camera frame.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    confidences = np.asarray(confidences, dtype=np.float32)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (NUM_KEYPOINTS, 2):
        raise ValueError(
            f"keypoints must be (T,{NUM_KEYPOINTS},2) in the order {KEYPOINT_NAMES}, "
            f"got {keypoints.shape}"
        )
    if confidences.shape != keypoints.shape[:2]:
        raise ValueError(f"confidences must be {keypoints.shape[:2]}, got {confidences.shape}")
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    width, height = image_size
    if intrinsics is None:
        camera = Camera.default_for(width, height)
    else:
        camera = Camera(*(float(v) for v in intrinsics), width, height)
    if silhouettes is not None and silhouettes.shape[1:] != (height, width):
        raise ValueError(f"silhouettes must be (T,{height},{width}), got {silhouettes.shape}")
    reconstructor = Reconstructor(weights, refine_steps=refine_steps, mirror_average=mirror_average)
    config = PerceptionConfig(resolution=reconstructor.resolution)
    reps = [
        representation_from_keypoints(
            keypoints[t],
            confidences[t],
            camera,
            None if silhouettes is None else silhouettes[t],
            config,
        )
        for t in range(len(keypoints))
    ]
    if fps is not None and smooth:
        return reconstructor.predict_clip(stack(reps), fps)
    return reconstructor.predict(stack(reps), fps)
