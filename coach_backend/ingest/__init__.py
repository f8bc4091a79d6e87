"""WebRTC ingest: an athlete's camera (browser or aiortc client) -> decoded frames -> a worker.

::

    conn = PublisherConnection(IngestConfig(), sink=worker.submit, on_gone=handle_gone)
    answer = await conn.accept(offer_sdp)        # InvalidOffer -> HTTP 400
    worker = LatestFrameWorker(lambda frame, t_us: pipeline.submit(frame.to_ndarray(...), t_us))

Frames reach ``sink(frame, capture_time_us)`` on the event loop; the worker runs the CPU-heavy
pipeline's perception in its own thread on the newest frame only (the pipeline's own thread
does the rest). ``PublisherConnection.subscribe_video()`` relays the decoded track (aiortc
``MediaRelay``) to coaches' ``VideoViewerConnection``s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.ingest.clock import CaptureClock as CaptureClock
    from coach_backend.ingest.config import IceServerConfig as IceServerConfig
    from coach_backend.ingest.config import IngestConfig as IngestConfig
    from coach_backend.ingest.config import load_ice_servers as load_ice_servers
    from coach_backend.ingest.publisher import InvalidOffer as InvalidOffer
    from coach_backend.ingest.publisher import PublisherConnection as PublisherConnection
    from coach_backend.ingest.publisher import PublisherStats as PublisherStats
    from coach_backend.ingest.publisher import check_offer_sdp as check_offer_sdp
    from coach_backend.ingest.viewer import VideoViewerConnection as VideoViewerConnection
    from coach_backend.ingest.worker import LatestFrameWorker as LatestFrameWorker
    from coach_backend.ingest.worker import WorkerStats as WorkerStats

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "clock": ("CaptureClock",),
        "config": ("IceServerConfig", "IngestConfig", "load_ice_servers"),
        "publisher": ("InvalidOffer", "PublisherConnection", "PublisherStats", "check_offer_sdp"),
        "viewer": ("VideoViewerConnection",),
        "worker": ("LatestFrameWorker", "WorkerStats"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
