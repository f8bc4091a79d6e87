"""`SessionPipeline`: one coaching session from frames to the pose stream and the recording.

Source-agnostic on purpose: a file reader, the WebRTC ingest or a camera loop all call
`process(frame_bgr, capture_time_us)` from one thread, in capture order.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

import numpy as np
import torch

from coach_backend.body import BodyModel, load_body_model
from coach_backend.gcssn.api import DEFAULT_WEIGHTS, Reconstructor
from coach_backend.gcssn.network import GCSSN
from coach_backend.perception import Camera, PerceptionConfig, Representation, stack
from coach_backend.perception.mediapipe_source import MEDIAPIPE_TO_SURFACE, MediaPipeDetector
from coach_backend.pipeline.wire import WireEncoder
from coach_backend.recorder import SessionRecorder
from coach_backend.smoothing import CausalSmoother, SmoothingConfig, SmplFrame
from coach_backend.stream import SessionHub, pb

log = logging.getLogger(__name__)

STAGES = ("perception", "gcssn", "smoothing", "publish")
_LATENCY_WINDOW = 1800  # frames kept for stats percentiles (1 min at 30 fps)
# Keypoints MediaPipe can report; the others (small toes) are always 0 and would bias the mean.
_REPORTABLE = np.array([src is not None for src in MEDIAPIPE_TO_SURFACE])


@dataclass(frozen=True)
class PipelineConfig:
    """perception: MediaPipe settings (its crop `resolution` is overridden by the network's).
    smoothing: live smoother settings (`nominal_fps` is set from `fps`).
    weights: GC-SSN weights file, or a `GCSSN` module (tests, benchmarks).
    refine_steps: test-time fitting steps after the network (0 = network only, the live case).
    fps: nominal frame rate of the source (used when two frames share a timestamp).
    torch_threads: sets torch's (process-wide) intra-op thread count when not None. Default 1:
        batch-1 inference of a small network gains nothing from more threads, and they would
        compete with MediaPipe's for the cores (on 2 loaded cores p95 went from ~75 to ~450 ms).
    """

    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    weights: str | Path | GCSSN = DEFAULT_WEIGHTS
    refine_steps: int = 0
    fps: float = 30.0
    torch_threads: int | None = 1

    def __post_init__(self) -> None:
        if not self.fps > 0:
            raise ValueError(f"fps must be > 0, got {self.fps}")
        if self.refine_steps < 0:
            raise ValueError(f"refine_steps must be >= 0, got {self.refine_steps}")


@dataclass(frozen=True)
class StageLatency:
    """Milliseconds spent in each stage for one frame."""

    perception: float
    gcssn: float
    smoothing: float
    publish: float

    @property
    def total(self) -> float:
        """Frame in -> pose out."""
        return self.perception + self.gcssn + self.smoothing + self.publish


@dataclass(frozen=True)
class PipelineResult:
    """One processed frame. `frame` is the smoothed SMPL frame in the camera frame (OpenCV
    axes); `raw` the unsmoothed network output (offline zero-phase smoothing starts from it).
    valid=False: no person (pose fields are zeros); the frame is still published/recorded."""

    sequence: int
    capture_time_us: int
    frame: SmplFrame
    raw: SmplFrame
    valid: bool
    confidence: float  # mean MediaPipe visibility of the reportable keypoints, 0 if no person
    pose: bytes  # the encoded 104-byte wire pose
    camera: Camera  # full-frame intrinsics used for this frame
    latency_ms: StageLatency


@dataclass(frozen=True)
class StageSummary:
    p50_ms: float
    p95_ms: float
    mean_ms: float


@dataclass(frozen=True)
class PipelineStats:
    """Counters since start; latency summaries over the last frames (`_LATENCY_WINDOW`)."""

    session_id: str
    frames: int
    valid_frames: int
    published: int  # frames the hub accepted (0 without a hub)
    recorded: int  # frames written to the recorder (0 without one)
    record_error: str | None  # first recorder failure; recording stops, the session does not
    closed: bool
    latency: dict[str, StageSummary]  # keys: perception, gcssn, smoothing, publish, total

    @property
    def detected_fraction(self) -> float:
        return self.valid_frames / self.frames if self.frames else 0.0


class _RecorderWriter:
    """Feeds a SessionRecorder from its own thread (why: the recorder fsyncs about once a
    second, and a disk stall must never delay the live pose). Unbounded queue: a recording must
    be complete, and at ~130 B/frame memory is not the limit."""

    _STOP = object()

    def __init__(self, recorder: SessionRecorder, session_id: str) -> None:
        self.recorder = recorder
        self.written = 0
        self.error: str | None = None
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name=f"pipeline-recorder-{session_id}", daemon=True
        )
        self._thread.start()

    def put(self, frame: pb.PoseFrame) -> None:
        self._queue.put(frame)

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._STOP:
            if self.error is not None:
                continue  # keep draining; the live session goes on without a recording
            try:
                self.recorder.append(item)  # type: ignore[arg-type]
                self.written += 1
            except Exception as exc:  # surfaced through stats, never into the live path
                self.error = f"{type(exc).__name__}: {exc}"
                log.error("recording %s failed: %s", self.recorder.path, self.error)

    def close(self, reason: str) -> None:
        self._queue.put(self._STOP)
        self._thread.join()
        try:
            self.recorder.close(pb.StreamEnd(reason=reason, frames_sent=self.written))
        except Exception as exc:
            self.error = self.error or f"{type(exc).__name__}: {exc}"
            log.error("closing recording %s failed: %s", self.recorder.path, exc)


def _load_reconstructor(config: PipelineConfig, body: BodyModel) -> Reconstructor:
    try:
        return Reconstructor(config.weights, body=body, refine_steps=config.refine_steps)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{exc}. Train and export them (python -m coach_backend.gcssn.train --export "
            f"{DEFAULT_WEIGHTS.relative_to(DEFAULT_WEIGHTS.parents[1])}) or pass another "
            "weights file."
        ) from exc


class SessionPipeline:
    """Frames -> MediaPipe representation -> GC-SSN -> causal smoothing -> wire frame ->
    `hub.publish` + recorder. Call `process` from one thread; `close` from any thread."""

    def __init__(
        self,
        session_id: str,
        config: PipelineConfig,
        hub: SessionHub | None = None,
        recorder: SessionRecorder | None = None,
        body: BodyModel | None = None,
    ) -> None:
        if not session_id:
            raise ValueError("session_id must be set")
        self.session_id = session_id
        if config.torch_threads is not None:
            torch.set_num_threads(config.torch_threads)
        self.body = body or load_body_model()
        self.reconstructor = _load_reconstructor(config, self.body)
        self.reconstructor.net.eval()  # a GCSSN passed in may still be in training mode
        # The network dictates the crop resolution its representation must have.
        self.config = replace(
            config,
            perception=replace(config.perception, resolution=self.reconstructor.resolution),
            smoothing=replace(config.smoothing, nominal_fps=config.fps),
        )
        self.hub = hub
        self._detector = MediaPipeDetector(self.config.perception)
        self._smoother = CausalSmoother(self.config.smoothing)
        self._encoder = WireEncoder(self.body)
        self._writer = None if recorder is None else _RecorderWriter(recorder, session_id)
        self._lock = threading.Lock()  # process vs close
        self._closed = False
        self._sequence = 0
        self._valid = 0
        self._published = 0
        self._latencies: deque[StageLatency] = deque(maxlen=_LATENCY_WINDOW)

    # ---- live path -------------------------------------------------------------------------
    def process(self, frame_bgr: np.ndarray, capture_time_us: int) -> PipelineResult:
        """One (H, W, 3) uint8 BGR frame captured at `capture_time_us` (microseconds, any epoch,
        increasing) -> the smoothed pose, already published and queued for recording."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"pipeline {self.session_id!r} is closed")
            t0 = time.perf_counter()
            rep = self._detector.detect(frame_bgr)
            t1 = time.perf_counter()
            raw = self._reconstruct(rep, capture_time_us / 1e6)
            t2 = time.perf_counter()
            smoothed = self._smoother.update(raw)
            t3 = time.perf_counter()
            confidence = float(rep.confidences[_REPORTABLE].mean()) if rep.has_person else 0.0
            message = self._encoder.pose_frame(
                smoothed, self._sequence, int(capture_time_us), confidence
            )
            if self.hub is not None and self.hub.publish(message):  # never blocks
                self._published += 1
            if self._writer is not None:
                self._writer.put(message)
            t4 = time.perf_counter()

            latency = StageLatency(
                perception=(t1 - t0) * 1e3,
                gcssn=(t2 - t1) * 1e3,
                smoothing=(t3 - t2) * 1e3,
                publish=(t4 - t3) * 1e3,
            )
            self._latencies.append(latency)
            result = PipelineResult(
                sequence=self._sequence,
                capture_time_us=int(capture_time_us),
                frame=smoothed,
                raw=raw,
                valid=smoothed.valid,
                confidence=confidence,
                pose=message.pose,
                camera=rep.camera,
                latency_ms=latency,
            )
            self._sequence += 1
            self._valid += int(smoothed.valid)
            return result

    def _reconstruct(self, rep: Representation, timestamp_s: float) -> SmplFrame:
        if not rep.has_person:  # why: skip the network; the timeline gets an invalid frame
            return SmplFrame.invalid(timestamp_s)
        rec = self.reconstructor.predict(stack([rep]))
        return SmplFrame(
            global_orient=rec.global_orient[0],
            body_pose=rec.body_pose[0],
            betas=rec.betas[0],
            transl=rec.transl[0],
            valid=bool(rec.valid[0]),
            timestamp_s=timestamp_s,
        )

    # ---- lifecycle ---------------------------------------------------------------------------
    def close(self, reason: str = "ended") -> None:
        """End the hub's session (subscribers get StreamEnd), finish and close the recording,
        free MediaPipe. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.hub is not None:
            self.hub.end(reason)
        if self._writer is not None:
            self._writer.close(reason)
        self._detector.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def stats(self) -> PipelineStats:
        lat = list(self._latencies)
        table = {name: [getattr(x, name) for x in lat] for name in STAGES}
        table["total"] = [x.total for x in lat]
        summary = {
            name: StageSummary(
                float(np.percentile(v, 50)), float(np.percentile(v, 95)), float(np.mean(v))
            )
            if v
            else StageSummary(0.0, 0.0, 0.0)
            for name, v in table.items()
        }
        writer = self._writer
        return PipelineStats(
            session_id=self.session_id,
            frames=self._sequence,
            valid_frames=self._valid,
            published=self._published,
            recorded=0 if writer is None else writer.written,
            record_error=None if writer is None else writer.error,
            closed=self._closed,
            latency=summary,
        )

    def __enter__(self) -> SessionPipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close("ended" if exc is None else f"error: {exc_type.__name__ if exc_type else ''}")
