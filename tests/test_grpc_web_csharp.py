"""Cross-check: the Unity bridge's hand-written C# CoachProto reads our gRPC-Web responses, and
its Subscribe request is accepted by our endpoint (binary and text mode).

Skipped where mono's ``mcs`` is missing (``make test`` installs it for the Unity bridge tests).
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp import web

from coach_backend.stream import PoseStreamServer, StreamConfig, make_session_info
from coach_backend.stream.grpc_web_endpoint import add_grpc_web_routes

REPO = Path(__file__).resolve().parents[1]
SOURCES = [REPO / "unity_bridge/Runtime/Core/CoachProto.cs", REPO / "tests/csharp/GrpcWebProbe.cs"]

pytestmark = pytest.mark.skipif(
    shutil.which("mcs") is None or shutil.which("mono") is None, reason="needs mono (mcs)"
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = tmp_path_factory.mktemp("cs") / "probe.exe"
    subprocess.run(["mcs", "-nologo", f"-out:{exe}", *map(str, SOURCES)], check=True, timeout=120)
    return exe


def mono(exe: Path, *args: str) -> str:
    return subprocess.run(
        ["mono", str(exe), *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


async def capture(request_body: bytes, ctype: str) -> bytes:
    srv = PoseStreamServer(StreamConfig())
    hub = srv.add_session(make_session_info("alice"), token="tok")
    app = web.Application()
    add_grpc_web_routes(app, srv)
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/coach.v1.PoseStream/Subscribe"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http,
            http.post(
                url,
                data=request_body,
                headers={"Content-Type": ctype, "Authorization": "Bearer tok"},
            ) as resp,
        ):
            while not any(sub.active for sub in hub.stats().subscribers):
                await asyncio.sleep(0.01)  # headers are back; wait until the hub has us
            for seq in range(3):
                hub.publish_pose(np.zeros((24, 3)), np.zeros(3), sequence=seq)
            hub.end("done")
            return await resp.read()
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("mode", ["binary", "text"])
def test_csharp_reads_grpc_web_stream(probe: Path, tmp_path: Path, mode: str) -> None:
    mono(probe, "request", "alice", str(tmp_path / "req.bin"))
    req = (tmp_path / "req.bin").read_bytes()
    ctype = "application/grpc-web"
    if mode == "text":
        req, ctype = base64.b64encode(req), "application/grpc-web-text"
    body = asyncio.run(capture(req, ctype))
    (tmp_path / "body.bin").write_bytes(body)
    lines = mono(probe, "parse", str(tmp_path / "body.bin"), mode).splitlines()
    assert lines == [
        "info alice 24",
        "frame 0 104",
        "frame 1 104",
        "frame 2 104",
        "end done 3",
        "trailer grpc-status:0;",
    ]
