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

from .clock import CaptureClock
from .config import IceServerConfig, IngestConfig, load_ice_servers
from .publisher import InvalidOffer, PublisherConnection, PublisherStats, check_offer_sdp
from .viewer import VideoViewerConnection
from .worker import LatestFrameWorker, WorkerStats

__all__ = [
    "CaptureClock",
    "IceServerConfig",
    "IngestConfig",
    "InvalidOffer",
    "LatestFrameWorker",
    "PublisherConnection",
    "PublisherStats",
    "VideoViewerConnection",
    "WorkerStats",
    "check_offer_sdp",
    "load_ice_servers",
]
