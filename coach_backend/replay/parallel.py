"""Perception of a video file on several cores: the file is cut into time chunks, each chunk is
decoded and run through its own MediaPipe graph on a worker thread, and the frames come back in
capture order.

Why: MediaPipe is ~20 ms of one core per 640x480 frame, two thirds of the whole pipeline, and a
live session can only pipeline it against GC-SSN (`SessionPipeline.submit`). A file has no such
limit: its chunks are independent. Each chunk starts a fresh graph, so BlazePose detects the
person again at a chunk's first frame and its landmark filter restarts there, exactly as at the
start of the file. Chunks are at most `CHUNK_MAX_S` long and a worker may run at most
`workers` chunks ahead of the consumer, which bounds the memory held in waiting frames.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from coach_backend.perception import PerceptionConfig
from coach_backend.perception.mediapipe_source import MediaPipeDetector
from coach_backend.pipeline import Perceived, perceive
from coach_backend.replay.preflight import available_cores
from coach_backend.replay.video import VideoReader

CHUNK_MAX_S = 30.0
_DONE = object()


def default_workers() -> int:
    """One perception worker per core, at most two: the consumer (GC-SSN, smoothing) needs a
    share of a core too, and a third MediaPipe graph on two cores only adds switching."""
    return max(1, min(2, available_cores()))


@dataclass(frozen=True)
class Chunk:
    index: int
    start_us: int
    end_us: int | None  # None: to the end of the file


def plan_chunks(
    duration_us: int | None, workers: int, max_duration_us: int | None = None
) -> list[Chunk]:
    """Equal time chunks, at least one per worker and none longer than CHUNK_MAX_S. One chunk
    (the whole file) when the duration is unknown or there is a single worker. `max_duration_us`
    limits the span that is split (the caller will stop reading there)."""
    span = duration_us
    if span is not None and max_duration_us is not None:
        span = min(span, max_duration_us)
    if workers <= 1 or span is None or span <= 0:
        return [Chunk(0, 0, None)]
    count = max(workers, math.ceil(span / (CHUNK_MAX_S * 1e6)))
    bounds = [round(k * span / count) for k in range(count)]
    return [
        Chunk(k, start, bounds[k + 1] if k + 1 < count else None) for k, start in enumerate(bounds)
    ]


def perceive_file(
    path: str | Path,
    config: PerceptionConfig,
    workers: int | None = None,
    max_frames: int | None = None,
    fps: float = 30.0,
) -> Iterator[Perceived]:
    """Every frame of the file (or its first `max_frames`) as a `Perceived`, in capture order.
    Raises what a worker raised (e.g. `VideoError` for a corrupt middle) at the frame where it
    happened. Closing the iterator early stops the workers."""
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    with VideoReader(path) as probe:
        splittable = probe.seekable
        duration = probe.duration_us
    limit_us = None if max_frames is None else round((max_frames + 0.5) * 1e6 / fps)
    chunks = plan_chunks(duration if splittable else None, workers, limit_us)
    if len(chunks) == 1:
        yield from _perceive_sequentially(path, config, max_frames)
        return

    outputs: list[queue.SimpleQueue[object]] = [queue.SimpleQueue() for _ in chunks]
    stop = threading.Event()
    progress = threading.Condition()
    state = {"next": 0, "consuming": 0}

    def claim() -> Chunk | None:
        with progress:
            # Stay within `workers` chunks of the consumer: waiting frames hold memory.
            progress.wait_for(
                lambda: stop.is_set() or state["next"] < state["consuming"] + workers + 1
            )
            if stop.is_set() or state["next"] >= len(chunks):
                return None
            chunk = chunks[state["next"]]
            state["next"] += 1
            return chunk

    def work() -> None:
        while (chunk := claim()) is not None:
            out = outputs[chunk.index]
            try:
                with VideoReader(path) as video, MediaPipeDetector(config) as detector:
                    for frame, t_us in video.read_range(chunk.start_us, chunk.end_us):
                        if stop.is_set():
                            break
                        out.put(perceive(detector, frame, t_us))
            except BaseException as exc:  # handed to the consumer, in order
                out.put(exc)
            out.put(_DONE)

    threads = [
        threading.Thread(target=work, name=f"replay-perception-{i}", daemon=True)
        for i in range(min(workers, len(chunks)))
    ]
    for thread in threads:
        thread.start()
    emitted = 0
    last_us = -1
    try:
        for k, out in enumerate(outputs):
            with progress:
                state["consuming"] = k
                progress.notify_all()
            while (item := out.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, Perceived)
                if max_frames is not None and emitted >= max_frames:
                    return
                if item.capture_time_us <= last_us:  # strictly increasing, as VideoReader's
                    item = replace(item, capture_time_us=last_us + 1)
                last_us = item.capture_time_us
                emitted += 1
                yield item
    finally:
        stop.set()
        with progress:
            progress.notify_all()
        for thread in threads:
            thread.join()


def _perceive_sequentially(
    path: str | Path, config: PerceptionConfig, max_frames: int | None
) -> Iterator[Perceived]:
    with VideoReader(path) as video, MediaPipeDetector(config) as detector:
        for index, (frame, t_us) in enumerate(video):
            if max_frames is not None and index >= max_frames:
                return
            yield perceive(detector, frame, t_us)
