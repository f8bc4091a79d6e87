"""`SessionPipeline`: one coaching session from frames to the pose stream and the recording.

Source-agnostic on purpose: a file reader, the WebRTC ingest or a camera loop all feed it from
one thread, in capture order.

Two stages, so that a 2-core machine keeps both cores busy:
1. perception (`perceive`): MediaPipe, about 20 ms of one core per 640x480 frame;
2. the rest (`finish`): GC-SSN -> causal smoothing -> wire frame -> hub + recorder, ~8 ms.
`process` runs both in the caller's thread (simplest; tests). `submit` runs stage 1 in the
caller's thread and hands stage 2 to the pipeline's own thread through a bounded queue, so the
next frame's MediaPipe overlaps this frame's GC-SSN: throughput becomes that of the slower stage
instead of the sum. Both native libraries release the GIL while they compute, which is what lets
two Python threads use two cores here. A full queue blocks `submit` (back-pressure): a live
source then drops frames upstream instead of building a backlog.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

import numpy as np
import torch

from coach_backend.body import NUM_BETAS, BodyModel, load_body_model
from coach_backend.config import LIVE_WARM_UP_FRAME
from coach_backend.gcssn.api import DEFAULT_WEIGHTS, Reconstructor
from coach_backend.gcssn.network import GCSSN
from coach_backend.perception import Camera, PerceptionConfig, Representation, stack
from coach_backend.perception.detection import person_confidence
from coach_backend.perception.mediapipe_source import MediaPipeDetector
from coach_backend.pipeline.wire import WireEncoder
from coach_backend.recorder import SessionRecorder
from coach_backend.smoothing import CausalSmoother, SmoothingConfig, SmplFrame
from coach_backend.stream import SessionHub, pb

log = logging.getLogger(__name__)

STAGES = ("perception", "queued", "gcssn", "smoothing", "publish")
_LATENCY_WINDOW = 1800  # frames kept for stats percentiles (1 min at 30 fps)
# Frames perceived but not yet through stage 2. Two: one being reconstructed, one waiting; more
# would only add latency (live) without adding throughput.
_STAGE2_QUEUE = 2
# Body shape announcements (SessionInfo.betas): after this many valid frames (the robust running
# mean has settled), then when it moved by this much (L2 over the betas), at most this often.
_BETAS_SETTLE_FRAMES = 15
_BETAS_ANNOUNCE_DELTA = 0.1
_BETAS_MIN_INTERVAL_S = 2.0


@dataclass(frozen=True)
class PipelineConfig:
    """perception: MediaPipe settings (its crop `resolution` is overridden by the network's, and
        `segmentation` is turned off when the network reads no silhouette).
    smoothing: live smoother settings (`nominal_fps` is set from `fps`).
    weights: GC-SSN weights file, or a `GCSSN` module (tests, benchmarks).
    refine_steps: test-time fitting steps after the network (0 = network only, the live case).
    mirror_average: average the lifter's pose with its mirror image's (files; live cannot
        afford twice the network).
    fps: nominal frame rate of the source (used when two frames share a timestamp).
    torch_threads: sets torch's (process-wide) intra-op thread count when not None. Default 1:
        batch-1 inference of a small network gains nothing from more threads, and they would
        compete with MediaPipe's for the cores (on 2 loaded cores p95 went from ~75 to ~450 ms).
    """

    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    weights: str | Path | GCSSN = DEFAULT_WEIGHTS
    refine_steps: int = 0
    mirror_average: bool = False
    fps: float = 30.0
    torch_threads: int | None = 1

    def __post_init__(self) -> None:
        if not self.fps > 0:
            raise ValueError(f"fps must be > 0, got {self.fps}")
        if self.refine_steps < 0:
            raise ValueError(f"refine_steps must be >= 0, got {self.refine_steps}")


@dataclass(frozen=True)
class StageLatency:
    """Milliseconds spent in each stage for one frame. `queued`: waiting between perception and
    GC-SSN (0 with `process`; with `submit`, the time stage 2 was still busy with earlier
    frames)."""

    perception: float
    queued: float
    gcssn: float
    smoothing: float
    publish: float

    @property
    def compute(self) -> float:
        """Work done for this frame, without waiting."""
        return self.perception + self.gcssn + self.smoothing + self.publish

    @property
    def total(self) -> float:
        """Frame in -> pose out."""
        return self.compute + self.queued


@dataclass(frozen=True)
class Perceived:
    """Stage 1's output for one frame: what stage 2 (`SessionPipeline.finish`) needs."""

    representation: Representation
    capture_time_us: int
    perception_ms: float
    perceived_at: float  # time.perf_counter() when perception ended (queue wait starts here)


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
    latency: dict[str, StageSummary]  # keys: STAGES + "total"
    stage2_errors: int  # frames lost to an exception in the stage-2 thread (logged)

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

    def put(self, message: pb.PoseFrame | pb.StreamMessage) -> None:
        self._queue.put(message)

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._STOP:
            if self.error is not None:
                continue  # keep draining; the live session goes on without a recording
            try:
                self.recorder.append(item)  # type: ignore[arg-type]
                self.written += int(isinstance(item, pb.PoseFrame))
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


def perceive(detector: MediaPipeDetector, frame_bgr: np.ndarray, capture_time_us: int) -> Perceived:
    """Stage 1 for one frame with a given detector (the replay runs several, one per chunk)."""
    t0 = time.perf_counter()
    rep = detector.detect(frame_bgr)
    t1 = time.perf_counter()
    return Perceived(rep, int(capture_time_us), (t1 - t0) * 1e3, t1)


def _load_reconstructor(config: PipelineConfig, body: BodyModel) -> Reconstructor:
    try:
        return Reconstructor(
            config.weights,
            body=body,
            refine_steps=config.refine_steps,
            mirror_average=config.mirror_average,
        )
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{exc}. Train and export them (python -m coach_backend.gcssn.train_lifter --export "
            f"{DEFAULT_WEIGHTS}) or pass another weights file."
        ) from exc


ResultCallback = Callable[[PipelineResult], None]


class SessionPipeline:
    """Frames -> MediaPipe representation -> GC-SSN -> causal smoothing -> wire frame ->
    `hub.publish` + recorder.

    Feed it from one thread, in capture order, with `process` (both stages here) or `submit`
    (stage 2 on the pipeline's thread; results reach `on_result` there). A caller that runs
    stage 1 itself (the replay perceives file chunks in parallel) calls `finish_batch`.
    `close` from any thread: it finishes the frames already submitted first."""

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
        # The network dictates the crop resolution its representation must have, and whether
        # MediaPipe computes the person mask at all (a large share of its time, unused by the
        # keypoint lifter).
        needs_silhouette = self.reconstructor.needs_silhouette
        self.config = replace(
            config,
            perception=replace(
                config.perception,
                resolution=self.reconstructor.resolution,
                segmentation=config.perception.segmentation and needs_silhouette,
            ),
            smoothing=replace(config.smoothing, nominal_fps=config.fps),
        )
        self.hub = hub
        self._detector: MediaPipeDetector | None = None  # built on first use (replay never does)
        self._smoother = CausalSmoother(self.config.smoothing)
        self._encoder = WireEncoder(self.body)
        self._writer = None if recorder is None else _RecorderWriter(recorder, session_id)
        self._announce_body_model()
        self._lock = threading.Lock()  # feeding vs close; never held while waiting on stage 2
        self._finish_lock = threading.Lock()  # stage 2 runs for one frame at a time, in order
        self._closed = False
        self._sequence = 0
        self._valid = 0
        self._published = 0
        self._stage2_errors = 0
        self._announced_betas: np.ndarray | None = None
        self._announced_at = 0.0
        self._latencies: deque[StageLatency] = deque(maxlen=_LATENCY_WINDOW)
        self._stage2: queue.Queue[tuple[Perceived, ResultCallback | None] | None] | None = None
        self._stage2_thread: threading.Thread | None = None

    # ---- feeding -----------------------------------------------------------------------------
    def process(self, frame_bgr: np.ndarray, capture_time_us: int) -> PipelineResult:
        """One (H, W, 3) uint8 BGR frame captured at `capture_time_us` (microseconds, any epoch,
        increasing) -> the smoothed pose, already published and queued for recording. Both
        stages run in the caller's thread (after any frames `submit`ted earlier)."""
        with self._lock:
            self._check_open()
            perceived = self.perceive(frame_bgr, capture_time_us)
        self._flush()  # outside _lock: an on_result callback may call close() meanwhile
        with self._lock:
            self._check_open()  # closed while we waited
            return self.finish(perceived)

    def submit(
        self,
        frame_bgr: np.ndarray,
        capture_time_us: int,
        on_result: ResultCallback | None = None,
    ) -> None:
        """Like `process`, but only perception runs here; GC-SSN onwards runs on the pipeline's
        thread, which then calls `on_result(result)`. Blocks while stage 2 is two frames
        behind."""
        with self._lock:
            self._check_open()
            perceived = self.perceive(frame_bgr, capture_time_us)
            if self._stage2 is None:
                self._start_stage2()
        # The put may block until stage 2 takes a frame, so it runs outside _lock: an on_result
        # callback (on the stage-2 thread) that calls close() must never wait for this thread.
        self._enqueue(perceived, on_result)

    def flush(self) -> None:
        """Wait until every submitted frame has been through stage 2 (closed: nothing to wait
        for, close() finished them)."""
        if not self._closed:
            self._flush()

    def warm_up(self) -> None:
        """Build the MediaPipe graph now and run it once on a blank frame, so that the first
        real frame does not pay for either (a new graph's first inference is several times
        slower than its next ones). The live server calls this when it builds a session, before
        it answers the athlete's offer; a replay, which perceives with its own detectors, does
        not. A blank frame finds no person, so the graph is left searching, as a new one is
        (after a frame with a person it would look for the next one where that person was)."""
        with self._lock:
            self._check_open()
            camera = self.config.perception.camera
            width, height = LIVE_WARM_UP_FRAME if camera is None else (camera.width, camera.height)
            self.perceive(np.zeros((height, width, 3), np.uint8), 0)

    # ---- the two stages ----------------------------------------------------------------------
    def perceive(self, frame_bgr: np.ndarray, capture_time_us: int) -> Perceived:
        """Stage 1 (MediaPipe). Not thread-safe: one feeding thread."""
        if self._detector is None:
            self._detector = MediaPipeDetector(self.config.perception)
        return perceive(self._detector, frame_bgr, capture_time_us)

    def finish(self, perceived: Perceived) -> PipelineResult:
        """Stage 2: GC-SSN -> smoothing -> wire frame -> hub + recorder. Call in capture
        order."""
        return self.finish_batch([perceived])[0]

    def finish_batch(self, batch: list[Perceived]) -> list[PipelineResult]:
        """`finish` for consecutive frames with one GC-SSN call (offline: a batch costs much
        less than its frames one by one). Each frame is charged an equal share of that call."""
        with self._finish_lock:
            t1 = time.perf_counter()
            raws = self._reconstruct(
                [p.representation for p in batch], [p.capture_time_us for p in batch]
            )
            gcssn_ms = (time.perf_counter() - t1) * 1e3 / max(1, len(batch))
            return [self._publish(p, raw, t1, gcssn_ms) for p, raw in zip(batch, raws, strict=True)]

    def _publish(
        self, perceived: Perceived, raw: SmplFrame, t1: float, gcssn_ms: float
    ) -> PipelineResult:
        rep, capture_time_us = perceived.representation, perceived.capture_time_us
        t2 = time.perf_counter()
        smoothed = self._smoother.update(raw)
        t3 = time.perf_counter()
        confidence = person_confidence(rep)
        message = self._encoder.pose_frame(smoothed, self._sequence, capture_time_us, confidence)
        if self.hub is not None and self.hub.publish(message):  # never blocks
            self._published += 1
        if smoothed.valid:
            self._announce_betas(smoothed.betas)
        if self._writer is not None:
            self._writer.put(message)
        t4 = time.perf_counter()

        latency = StageLatency(
            perception=perceived.perception_ms,
            queued=max(0.0, (t1 - perceived.perceived_at) * 1e3),
            gcssn=gcssn_ms,
            smoothing=(t3 - t2) * 1e3,
            publish=(t4 - t3) * 1e3,
        )
        self._latencies.append(latency)
        result = PipelineResult(
            sequence=self._sequence,
            capture_time_us=capture_time_us,
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

    def _announce_body_model(self) -> None:
        """Whoever made the session info may not have known which body this pipeline runs:
        correct it at once, so that no client applies our betas to another body's mesh."""
        if self.hub is None or self.hub.info.body_model == self.body.name:
            return
        betas = np.asarray(self.hub.info.betas, dtype=np.float64)
        if betas.shape != (NUM_BETAS,):  # a hand-made SessionInfo without a shape
            betas = np.zeros(NUM_BETAS)
        if self.hub.update_betas(betas, body_model=self.body.name) and self._writer is not None:
            self._writer.put(pb.StreamMessage(info=self.hub.info))

    def _announce_betas(self, betas: np.ndarray) -> None:
        """The wire pose carries no shape: tell subscribers the body shape in SessionInfo once
        the smoother's running mean has settled, and again only when it moves noticeably."""
        if self.hub is None or self._valid + 1 < _BETAS_SETTLE_FRAMES:  # (+1: this frame)
            return
        last = self._announced_betas
        now = time.monotonic()
        if last is not None and (
            now - self._announced_at < _BETAS_MIN_INTERVAL_S
            or np.linalg.norm(betas - last) < _BETAS_ANNOUNCE_DELTA
        ):
            return
        if self.hub.update_betas(betas, body_model=self.body.name):
            self._announced_betas = np.array(betas, dtype=np.float64)
            self._announced_at = now
            if self._writer is not None:  # the recording keeps the shape too, in order
                self._writer.put(pb.StreamMessage(info=self.hub.info))

    # ---- stage-2 thread ----------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"pipeline {self.session_id!r} is closed")

    def _start_stage2(self) -> None:
        self._stage2 = queue.Queue(maxsize=_STAGE2_QUEUE)
        self._stage2_thread = threading.Thread(
            target=self._run_stage2, name=f"pipeline-stage2-{self.session_id}", daemon=True
        )
        self._stage2_thread.start()

    def _enqueue(self, perceived: Perceived, on_result: ResultCallback | None) -> None:
        assert self._stage2 is not None
        self._stage2.put((perceived, on_result))

    def _run_stage2(self) -> None:
        assert self._stage2 is not None
        while True:
            try:
                # close() from an on_result callback queues no stop marker (the queue may be
                # full and nobody else drains it): once closed, finish what is queued and stop.
                item = self._stage2.get_nowait() if self._closed else self._stage2.get()
            except queue.Empty:
                return
            try:
                if item is None:
                    return
                perceived, on_result = item
                try:
                    result = self.finish(perceived)
                except Exception:  # one bad frame must not end the session
                    self._stage2_errors += 1
                    log.exception("stage 2 failed for a frame of %s", self.session_id)
                    continue
                if on_result is not None:
                    try:
                        on_result(result)
                    except Exception:
                        log.exception("on_result callback failed")
            finally:
                self._stage2.task_done()

    def _flush(self) -> None:
        if self._stage2 is not None:
            self._stage2.join()

    def _reconstruct(self, reps: list[Representation], times_us: list[int]) -> list[SmplFrame]:
        frames = [SmplFrame.invalid(t / 1e6) for t in times_us]
        people = [i for i, rep in enumerate(reps) if rep.has_person]
        if not people:  # why: skip the network; the timeline gets invalid frames
            return frames
        rec = self.reconstructor.predict(stack([reps[i] for i in people]))
        for row, i in enumerate(people):
            frames[i] = SmplFrame(
                global_orient=rec.global_orient[row],
                body_pose=rec.body_pose[row],
                betas=rec.betas[row],
                transl=rec.transl[row],
                valid=bool(rec.valid[row]),
                timestamp_s=times_us[i] / 1e6,
            )
        return frames

    # ---- lifecycle ---------------------------------------------------------------------------
    def close(self, reason: str = "ended") -> None:
        """Finish the frames already submitted, finish and close the recording, then end the
        hub's session (subscribers get StreamEnd), free MediaPipe. Idempotent."""
        with self._lock:  # held briefly: a feeder never holds it while waiting on stage 2
            if self._closed:
                return
            self._closed = True
            stage2, stage2_thread = self._stage2, self._stage2_thread
        # From an on_result callback (the stage-2 thread) it must not wait for itself: that
        # thread finishes the queued frames and stops once the callback returns.
        if stage2_thread is not None and stage2_thread is not threading.current_thread():
            assert stage2 is not None
            stage2.put(None)  # after every submitted frame: they are finished first
            stage2_thread.join()
        # The recording is finished and closed before subscribers hear the end: a client that
        # reads the file once told the session ended finds it complete.
        if self._writer is not None:
            self._writer.close(reason)
        if self.hub is not None:
            self.hub.end(reason)
        if self._detector is not None:
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
            stage2_errors=self._stage2_errors,
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
