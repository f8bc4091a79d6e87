"""Per-session fan-out: the pipeline publishes frames, each subscriber drains its own bounded queue.

The publisher never waits on a subscriber: a full queue drops its OLDEST frame (for live AR the
newest pose is the one worth showing) and counts the drop for that subscriber. Each frame is
serialized once, as a ``StreamMessage``, and the same bytes are queued for every subscriber.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from coach_backend.body.skeleton import NUM_BETAS

from .codec import FLAG_VALID, LAYOUT_VERSION, SMPL24_JOINT_NAMES, encode_pose
from .proto_gen import coach_pb2 as pb

# ~2 s at 30 fps: rides out a Wi-Fi hiccup, yet a stalled client stays close to live.
DEFAULT_QUEUE_SIZE = 64
_MAX_FINISHED_STATS = 256  # finished subscribers kept for stats()


@dataclass(frozen=True)
class SubscriberStats:
    subscriber_id: int
    peer: str
    sent: int  # frames handed to the consumer
    dropped: int  # frames dropped because its queue was full
    queued: int  # frames waiting now
    active: bool


@dataclass(frozen=True)
class HubStats:
    session_id: str
    published: int
    ended: bool
    subscribers: tuple[SubscriberStats, ...]


def make_session_info(
    session_id: str,
    *,
    body_model: str | None = None,
    betas: np.ndarray | list[float] | None = None,
    fps: float = 30.0,
    started_time_us: int | None = None,
    state: int = pb.SESSION_STATE_LIVE,
) -> pb.SessionInfo:
    """A SessionInfo with the fixed parts (frame convention, joint names, layout) filled in.

    ``body_model``: the name (``BodyModel.name``) of the body whose betas these are; default:
    the body ``load_body_model()`` runs. Clients check it before applying the betas."""
    b = np.zeros(NUM_BETAS) if betas is None else np.asarray(betas, dtype=np.float64).reshape(-1)
    if b.shape != (NUM_BETAS,):
        raise ValueError(f"betas must have {NUM_BETAS} values, got {b.shape[0]}")
    if body_model is None:
        # Here, not at the top: the body model module imports torch, which a stream client
        # or a tool's --help need not pay for.
        from coach_backend.body.model import body_model_name

        body_model = body_model_name()
    return pb.SessionInfo(
        session_id=session_id,
        body_model=body_model,
        betas=b.tolist(),
        fps=fps,
        coordinate_frame=pb.COORDINATE_FRAME_GL_VIEWER,
        joint_names=list(SMPL24_JOINT_NAMES),
        layout_version=LAYOUT_VERSION,
        started_time_us=time.time_ns() // 1000 if started_time_us is None else started_time_us,
        state=state,
    )


class Subscription:
    """One consumer's bounded queue of serialized ``StreamMessage`` bytes.

    Yields the SessionInfo first, then frames, then exactly one StreamEnd. Thread-safe; created by
    :meth:`SessionHub.subscribe`.
    """

    def __init__(self, hub: SessionHub, subscriber_id: int, peer: str, maxsize: int) -> None:
        self._hub = hub
        self.subscriber_id = subscriber_id
        self.peer = peer
        self._maxsize = maxsize
        self._cond = threading.Condition()
        self._info: bytes | None = None  # sent first, outside the bounded frame queue
        self._queue: deque[bytes] = deque()
        self._sent = 0
        self._dropped = 0
        self._end_reason: str | None = None  # set when the session ends
        self._closed = False  # consumer gone, or StreamEnd delivered

    # -- producer side (called by the hub, under the hub lock) --
    def _push_info(self, data: bytes) -> None:
        # One slot, sent before any queued frame: a newer info replaces an unsent older one.
        with self._cond:
            self._info = data
            self._cond.notify()

    def _push_frame(self, data: bytes) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= self._maxsize:
                self._queue.popleft()
                self._dropped += 1
            self._queue.append(data)
            self._cond.notify()

    def _push_end(self, reason: str) -> None:
        with self._cond:
            self._end_reason = reason
            self._cond.notify()

    # -- consumer side --
    def next_bytes(self, timeout: float | None = None) -> bytes | None:
        """Next serialized StreamMessage; None on timeout or once the stream is finished/closed."""
        with self._cond:
            if self._closed:
                return None
            if self._info is not None:
                data, self._info = self._info, None
                return data
            if not self._cond.wait_for(
                lambda: (
                    self._queue
                    or self._info is not None
                    or self._end_reason is not None
                    or self._closed
                ),
                timeout,
            ):
                return None
            if self._closed:
                return None
            if self._info is not None:  # an update that arrived while waiting
                data, self._info = self._info, None
                return data
            if self._queue:
                self._sent += 1
                return self._queue.popleft()
            # Queue drained after the session ended: deliver StreamEnd once, then finish.
            self._closed = True
            end = pb.StreamMessage(
                end=pb.StreamEnd(
                    reason=self._end_reason or "",
                    frames_sent=self._sent,
                    frames_dropped=self._dropped,
                )
            )
        self._hub._retire(self)
        return end.SerializeToString()

    def next_message(self, timeout: float | None = None) -> pb.StreamMessage | None:
        data = self.next_bytes(timeout)
        return None if data is None else pb.StreamMessage.FromString(data)

    def __iter__(self) -> Iterator[pb.StreamMessage]:
        while (msg := self.next_message()) is not None:
            yield msg

    def close(self) -> None:
        """Detach (consumer went away). Idempotent; wakes a blocked ``next_*`` call."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        self._hub._retire(self)

    def stats(self) -> SubscriberStats:
        with self._cond:
            return SubscriberStats(
                self.subscriber_id, self.peer, self._sent, self._dropped, len(self._queue),
                not self._closed,
            )  # fmt: skip


class SessionHub:
    """Fan-out point for one session. ``publish`` and ``end`` are safe from any thread and never
    block on subscribers (they only take short, I/O-free locks)."""

    def __init__(self, info: pb.SessionInfo, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if not info.session_id:
            raise ValueError("SessionInfo.session_id must be set")
        if queue_size < 1:
            raise ValueError("queue_size must be >= 1")
        self._info = pb.SessionInfo()
        self._info.CopyFrom(info)
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._subs: dict[int, Subscription] = {}
        self._finished: deque[Subscription] = deque(maxlen=_MAX_FINISHED_STATS)
        self._ids = itertools.count(1)
        self._published = 0
        self._next_sequence = 0
        self._end_reason: str | None = None
        self._ended_event = threading.Event()

    @property
    def session_id(self) -> str:
        return self._info.session_id

    @property
    def info(self) -> pb.SessionInfo:
        """A copy of the current SessionInfo (state reflects live/ended)."""
        with self._lock:
            out = pb.SessionInfo()
            out.CopyFrom(self._info)
            return out

    @property
    def ended(self) -> bool:
        return self._ended_event.is_set()

    def wait_ended(self, timeout: float | None = None) -> bool:
        return self._ended_event.wait(timeout)

    def publish(self, frame: pb.PoseFrame) -> bool:
        """Queue ``frame`` for every subscriber. Returns False (and does nothing) after ``end``."""
        data = pb.StreamMessage(frame=frame).SerializeToString()  # once for all subscribers
        with self._lock:
            if self._end_reason is not None:
                return False
            self._published += 1
            self._next_sequence = max(self._next_sequence, frame.sequence + 1)
            for sub in self._subs.values():
                sub._push_frame(data)
        return True

    def publish_pose(
        self,
        rotvecs: np.ndarray,
        pelvis_m: np.ndarray,
        *,
        valid: bool = True,
        confidence: float = 1.0,
        capture_time_us: int | None = None,
        sequence: int | None = None,
    ) -> bool:
        """Encode and publish one pose in the wire frame; sequence defaults to last + 1
        (auto-numbering assumes a single publishing thread, as in the pipeline)."""
        with self._lock:
            seq = self._next_sequence if sequence is None else sequence
        if capture_time_us is None:
            capture_time_us = time.time_ns() // 1000
        return self.publish(
            pb.PoseFrame(
                sequence=seq,
                capture_time_us=capture_time_us,
                confidence=confidence,
                flags=FLAG_VALID if valid else 0,
                pose=encode_pose(rotvecs, pelvis_m, valid),
            )
        )

    def update_betas(self, betas: np.ndarray, body_model: str | None = None) -> bool:
        """Announce the session's body shape (e.g. once the pipeline's estimate has settled),
        and the body model it belongs to when given: every subscriber gets the updated
        SessionInfo next, ahead of queued frames, and late joiners get it first. Returns False
        (and does nothing) after ``end``."""
        betas = np.asarray(betas, dtype=np.float64).reshape(-1)
        if betas.shape != (NUM_BETAS,) or not np.isfinite(betas).all():
            raise ValueError(f"betas must be {NUM_BETAS} finite values, got {betas.shape[0]}")
        if body_model is not None and not body_model:
            raise ValueError("body_model must not be empty")
        with self._lock:
            if self._end_reason is not None:
                return False
            del self._info.betas[:]
            self._info.betas.extend(float(b) for b in betas)
            if body_model is not None:
                self._info.body_model = body_model
            data = pb.StreamMessage(info=self._info).SerializeToString()
            for sub in self._subs.values():
                sub._push_info(data)
        return True

    def end(self, reason: str = "session ended") -> None:
        """End the session: subscribers drain their queues, get StreamEnd, then finish.

        Idempotent; later ``publish`` calls return False."""
        with self._lock:
            if self._end_reason is not None:
                return
            self._end_reason = reason
            if self._info.state == pb.SESSION_STATE_LIVE:
                self._info.state = pb.SESSION_STATE_ENDED
            subs = list(self._subs.values())
        for sub in subs:
            sub._push_end(reason)
        self._ended_event.set()

    def subscribe(self, peer: str = "local", queue_size: int | None = None) -> Subscription:
        """A new subscription: SessionInfo first, then frames published from now on (no backlog).

        Subscribing to an ended session yields its info and an immediate StreamEnd.
        """
        size = self.queue_size if queue_size is None else queue_size
        if size < 1:
            raise ValueError("queue_size must be >= 1")
        with self._lock:  # info snapshot and registration are atomic w.r.t. publish
            sub = Subscription(self, next(self._ids), peer, size)
            sub._push_info(pb.StreamMessage(info=self._info).SerializeToString())
            if self._end_reason is not None:
                sub._push_end(self._end_reason)
            self._subs[sub.subscriber_id] = sub
        return sub

    def stats(self) -> HubStats:
        with self._lock:
            subs = [*self._finished, *self._subs.values()]
            published, ended = self._published, self._end_reason is not None
        return HubStats(self.session_id, published, ended, tuple(s.stats() for s in subs))

    def _retire(self, sub: Subscription) -> None:
        with self._lock:
            if self._subs.pop(sub.subscriber_id, None) is not None:
                self._finished.append(sub)
