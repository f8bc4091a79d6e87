"""Re-publish a recorded session into a hub at its original pace, for review in AR."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..body.skeleton import NUM_BETAS
from ..stream.hub import SessionHub
from ..stream.proto_gen import coach_pb2 as pb
from .log import RecordingReader


def recorded_session_info(
    path: str | os.PathLike[str], session_id: str | None = None
) -> pb.SessionInfo:
    """The recording's latest SessionInfo (its settled body shape included) marked RECORDED
    (optionally under a new id), ready for ``PoseStreamServer.add_session`` / ``SessionHub``."""
    reader = RecordingReader(path)
    for _ in reader:  # later info records update reader.info
        pass
    info = pb.SessionInfo()
    info.CopyFrom(reader.info)
    info.state = pb.SESSION_STATE_RECORDED
    if session_id is not None:
        info.session_id = session_id
    return info


@dataclass(frozen=True)
class ReplayResult:
    frames: int
    stopped: bool  # True if ``stop`` was set before the end
    torn_tail_bytes: int


def replay(
    path: str | os.PathLike[str],
    hub: SessionHub,
    *,
    speed: float = 1.0,
    stop: threading.Event | None = None,
    end_hub: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> ReplayResult:
    """Publish the recording's frames into ``hub`` (blocking), spaced by their capture timestamps
    divided by ``speed``. Frames keep their original sequence and timestamps. A late frame is sent
    at once (no skipping), so a slow machine stretches the replay instead of dropping poses."""
    if speed <= 0:
        raise ValueError("speed must be > 0")
    stop = stop or threading.Event()
    reader = RecordingReader(path)  # raises RecordingError before anything is published
    frames, stopped = 0, False
    seen_info = reader.info  # the hub was set up from the recording's info already
    t0: float | None = None
    ts0 = 0
    for frame in reader:
        if t0 is None:
            t0, ts0 = clock(), frame.capture_time_us
        delay = t0 + (frame.capture_time_us - ts0) / 1e6 / speed - clock()
        if (delay > 0 and stop.wait(delay)) or stop.is_set():
            stopped = True
            break
        if reader.info is not seen_info:  # a SessionInfo record (shape update) came before it
            seen_info = reader.info
            changed = (list(seen_info.betas), seen_info.body_model) != (
                list(hub.info.betas),
                hub.info.body_model,
            )
            if changed and len(seen_info.betas) == NUM_BETAS:
                hub.update_betas(np.asarray(seen_info.betas), seen_info.body_model or None)
        hub.publish(frame)
        frames += 1
    if end_hub:
        hub.end("replay stopped" if stopped else "replay finished")
    return ReplayResult(frames, stopped, reader.torn_tail_bytes)


class ReplayThread:
    """``replay`` in a daemon thread: ``ReplayThread(path, hub).start()``, then stop()/join()."""

    def __init__(
        self, path: str | os.PathLike[str], hub: SessionHub, *, speed: float = 1.0
    ) -> None:
        self._stop = threading.Event()
        self.result: ReplayResult | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(path, hub, speed), name=f"replay-{hub.session_id}", daemon=True
        )

    def _run(self, path: str | os.PathLike[str], hub: SessionHub, speed: float) -> None:
        try:
            self.result = replay(path, hub, speed=speed, stop=self._stop)
        except BaseException as exc:
            self.error = exc
            hub.end(f"replay failed: {exc}")

    def start(self) -> ReplayThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.join()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()
