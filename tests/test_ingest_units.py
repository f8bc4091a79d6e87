"""Ingest building blocks without a network: the newest-frame worker, the capture clock, SDP
pre-checks and ICE server parsing."""

from __future__ import annotations

import threading
import time
from fractions import Fraction

import pytest

from coach_backend.ingest import (
    CaptureClock,
    IceServerConfig,
    IngestConfig,
    InvalidOffer,
    LatestFrameWorker,
    check_offer_sdp,
)

TB = Fraction(1, 90000)


def test_worker_processes_newest_frame_and_drops_the_rest():
    gate = threading.Event()
    seen: list[int] = []

    def process(frame: int, t_us: int) -> int:
        gate.wait(10)  # hold the first frame until all others have been submitted
        seen.append(frame)
        return frame

    worker = LatestFrameWorker(process, name="test-worker")
    worker.submit(0, 0)
    time.sleep(0.2)  # frame 0 is now in process()
    for k in range(1, 10):
        worker.submit(k, k)
    gate.set()
    deadline = time.monotonic() + 10
    while worker.stats().processed < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.stop()
    assert seen == [0, 9]  # the newest frame, never a backlog
    stats = worker.stats()
    assert stats.submitted == 10 and stats.dropped == 8 and stats.processed == 2


def test_worker_survives_a_failing_frame():
    results: list[int] = []
    worker = LatestFrameWorker(
        lambda f, t: 1 // f, on_result=lambda r, ms: results.append(r), name="test-worker"
    )
    worker.submit(0, 0)  # ZeroDivisionError: logged, counted
    time.sleep(0.2)
    worker.submit(1, 1)
    deadline = time.monotonic() + 5
    while not results and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert results == [1] and worker.stats().errors == 1


def test_capture_clock_follows_pts_with_the_smallest_delay():
    clock = CaptureClock()
    t0 = 1_800_000_000_000_000
    delays_us = [40_000, 25_000, 60_000, 20_000, 35_000]
    out = []
    for k, d in enumerate(delays_us):
        pts = 1234567 + k * 3000  # 30 fps at 90 kHz, arbitrary RTP origin
        out.append(clock.capture_time_us(pts, TB, t0 + k * 33_333 + d))
    # Never later than the receive time; spaced by the camera cadence once the minimum settles.
    for k, (c, d) in enumerate(zip(out, delays_us, strict=True)):
        assert c <= t0 + k * 33_333 + d
    assert out[4] - out[3] == pytest.approx(33_333, abs=2)
    assert all(b > a for a, b in zip(out, out[1:], strict=False))
    # A big pts jump (new stream after a reconnect) re-anchors to the receive time.
    later = clock.capture_time_us(99, TB, t0 + 60_000_000)
    assert later == t0 + 60_000_000
    assert clock.capture_time_us(None, None, 5) > later  # no pts: receive time, kept monotonic


def test_offer_precheck_and_ice_config():
    for bad in (
        "",
        "hello",
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        "v=0\r\nm=video 9 X\r\n",
    ):
        with pytest.raises(InvalidOffer):
            check_offer_sdp(bad)
    check_offer_sdp("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:sha-256 AB\r\n")
    s = IceServerConfig.parse("turn:turn.example.org:3478,alice,secret")
    assert s.to_json() == {"urls": ["turn:turn.example.org:3478"], "username": "alice",
                           "credential": "secret"}  # fmt: skip
    with pytest.raises(ValueError):
        IceServerConfig.parse("http://example.org")
    # No servers configured -> an explicitly empty list (aiortc would add Google STUN for None).
    assert IngestConfig().rtc_configuration().iceServers == []
