"""A coach's WebRTC connection that receives the athlete's video (the coach page is recvonly).

The track is a ``MediaRelay`` proxy of the publisher's decoded track
(:meth:`PublisherConnection.subscribe_video`). aiortc (1.16) has no way to forward the received
RTP packets: its receiver always decodes, and a sender sends what its track yields, so each
viewer connection runs its own encoder (VP8 or H.264, as negotiated) on the shared decoded
frames. That costs one encode per viewer and frame, hence the per-session cap
(``IngestConfig.max_video_viewers``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from .config import IngestConfig
from .publisher import InvalidOffer, check_offer_sdp

log = logging.getLogger(__name__)


class VideoViewerConnection:
    """``answer = await VideoViewerConnection(cfg, track, on_closed).accept(offer_sdp)``.

    ``on_closed`` is called once, when the connection fails or closes (either side).
    """

    def __init__(
        self, config: IngestConfig, track: MediaStreamTrack, on_closed: Callable[[], None]
    ) -> None:
        self._pc = RTCPeerConnection(config.rtc_configuration())
        self._track = track
        self._on_closed: Callable[[], None] | None = on_closed
        self._close_task: asyncio.Future[None] | None = None
        self._pc.on("connectionstatechange", self._on_state)

    async def accept(self, offer_sdp: str) -> RTCSessionDescription:
        check_offer_sdp(offer_sdp)
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            # Takes the offer's (recvonly) video section: the answer says sendonly.
            self._pc.addTrack(self._track)
            await self._pc.setLocalDescription(await self._pc.createAnswer())
        except Exception as exc:  # aiortc raises ValueError, KeyError, IndexError... on bad SDP
            await self.close()
            raise InvalidOffer(f"cannot use SDP offer: {exc}") from exc
        return self._pc.localDescription

    async def close(self) -> None:
        self._track.stop()  # unsubscribes the proxy from the relay
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._pc.close())
        await asyncio.shield(self._close_task)
        self._notify_closed()

    def _notify_closed(self) -> None:
        callback, self._on_closed = self._on_closed, None
        if callback is not None:
            callback()

    async def _on_state(self) -> None:
        state = self._pc.connectionState
        log.info("video viewer connection state: %s", state)
        if state in ("failed", "closed"):
            await self.close()
