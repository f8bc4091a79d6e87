"""Paced playback of a recording, shared by every replay path.

Two players use it: :func:`coach_backend.recorder.replay` (into a hub, for gRPC viewers) and the
dashboard's WebSocket replay (seek, pause, play, speed). Both ask the same two questions here,
so they send the same frames at the same pace with the same body shape:

- :class:`PacedPlayer`: which frame is next, and how long until it is due. The frames' own
  capture times set the pace, divided by the speed; a pause, a seek or a new speed re-anchors
  the pace at the current frame. A late frame is due at once (nothing is skipped).
- :meth:`ReplayTimeline.info_at`: which SessionInfo (body shape) a frame is drawn with: the one
  recorded last before it, as the live viewers had it when that frame was sent. Records
  without a full shape (``NUM_BETAS`` finite betas) change nothing.
"""

from __future__ import annotations

import bisect
import math
import os
import time
from collections.abc import Callable, Sequence

from ..body.skeleton import NUM_BETAS
from ..stream.proto_gen import coach_pb2 as pb
from .log import Recording, read_recording

ShapeKey = tuple[tuple[float, ...], str]


def shape_key(info: pb.SessionInfo) -> ShapeKey:
    """What a viewer draws the body with: equal keys need no new announcement."""
    return tuple(info.betas), info.body_model


def has_shape(info: pb.SessionInfo) -> bool:
    """A full set of finite betas, which a hub can announce (``SessionHub.update_betas``) and
    JSON can carry."""
    return len(info.betas) == NUM_BETAS and all(math.isfinite(b) for b in info.betas)


def as_recorded(info: pb.SessionInfo, session_id: str | None = None) -> pb.SessionInfo:
    """A copy of ``info`` marked RECORDED (a replay is never live), optionally under a new id."""
    out = pb.SessionInfo()
    out.CopyFrom(info)
    out.state = pb.SESSION_STATE_RECORDED
    if session_id is not None:
        out.session_id = session_id
    return out


class ReplayTimeline:
    """A read recording laid out for playback: its frames, their capture times, and the
    SessionInfo each frame is drawn with."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.frames = recording.frames
        self.times = [f.capture_time_us for f in self.frames]
        # Per SessionInfo record: the first frame it applies to, and the info in effect from
        # there (the record itself, or the one before it if it carries no full shape).
        self._starts: list[int] = []
        self._effective: list[pb.SessionInfo] = []
        for start, info in recording.infos:
            if self._effective and not has_shape(info):
                info = self._effective[-1]
            self._starts.append(start)
            self._effective.append(info)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ReplayTimeline:
        """Raises RecordingError (not a recording, or corrupt mid-file) and OSError."""
        return cls(read_recording(path))

    def info_at(self, index: int) -> pb.SessionInfo:
        """The SessionInfo frame ``index`` is drawn with (both players ask this, nothing else)."""
        return self._effective[max(bisect.bisect_right(self._starts, index) - 1, 0)]


class PacedPlayer:
    """Where a replay is and when its next frame is due. Not thread-safe: one owner drives it
    (the replay thread, or the socket's event loop). ``clock`` is injectable for tests."""

    def __init__(
        self,
        times: Sequence[int],
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_speed(speed)
        self.times = times
        self.index = 0
        self.playing = True
        self.speed = speed
        self._clock = clock
        self._anchor_wall = clock()
        self._anchor_us = times[0] if times else 0

    @property
    def at_end(self) -> bool:
        return self.index >= len(self.times)

    def position_us(self) -> int:
        """Microseconds from the first frame to the current one (the last one at the end)."""
        if not self.times:
            return 0
        return self.times[min(self.index, len(self.times) - 1)] - self.times[0]

    def due_in(self) -> float:
        """Seconds until the current frame is due (<= 0: send it now). Not at the end."""
        elapsed_media_s = (self.times[self.index] - self._anchor_us) / 1e6
        return self._anchor_wall + elapsed_media_s / self.speed - self._clock()

    def advance(self) -> None:
        """The current frame was sent."""
        self.index += 1

    def reanchor(self) -> None:
        """Pace from now on as if the current frame were due now."""
        self._anchor_wall = self._clock()
        if not self.at_end:
            self._anchor_us = self.times[self.index]

    def seek(self, t_s: float) -> None:
        """Go to the first frame at ``t_s`` seconds from the start or later. ``t_s``: finite,
        >= 0; past the end means the last frame (so a seek always has a frame to show)."""
        if self.times:
            t_s = min(t_s, (self.times[-1] - self.times[0]) / 1e6)
            target = self.times[0] + int(t_s * 1e6)
            self.index = min(bisect.bisect_left(self.times, target), len(self.times) - 1)
        self.reanchor()

    def pause(self) -> None:
        self.playing = False

    def play(self) -> None:
        """Resume from the current frame; at the end, start over."""
        if self.at_end:
            self.seek(0.0)
        self.playing = True
        self.reanchor()

    def set_speed(self, speed: float) -> None:
        _check_speed(speed)
        self.speed = speed
        self.reanchor()


def _check_speed(speed: float) -> None:
    if not speed > 0:  # (NaN too)
        raise ValueError("speed must be > 0")
