"""One athlete's WebRTC publish connection (aiortc): SDP offer in, answer out, video frames to a
sink, and a single "gone" notification when the publisher vanishes.

The received track goes through aiortc's ``MediaRelay``: the sink reads one proxy, and every
coach watching the video (``subscribe_video``) gets another, so the track is decoded once
whatever the number of viewers.

ICE: host candidates always (LAN / same machine); STUN/TURN only if configured. DTLS-SRTP is
aiortc's (mandatory in WebRTC). Non-trickle: the answer carries all our candidates, so the
browser needs no extra signalling round-trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from .clock import CaptureClock
from .config import IngestConfig

log = logging.getLogger(__name__)

# sink(frame: av.VideoFrame, capture_time_us) - called on the event loop, must not block.
FrameSink = Callable[..., None]
GoneCallback = Callable[[str], Awaitable[None] | None]


class InvalidOffer(ValueError):
    """The SDP offer is malformed or carries no video (HTTP 400)."""


@dataclass(frozen=True)
class PublisherStats:
    state: str  # RTCPeerConnection.connectionState
    frames: int
    width: int
    height: int
    last_frame_age_s: float | None


def check_offer_sdp(sdp: str) -> None:
    """Cheap structural check before aiortc parses it (its errors are not all ValueErrors)."""
    if not isinstance(sdp, str) or not sdp.lstrip().startswith("v=0"):
        raise InvalidOffer("SDP must start with 'v=0'")
    lines = sdp.replace("\r\n", "\n").split("\n")
    if not any(line.startswith("m=video ") for line in lines):
        raise InvalidOffer("SDP offer has no video media section")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise InvalidOffer("SDP offer has no DTLS fingerprint")


class PublisherConnection:
    """``answer = await PublisherConnection(cfg, sink, on_gone).accept(offer_sdp)``."""

    def __init__(self, config: IngestConfig, sink: FrameSink, on_gone: GoneCallback) -> None:
        self.config = config
        self._sink = sink
        self._on_gone = on_gone
        self._pc = RTCPeerConnection(config.rtc_configuration())
        self._clock = CaptureClock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._gone = False
        self._frames = 0
        self._size = (0, 0)
        self._answered_at: float | None = None
        self._last_frame_at: float | None = None
        self._close_task: asyncio.Future[None] | None = None
        self._relay = MediaRelay()
        self._video: MediaStreamTrack | None = None  # the publisher's track, once it arrives
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_state)

    @property
    def gone(self) -> bool:
        return self._gone

    async def accept(self, offer_sdp: str) -> RTCSessionDescription:
        check_offer_sdp(offer_sdp)
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        except Exception as exc:  # aiortc raises ValueError, KeyError, IndexError... on bad SDP
            await self._pc.close()
            raise InvalidOffer(f"cannot use SDP offer: {exc}") from exc
        # We only receive: make sure no transceiver offers to send media back.
        for tr in self._pc.getTransceivers():
            if tr.kind == "video":
                tr.direction = "recvonly"
        try:
            await self._pc.setLocalDescription(await self._pc.createAnswer())
        except Exception as exc:
            await self._pc.close()
            raise InvalidOffer(f"cannot answer SDP offer: {exc}") from exc
        self._answered_at = time.monotonic()
        self._spawn(self._watchdog())
        return self._pc.localDescription

    def subscribe_video(self) -> MediaStreamTrack | None:
        """A relayed copy of the athlete's video (decoded frames) for one viewer, or None before
        the track arrives. Unbuffered: a slow viewer gets the newest frame, never a backlog.
        The copy ends when the publisher's track ends."""
        if self._video is None or self._gone:
            return None
        return self._relay.subscribe(self._video, buffered=False)

    def stats(self) -> PublisherStats:
        age = None if self._last_frame_at is None else time.monotonic() - self._last_frame_at
        return PublisherStats(self._pc.connectionState, self._frames, *self._size, age)

    async def close(self, reason: str = "closed") -> None:
        """Close the peer connection. Does not call on_gone (the caller already knows)."""
        self._gone = True
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        # One shared close, shielded: aiortc's close() awaits a shared future, and cancelling
        # one waiter (e.g. the frame task closing after a vanish) would cancel it for everyone.
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._pc.close())
        await asyncio.shield(self._close_task)

    # -- internals --
    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._video = track
            # Buffered: the sink is called on the loop right away, so the queue stays short.
            self._spawn(self._consume_video(self._relay.subscribe(track)))
        else:
            self._spawn(self._drain(track))  # unread tracks would queue up frames forever

    async def _on_state(self) -> None:
        state = self._pc.connectionState
        log.info("publisher connection state: %s", state)
        if state in ("failed", "closed"):
            await self._vanish(f"publisher connection {state}")

    async def _consume_video(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                now = time.monotonic()
                self._last_frame_at = now
                self._frames += 1
                self._size = (frame.width, frame.height)
                capture_us = self._clock.capture_time_us(
                    frame.pts, frame.time_base, time.time_ns() // 1000
                )
                self._sink(frame, capture_us)
        except MediaStreamError:
            await self._vanish("publisher video track ended")

    @staticmethod
    async def _drain(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    async def _watchdog(self) -> None:
        period = min(1.0, self.config.frame_timeout_s / 4)
        while not self._gone:
            await asyncio.sleep(period)
            now = time.monotonic()
            if self._last_frame_at is None:
                assert self._answered_at is not None
                if now - self._answered_at > self.config.connect_timeout_s:
                    await self._vanish(f"no video within {self.config.connect_timeout_s:g} s")
            elif now - self._last_frame_at > self.config.frame_timeout_s:
                await self._vanish(f"no video frames for {self.config.frame_timeout_s:g} s")

    async def _vanish(self, reason: str) -> None:
        if self._gone:
            return
        self._gone = True
        log.info("publisher gone: %s", reason)
        try:
            result = self._on_gone(reason)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result
        finally:
            await self.close(reason)
