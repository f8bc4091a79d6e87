"""Re-publish a recorded session into a hub at its original pace, for review in AR."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..stream.hub import SessionHub
from ..stream.proto_gen import coach_pb2 as pb
from .log import read_recording
from .player import PacedPlayer, ReplayTimeline, as_recorded, has_shape, shape_key


def recorded_session_info(
    path: str | os.PathLike[str], session_id: str | None = None, *, at_frame: int | None = None
) -> pb.SessionInfo:
    """The recording's SessionInfo marked RECORDED (optionally under a new id), ready for
    ``PoseStreamServer.add_session`` / ``SessionHub``: by default the latest (its settled body
    shape included); with ``at_frame``, the one that frame is drawn with (``at_frame=0``: what
    :func:`replay` starts from, so the hub needs no shape update at the start)."""
    recording = read_recording(path)
    info = recording.info if at_frame is None else ReplayTimeline(recording).info_at(at_frame)
    return as_recorded(info, session_id)


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
    """Publish the recording's frames into ``hub`` (blocking), paced by :class:`PacedPlayer`
    (capture timestamps divided by ``speed``; a late frame is sent at once, so a slow machine
    stretches the replay instead of dropping poses). Frames keep their original sequence and
    timestamps. The hub's body shape follows :meth:`ReplayTimeline.info_at`, as the dashboard's
    replay does: announced before the first frame if the hub started with another one, and
    again where the recording's shape changed."""
    timeline = ReplayTimeline.read(path)  # RecordingError before anything is published
    player = PacedPlayer(timeline.times, speed=speed, clock=clock)
    stop = stop or threading.Event()
    stopped = False
    followed: pb.SessionInfo | None = None
    while not player.at_end:
        delay = player.due_in()
        if (delay > 0 and stop.wait(delay)) or stop.is_set():
            stopped = True
            break
        if (info := timeline.info_at(player.index)) is not followed:
            _follow_shape(hub, info)
            followed = info
        hub.publish(timeline.frames[player.index])
        player.advance()
    if end_hub:
        hub.end("replay stopped" if stopped else "replay finished")
    return ReplayResult(player.index, stopped, timeline.recording.torn_tail_bytes)


def _follow_shape(hub: SessionHub, info: pb.SessionInfo) -> None:
    if has_shape(info) and shape_key(info) != shape_key(hub.info):
        hub.update_betas(np.asarray(info.betas), info.body_model or None)


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
