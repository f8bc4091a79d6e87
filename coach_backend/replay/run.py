"""Offline replay of a video file through the session pipeline (see docs/replay_format.md).

Order of work: every argument is checked first (input, outputs, weights: `preflight`), then the
models load, then frames are processed. The recording is written while frames are processed, by
the live pipeline's recorder (durable: synced about once a second), so a replay that is killed
keeps the frames it finished, as a killed live session does. When the replay completes, that
recording is replaced, atomically, by the final one (the chosen smoothing, the median body shape).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import torch

from coach_backend.body import BodyModel, BodyParams, load_body_model
from coach_backend.config import (
    OFFLINE_MIRROR_AVERAGE,
    REPLAY_PERCEPTION_MAX_SIDE,
    SETTLE_STEPS,
)
from coach_backend.gcssn.api import (
    DEFAULT_WEIGHTS,
    Reconstruction,
    load_gcssn,
    smoothed_on_keypoints,
)
from coach_backend.perception import Camera, PerceptionConfig, Representation
from coach_backend.pipeline import (
    Perceived,
    PipelineConfig,
    PipelineResult,
    SessionPipeline,
    WireEncoder,
)
from coach_backend.recorder import SessionRecorder, recorded_session_info, replay
from coach_backend.replay.parallel import default_workers, perceive_file
from coach_backend.replay.preflight import (
    JSON_NAME,
    NPZ_NAME,
    OUTPUT_NAMES,
    RECORDING_NAME,
    OutputExistsError,
    WeightsError,
    capped_workers,
    check_outputs,
    check_weights_file,
)
from coach_backend.replay.video import VideoInfo, VideoReader, write_video
from coach_backend.smoothing import SmoothingConfig, SmplSequence
from coach_backend.stream import PoseStreamServer, SessionHub, StreamConfig, make_session_info, pb

FORMAT = "coach_backend.replay/1"
COMPLETE_REASON = "replay complete"  # the StreamEnd reason of a recording the replay finished
Smoothing = Literal["causal", "zero_phase"]
# Frames per GC-SSN call (network + the 10-step fit) offline. The fit's cost is mostly per step,
# not per frame: on the 2-core VM 8.1-8.4 ms a frame in batches of 8, 2.6-2.9 in batches of 32,
# 1.9 in batches of 64 (busy machine, same run). 32 keeps the progress bar moving about once a
# second; the first batch is small so that the first poses come early.
GCSSN_BATCH = 32
GCSSN_FIRST_BATCH = 8
# x264 preset of the overlay video: a preview, and at 1080p "medium" took longer than
# everything else of a replay (about 175 ms a frame against 47 ms for "veryfast" on 2 cores).
# "superfast" then took 14-16 ms of CPU a 1080p frame against 20-24 for "veryfast", for files
# 1.8x as large (about 6 MB for 10 s) of the same quality at this crf (PSNR to the painted
# frames 40.5 against 39.6 dB); "ultrafast" took 10 ms for files 3.3x as large.
_OVERLAY_PRESET = "superfast"
# Frames each stage of the overlay (decode, paint, encode: one thread each) may run ahead of
# the next; a 1080p frame is 6 MB, a 4K one 25 MB.
_OVERLAY_AHEAD = 2
# The overlay paints the body decimated to one vertex per 1.5 cm cell of the rest pose (10,232
# faces of 27,420): painting is a call per triangle, so this cut it from 84 to 29 ms a 640x480
# frame; side by side with the full mesh it looks the same (2 cm nicked the face, 3 cm tore it).
OVERLAY_VOXEL_M = 0.015
# The report's video key frames: the body's box and this much of its size on each side.
KEY_FRAME_MARGIN = 0.15
# Frames a file may fall short of what its container declares before they count as missing:
# header counts and duration x average rate can be a frame off (edit lists, rounding).
_MISSING_TOLERANCE_FRAMES = 1
_MISSING_TOLERANCE_FRACTION = 0.01

__all__ = [
    "COMPLETE_REASON",
    "FORMAT",
    "OutputExistsError",  # defined with the argument checks (preflight); raised here
    "ReplayOptions",
    "ReplayOutputs",
    "run_replay",
    "serve_recording",
]


@dataclass(frozen=True)
class ReplayOptions:
    out_dir: Path
    # A weights file, or a network already loaded (tests, benchmarks); None: DEFAULT_WEIGHTS.
    weights: str | Path | torch.nn.Module | None = None
    smoothing: Smoothing = "zero_phase"
    refine_steps: int = 0
    # After zero-phase smoothing: fit steps back onto the keypoints (0: translation only).
    settle_steps: int = SETTLE_STEPS
    overlay: Path | None = None  # write the mesh-over-video here
    overwrite: bool = False  # replace the outputs of an earlier run (never anything else)
    max_frames: int | None = None  # process only the first N frames
    # Perception threads (file chunks in parallel); None: per core; at most the cores there are.
    workers: int | None = None
    # The session report: which angle counts reps (EXERCISE_CHOICES; "auto": the one with the
    # largest periodic range) and a reference take to compare with (smpl.npz or .coachrec).
    exercise: str = "auto"
    reference: Path | None = None
    # Frames with a longer side are shrunk to it before MediaPipe (None: native); keypoints and
    # outputs stay in the video's own pixels.
    perception_max_side: int | None = REPLAY_PERCEPTION_MAX_SIDE


@dataclass(frozen=True)
class ReplayOutputs:
    out_dir: Path
    npz: Path
    json: Path
    recording: Path
    overlay: Path | None
    video: VideoInfo
    frames: int
    valid_frames: int
    video_duration_s: float  # frames / fps of the source
    processing_s: float  # decode + pipeline + smoothing (not writing outputs or the overlay)
    latency_p50_ms: float  # work per frame (perception + GC-SSN + smoothing), not queueing
    latency_p95_ms: float
    workers: int  # perception threads used
    # Frames the file declares (header count, else duration x rate; within --max-frames); None
    # if it says neither.
    expected_frames: int | None = None
    # The session report (compare.report): its JSON summary (reps, range of motion, tempo) and
    # page, and the reps in one line.
    summary: Path | None = None
    report: Path | None = None
    reps_headline: str = ""

    @property
    def missing_frames(self) -> int:
        """Declared frames that could not be decoded (a truncated or damaged file); 0 when the
        shortfall is within what container counts can be off by."""
        if self.expected_frames is None:
            return 0
        missing = self.expected_frames - self.frames
        tolerance = max(
            _MISSING_TOLERANCE_FRAMES, round(_MISSING_TOLERANCE_FRACTION * self.expected_frames)
        )
        return missing if missing > tolerance else 0

    @property
    def detected_fraction(self) -> float:
        return self.valid_frames / self.frames if self.frames else 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.processing_s if self.processing_s > 0 else 0.0

    @property
    def realtime_factor(self) -> float:
        """> 1: faster than real time."""
        return self.video_duration_s / self.processing_s if self.processing_s > 0 else 0.0


Progress = Callable[[int], None]


def run_replay(
    video_path: str | Path,
    options: ReplayOptions,
    progress: Callable[[int | None], Progress] | None = None,
) -> ReplayOutputs:
    """Video file -> SMPL per frame (npz + json), a recording, optionally an overlay video.

    `progress(total_frames_or_None)` returns a callback taking the number of new frames done.
    Raises, before anything is processed: VideoError for unusable input, OutputExistsError if
    outputs exist and not overwrite, OutputPathError if an output cannot be written there,
    FileNotFoundError / WeightsError for missing / unusable weights. A file that ends before the
    frames it declares is not an error: see `ReplayOutputs.missing_frames`.
    """
    video_path = Path(video_path)
    out = Path(options.out_dir)
    overlay = None if options.overlay is None else Path(options.overlay)
    with VideoReader(video_path) as video:  # input errors first: cheap, before loading models
        info = video.info
    replaced = check_outputs(out, OUTPUT_NAMES, overlay, options.overwrite)
    network = _load_network(options.weights)
    reference = None
    if options.reference is not None:  # a bad one fails before any work
        # (The report's modules, scipy.signal and matplotlib, ~1 s: imported when needed, so
        # the first poses do not wait for them.)
        from coach_backend.replay.session_report import load_reference

        reference = load_reference(options.reference)
    workers = default_workers() if options.workers is None else capped_workers(options.workers)[0]
    body = load_body_model()
    import mediapipe  # noqa: F401  (its import, ~0.5 s, belongs to model loading too)

    config = PipelineConfig(
        perception=PerceptionConfig(max_input_side=options.perception_max_side),
        weights=network,
        refine_steps=options.refine_steps,
        mirror_average=OFFLINE_MIRROR_AVERAGE,
        fps=info.fps,
    )
    session_id = video_path.stem or "replay"
    # Every check passed: clear the earlier run's outputs now, not at the end, because the
    # recording is written from the first frame on and two runs' files must never be mixed.
    for path in replaced:
        path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    recording = out / RECORDING_NAME
    session_info = make_session_info(session_id, fps=info.fps, state=pb.SESSION_STATE_RECORDED)
    # A hub nobody subscribes to: through it the pipeline announces the settled body shape,
    # which its recorder then writes into the recording, as in a live session.
    hub = SessionHub(session_info)
    expected = _expected_frames(info, options.max_frames)
    tick = progress(expected) if progress else None
    results = []
    representations: list[Representation] = []  # what the settle step lays the bodies onto
    with (
        _ending(hub),
        SessionRecorder(recording, session_info) as recorder,
        SessionPipeline(session_id, config, hub=hub, recorder=recorder, body=body) as pipeline,
    ):
        start = time.perf_counter()  # after model loading: that is a one-off cost
        # Perception runs on worker threads (file chunks in parallel); GC-SSN and the causal
        # smoother run here, in capture order; the pipeline's recorder writes each result.
        frames = perceive_file(
            video_path, pipeline.config.perception, workers, options.max_frames, info.fps
        )
        try:
            for batch in _batches(frames, GCSSN_FIRST_BATCH, GCSSN_BATCH):
                results.extend(pipeline.finish_batch(batch))
                representations.extend(p.representation for p in batch)
                if tick:
                    tick(len(batch))
        finally:
            frames.close()  # stops the workers on an error
        pipeline.close(COMPLETE_REASON)
    final = _final_sequence(results, representations, body, options, config.smoothing)
    processing_s = time.perf_counter() - start

    camera = results[0].camera
    work_ms = [r.latency_ms.compute for r in results]
    joints = Reconstruction.of_sequence(body, final).joints
    meta = {
        "format": FORMAT,
        "source": str(video_path),
        "session_id": session_id,
        "fps": info.fps,
        "image_size": [camera.width, camera.height],
        "intrinsics": list(camera.intrinsics),
        "rotation_cw": info.rotation_cw,
        "smoothing": options.smoothing,
        "refine_steps": options.refine_steps,
        "settle_steps": options.settle_steps if options.smoothing == "zero_phase" else None,
        "perception_max_side": options.perception_max_side,
        "weights": _weights_name(options.weights),
        "expected_frames": expected,
    }
    _write_npz(out / NPZ_NAME, final, joints, meta)
    _write_json(out / JSON_NAME, final, joints, meta)
    confidences = [r.confidence for r in results]
    _replace_recording(recording, session_info, final, confidences, body)
    from coach_backend.analytics import analyse_recording
    from coach_backend.replay.session_report import key_frames_at, write_session_report

    session, comparison, note = analyse_recording(recording, options.exercise, reference)
    moments = key_frames_at(session, final.timestamp_s)
    overlay_frames: dict[int, np.ndarray] = {}
    if overlay is not None:
        overlay.parent.mkdir(parents=True, exist_ok=True)
        overlay_frames = _write_overlay(
            video_path, overlay, final, camera, body, info.fps, keep=set(moments)
        )
    report, summary = write_session_report(
        out, session, comparison, note, video_path, options.reference, moments, overlay_frames
    )
    return ReplayOutputs(
        out_dir=out,
        npz=out / NPZ_NAME,
        json=out / JSON_NAME,
        recording=recording,
        overlay=overlay,
        video=info,
        frames=len(results),
        valid_frames=int(final.valid.sum()),
        video_duration_s=len(results) / info.fps,
        processing_s=processing_s,
        latency_p50_ms=float(np.percentile(work_ms, 50)),
        latency_p95_ms=float(np.percentile(work_ms, 95)),
        workers=workers,
        expected_frames=expected,
        summary=summary,
        report=report,
        reps_headline=session.headline() if session is not None else f"none ({note})",
    )


def _load_network(weights: str | Path | torch.nn.Module | None) -> torch.nn.Module:
    """The network, loaded now so that a bad weights file is reported before any work."""
    if isinstance(weights, torch.nn.Module):
        return weights
    path = Path(DEFAULT_WEIGHTS if weights is None else weights)
    check_weights_file(path)
    try:
        return load_gcssn(path)
    except Exception as exc:  # unpickling, the card, the state dict: all mean "not GC-SSN's"
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise WeightsError(
            f"GC-SSN weights {path}: not usable ({type(exc).__name__}: {first_line})"
        ) from exc


@contextmanager
def _ending(hub: SessionHub) -> Iterator[SessionHub]:
    """Ends the hub on leaving (the replay made it, so the replay ends it; idempotent)."""
    try:
        yield hub
    finally:
        hub.end(COMPLETE_REASON)


def _batches(items: Iterator[Perceived], first: int, size: int) -> Iterator[list[Perceived]]:
    """Consecutive batches: the first of `first` items, then of `size` (the last may be short)."""
    batch: list[Perceived] = []
    wanted = first
    for item in items:
        batch.append(item)
        if len(batch) == wanted:
            yield batch
            batch, wanted = [], size
    if batch:
        yield batch


def _expected_frames(info: VideoInfo, max_frames: int | None) -> int | None:
    """Frames the replay should see: what the file declares, within max_frames."""
    declared = info.declared_frames
    if declared is None:
        return max_frames
    return declared if max_frames is None else min(declared, max_frames)


def _final_sequence(
    results: list[PipelineResult],
    reps: list[Representation],
    body: BodyModel,
    options: ReplayOptions,
    config: SmoothingConfig,
) -> SmplSequence:
    if options.smoothing == "causal":  # exactly what the live stream would have shown
        return SmplSequence.from_frames([r.frame for r in results])
    if options.smoothing == "zero_phase":
        # From the raw network output: filtering the causal result again would keep its lag.
        raw = SmplSequence.from_frames([r.raw for r in results])
        return smoothed_on_keypoints(body, raw, reps, options.settle_steps, config)
    raise ValueError(f"unknown smoothing {options.smoothing!r}")


def _params(seq: SmplSequence, rows: np.ndarray) -> BodyParams:
    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a[rows], dtype=torch.float32)

    return BodyParams(
        global_orient=t(seq.global_orient),
        body_pose=t(seq.body_pose),
        betas=t(seq.betas),
        transl=t(seq.transl),
    )


def _body_chunks(
    body: BodyModel,
    seq: SmplSequence,
    rows: np.ndarray,
    chunk: int = 64,
    vertex_ids: torch.Tensor | None = None,
) -> Iterator[tuple[np.ndarray, object]]:
    """The posed body of `rows`, `chunk` frames at a time (all vertices, or `vertex_ids`)."""
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]
        with torch.no_grad():
            yield part, body(_params(seq, part), vertex_ids)


def _zeroed(a: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid.reshape(-1, *[1] * (a.ndim - 1)), a, 0.0).astype(np.float32)


def _write_npz(path: Path, seq: SmplSequence, joints: np.ndarray, meta: dict) -> None:
    v = seq.valid
    np.savez_compressed(
        path,
        global_orient=_zeroed(seq.global_orient, v),
        body_pose=_zeroed(seq.body_pose, v),
        betas=_zeroed(seq.betas, v),
        transl=_zeroed(seq.transl, v),
        joints=joints,
        valid=v.astype(bool),
        timestamps=seq.timestamp_s.astype(np.float64),
        intrinsics=np.asarray(meta["intrinsics"], np.float64),
        image_size=np.asarray(meta["image_size"], np.int32),
        fps=np.float64(meta["fps"]),
        meta=np.str_(json.dumps(meta)),
    )


def _write_json(path: Path, seq: SmplSequence, joints: np.ndarray, meta: dict) -> None:
    def r(a: np.ndarray) -> list:
        return np.round(a.astype(np.float64), 5).tolist()

    frames = []
    for i in range(len(seq)):
        f: dict[str, object] = {"index": i, "time_s": round(float(seq.timestamp_s[i]), 6)}
        f["valid"] = bool(seq.valid[i])
        if seq.valid[i]:
            f.update(
                global_orient=r(seq.global_orient[i]),
                body_pose=r(seq.body_pose[i]),
                betas=r(seq.betas[i]),
                transl=r(seq.transl[i]),
                joints=r(joints[i]),
            )
        frames.append(f)
    doc = {**meta, "num_frames": len(seq), "num_valid": int(seq.valid.sum()), "frames": frames}
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def _replace_recording(
    path: Path,
    session_info: pb.SessionInfo,
    seq: SmplSequence,
    confidences: list[float],
    body: BodyModel,
) -> None:
    """Replace the recording written while processing (the live stream's causal poses) by the
    final one: `seq` (the chosen smoothing) and its median body shape. Written beside it with
    the same recorder and renamed over it, so one whole recording is there at every moment."""
    betas = np.median(seq.betas[seq.valid], axis=0) if seq.valid.any() else None
    info = pb.SessionInfo()
    info.CopyFrom(session_info)
    if betas is not None:
        del info.betas[:]
        info.betas.extend(float(b) for b in betas)
    staged = path.with_name(path.name + ".final")
    staged.unlink(missing_ok=True)  # left by a replay killed at this very step
    encoder = WireEncoder(body)
    with SessionRecorder(staged, info) as recorder:
        for i, frame in enumerate(seq.to_frames()):
            t_us = round(frame.timestamp_s * 1e6)
            recorder.append(encoder.pose_frame(frame, i, t_us, confidences[i]))
        recorder.close(pb.StreamEnd(reason=COMPLETE_REASON, frames_sent=len(seq)))
    os.replace(staged, path)


def _write_overlay(
    video_path: str | Path,
    path: Path,
    seq: SmplSequence,
    camera: Camera,
    body: BodyModel,
    fps: float,
    keep: set[int] | frozenset[int] = frozenset(),
) -> dict[int, np.ndarray]:
    """Write the overlay video; returns its frames ``keep`` (the report's key frames), drawn
    on the way and cropped around the body. Decoding, painting and encoding run on three
    threads (`_ahead`): PyAV and OpenCV release the GIL, so they overlap on a second core."""
    from coach_backend.perception.render import decimate_mesh
    from coach_backend.viz import draw_mesh, perspective

    rest = body.v_template.numpy().astype(np.float64)
    vertex_ids, faces = decimate_mesh(rest, np.asarray(body.faces), OVERLAY_VOXEL_M)
    kept: dict[int, np.ndarray] = {}

    def decoded() -> Generator[np.ndarray, None, None]:
        with VideoReader(video_path) as video:
            for i, (image, _) in enumerate(video):
                if i >= len(seq):
                    return
                yield image

    def painted() -> Generator[np.ndarray, None, None]:
        ids = torch.as_tensor(vertex_ids)
        chunks = _body_chunks(body, seq, np.arange(len(seq)), chunk=32, vertex_ids=ids)
        verts: dict[int, np.ndarray] = {}
        with contextlib.closing(_ahead(decoded(), _OVERLAY_AHEAD)) as images:
            for i, image in enumerate(images):
                if i not in verts:
                    verts.clear()
                    rows, out = next(chunks)
                    verts.update(zip(rows.tolist(), out.vertices.numpy(), strict=True))  # type: ignore[attr-defined]
                proj = None
                if seq.valid[i]:
                    proj = perspective(verts[i].astype(np.float64), *camera.intrinsics)
                    draw_mesh(image, proj, faces, alpha=0.6)
                if i in keep:
                    kept[i] = image.copy() if proj is None else _around(image, proj.pixels)
                yield image

    with contextlib.closing(_ahead(painted(), _OVERLAY_AHEAD)) as frames:
        write_video(path, frames, fps, preset=_OVERLAY_PRESET)
    return kept


_T = TypeVar("_T")


@dataclass(frozen=True)
class _Raised:
    error: BaseException


def _ahead(items: Generator[_T, None, None], depth: int) -> Generator[_T, None, None]:
    """``items``, produced on a worker thread up to ``depth`` items ahead of the consumer. What
    the worker raises is raised here. Closing this generator (the consumer stopped early)
    stops the worker, which closes ``items`` (its ``with`` blocks run), and joins it."""
    buffer: queue.Queue[object] = queue.Queue(depth)
    done = object()
    stop = threading.Event()

    def hand(item: object) -> bool:
        """Put ``item``, waiting while the buffer is full; False once the consumer is gone."""
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                buffer.put(item, timeout=0.05)
                return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand(item):
                    return
            hand(done)
        except BaseException as exc:
            hand(_Raised(exc))
        finally:
            items.close()

    worker = threading.Thread(target=produce, name="replay-overlay", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not done:
            if isinstance(item, _Raised):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _around(image: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """A copy of the square of ``image`` around ``pixels`` (the drawn body), KEY_FRAME_MARGIN
    of its size added on each side: a key frame shows the athlete, not the room."""
    height, width = image.shape[:2]
    low, high = pixels.min(axis=0), pixels.max(axis=0)
    half = 0.5 * float((high - low).max()) * (1.0 + 2.0 * KEY_FRAME_MARGIN)
    centre = 0.5 * (low + high)
    x0, y0 = np.clip(np.floor(centre - half), 0, [width - 1, height - 1]).astype(int)
    x1, y1 = np.clip(np.ceil(centre + half), [x0 + 1, y0 + 1], [width, height]).astype(int)
    return image[y0:y1, x0:x1].copy()


def _weights_name(weights: str | Path | torch.nn.Module | None) -> str:
    if isinstance(weights, torch.nn.Module):
        return f"<in-memory {type(weights).__name__}>"
    return str(DEFAULT_WEIGHTS if weights is None else weights)


def serve_recording(
    recording: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    wait_for_subscriber_s: float = 0.0,
    announce: Callable[[str], None] = print,
) -> int:
    """Stream a recording to gRPC subscribers at its real-time pace, then stop. Returns the
    number of frames sent."""
    token = token or secrets.token_urlsafe(16)
    info = recorded_session_info(recording, at_frame=0)  # the shape replay() starts with
    with PoseStreamServer(StreamConfig(host=host, port=port)) as server:
        hub = server.add_session(info, token=token)
        announce(f"serving session {info.session_id!r} on {server.address}")
        announce(f"token: {token}")
        sys.stdout.flush()
        deadline = time.monotonic() + wait_for_subscriber_s
        while time.monotonic() < deadline and not any(s.active for s in hub.stats().subscribers):
            time.sleep(0.05)
        result = replay(recording, hub, speed=1.0, stop=threading.Event())
        # Let subscribers drain their queues and receive StreamEnd before shutting down.
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(s.active for s in hub.stats().subscribers):
            time.sleep(0.05)
    return result.frames
