"""One worker thread per session that always processes the NEWEST frame.

The pipeline costs 15-30 ms of CPU per frame. Running it on the asyncio loop would stall every
peer connection, so frames are handed to a thread through a one-slot mailbox: a frame arriving
while the previous one is still being processed replaces the waiting one (counted as dropped).
Live coaching wants the freshest pose, not a growing backlog.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# process(frame, capture_time_us) -> anything; runs in the worker thread.
ProcessFn = Callable[[Any, int], Any]


@dataclass(frozen=True)
class WorkerStats:
    submitted: int
    processed: int
    dropped: int  # replaced in the mailbox before the worker got to them
    errors: int
    fps: float  # processed frames per second (exponential average)
    process_ms: float  # mean wall time of process() (exponential average)


class LatestFrameWorker:
    """``submit()`` from any thread (never blocks); ``process`` runs in this worker's thread."""

    def __init__(
        self,
        process: ProcessFn,
        *,
        name: str = "frame-worker",
        on_result: Callable[[Any, float], None] | None = None,
    ) -> None:
        self._process = process
        self._on_result = on_result  # (result, process_ms), called in the worker thread
        self._cond = threading.Condition()
        self._pending: tuple[Any, int] | None = None
        self._stopped = False
        self._submitted = self._processed = self._dropped = self._errors = 0
        self._fps = 0.0
        self._process_ms = 0.0
        self._last_done: float | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, frame: Any, capture_time_us: int) -> None:
        with self._cond:
            if self._stopped:
                return
            self._submitted += 1
            if self._pending is not None:
                self._dropped += 1
            self._pending = (frame, capture_time_us)
            self._cond.notify()

    def stats(self) -> WorkerStats:
        with self._cond:
            return WorkerStats(
                self._submitted, self._processed, self._dropped, self._errors, self._fps,
                self._process_ms,
            )  # fmt: skip

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Finish the frame in progress, discard the waiting one, join. Idempotent."""
        with self._cond:
            self._stopped = True
            self._pending = None
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._stopped)
                if self._stopped:
                    return
                assert self._pending is not None
                frame, capture_time_us = self._pending
                self._pending = None
            t0 = time.perf_counter()
            try:
                result = self._process(frame, capture_time_us)
            except Exception:  # one bad frame must not kill the session
                log.exception("frame processing failed")
                with self._cond:
                    self._errors += 1
                continue
            t1 = time.perf_counter()
            ms = (t1 - t0) * 1e3
            with self._cond:
                self._processed += 1
                a = 0.1  # ~10-frame average: steady enough to display, quick to follow changes
                self._process_ms = (
                    ms if self._processed == 1 else (1 - a) * self._process_ms + a * ms
                )
                if self._last_done is not None and t1 > self._last_done:
                    inst = 1.0 / (t1 - self._last_done)
                    self._fps = inst if self._fps == 0 else (1 - a) * self._fps + a * inst
                self._last_done = t1
            if self._on_result is not None:
                try:
                    self._on_result(result, ms)
                except Exception:
                    log.exception("on_result callback failed")
