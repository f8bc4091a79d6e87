"""Shared pieces of the live-server tests: the clip, the pipeline, a running server, HTTP calls."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from coach_backend.dashboard import default_pipeline_factory
from coach_backend.dashboard.sessions import PipelineFactory
from coach_backend.gcssn.api import DEFAULT_WEIGHTS
from coach_backend.ingest import IngestConfig
from coach_backend.ingest.testclip import render_clip, write_mp4, write_y4m
from coach_backend.serve import LiveServer, ServeConfig

ADMIN = "admin-test-token"


def pipeline_factory() -> PipelineFactory:
    """The real pipeline. With the trained weights when they exist, else an untrained GC-SSN
    (seeded): MediaPipe, smoothing, encoding, hub and recorder are exercised all the same; only
    the pose values are meaningless."""
    from coach_backend.pipeline import PipelineConfig

    if DEFAULT_WEIGHTS.is_file():
        return default_pipeline_factory(PipelineConfig())
    from coach_backend.gcssn.network import GCSSN

    torch.manual_seed(0)
    return default_pipeline_factory(PipelineConfig(weights=GCSSN().eval()))


def make_clip(directory: Path, n: int = 30) -> tuple[Path, Path]:
    frames = render_clip(n)
    mp4, y4m = directory / "squat.mp4", directory / "squat.y4m"
    write_mp4(mp4, frames, repeat=8)  # 8 s
    write_y4m(y4m, frames)
    return mp4, y4m


class ServerThread:
    """A LiveServer on its own event loop thread, so blocking test code (gRPC, urllib) can run
    in the test thread."""

    def __init__(self, config: ServeConfig, factory: PipelineFactory | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = LiveServer(config, factory or pipeline_factory())
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.call(self.server.start())

    def call(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def base(self) -> str:
        return self.server.base_url

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.server.grpc.port}"

    def stop(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@contextmanager
def running_server(tmp: Path, **kw: Any) -> Iterator[ServerThread]:
    ingest = kw.pop("ingest", IngestConfig(frame_timeout_s=2.0))
    cfg = ServeConfig(
        http_port=0, grpc_port=0, recordings_dir=tmp / "recordings", admin_token=ADMIN,
        ingest=ingest, **kw,
    )  # fmt: skip
    st = ServerThread(cfg)
    try:
        yield st
    finally:
        st.stop()


def http(
    method: str, url: str, token: str | None = None, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload)
        except ValueError:
            return exc.code, payload.decode(errors="replace")


async def publish_file(base: str, session_id: str, token: str, path: Path) -> tuple[Any, Any]:
    """An aiortc publisher streaming ``path`` (MediaPlayer) to the session. Returns (pc, player)."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaPlayer

    player = MediaPlayer(str(path))
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(player.video, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    url = f"{base}/api/sessions/{session_id}/offer"
    status, answer = await asyncio.to_thread(http, "POST", url, token, offer)
    assert status == 200, (status, answer)
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    return pc, player


def wait_for(cond: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
