"""gRPC-Web endpoint over loopback, spoken by a plain HTTP client (aiohttp), frame by frame.

No speed assertions; waits are event-based with generous timeouts (loaded 2-core CI box).
"""

from __future__ import annotations

import asyncio
import base64
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import numpy as np
import pytest
from aiohttp import web

from coach_backend.stream import PoseStreamServer, StreamConfig, decode_pose, make_session_info, pb
from coach_backend.stream.grpc_web_endpoint import (
    add_grpc_web_routes,
    b64decode_chunks,
    decode_frames,
    encode_frame,
    encode_trailers,
)

TIMEOUT = 20.0
BINARY = "application/grpc-web+proto"
TEXT = "application/grpc-web-text+proto"
BASE = "/coach.v1.PoseStream/"


@asynccontextmanager
async def serving(server: PoseStreamServer) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    app = web.Application()
    add_grpc_web_routes(app, server)
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
            yield f"http://127.0.0.1:{port}", session
    finally:
        await runner.cleanup()


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), TIMEOUT * 2))


@pytest.fixture
def server() -> PoseStreamServer:
    srv = PoseStreamServer(StreamConfig(queue_size=16))  # hosts sessions; gRPC port not needed
    srv.add_session(make_session_info("alice"), token="tok-a")
    srv.add_session(make_session_info("bob"), token="tok-b")
    return srv


def request_body(message: bytes, text: bool = False) -> bytes:
    frame = encode_frame(message)
    return base64.b64encode(frame) if text else frame


def headers(token: str | None, ctype: str = BINARY) -> dict[str, str]:
    h = {"Content-Type": ctype, "X-Grpc-Web": "1"}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return h


def parse_trailers(payload: bytes) -> dict[str, str]:
    out = {}
    for line in payload.decode().split("\r\n"):
        if line:
            key, _, value = line.partition(":")
            out[key.strip().lower()] = value.strip()
    return out


def split_response(body: bytes, text: bool) -> tuple[list[bytes], dict[str, str]]:
    frames = decode_frames(b64decode_chunks(body) if text else body)
    assert frames and frames[-1][0] == 0x80, "a response must end with a trailer frame"
    assert all(flag == 0 for flag, _ in frames[:-1])
    return [p for _, p in frames[:-1]], parse_trailers(frames[-1][1])


async def read_frame(resp: aiohttp.ClientResponse) -> tuple[int, bytes]:
    flag, length = struct.unpack(">BI", await resp.content.readexactly(5))
    return flag, await resp.content.readexactly(length)


def publish(srv: PoseStreamServer, session: str, seq: int) -> None:
    rv = np.zeros((24, 3))
    rv[18, 1] = 0.01 * seq
    srv.hub(session).publish_pose(rv, np.array([0.0, 1.0, -2.0]), sequence=seq)


# -- tests --


def test_subscribe_streams_info_frames_end(server: PoseStreamServer) -> None:
    async def go() -> None:
        async with (
            serving(server) as (url, http),
            http.post(
                url + BASE + "Subscribe",
                data=request_body(pb.SubscribeRequest(session_id="alice").SerializeToString()),
                headers=headers("tok-a"),
            ) as resp,
        ):
            assert resp.status == 200
            assert resp.headers["Content-Type"] == BINARY
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "grpc-status" in resp.headers["Access-Control-Expose-Headers"]
            # SessionInfo arrives before anything is published: the stream is flushed live.
            flag, payload = await read_frame(resp)
            first = pb.StreamMessage.FromString(payload)
            assert flag == 0 and first.WhichOneof("kind") == "info"
            assert first.info.session_id == "alice"
            for seq in range(5):
                publish(server, "alice", seq)
                flag, payload = await read_frame(resp)  # each frame as it is published
                msg = pb.StreamMessage.FromString(payload)
                assert msg.frame.sequence == seq
                pose = decode_pose(msg.frame.pose)
                assert pose.valid and pose.rotvecs[18, 1] == pytest.approx(0.01 * seq, abs=1e-2)
            server.hub("alice").end("bye")
            rest, trailers = split_response(await resp.read(), text=False)
            (end,) = [pb.StreamMessage.FromString(p) for p in rest]
            assert end.WhichOneof("kind") == "end"
            assert end.end.reason == "bye" and end.end.frames_sent == 5
            assert trailers["grpc-status"] == "0"
        assert server.hub("alice").stats().subscribers[-1].active is False

    run(go)


def test_text_mode(server: PoseStreamServer) -> None:
    async def go() -> None:
        async with serving(server) as (url, http):
            body = request_body(pb.SubscribeRequest(session_id="bob").SerializeToString(), True)
            async with http.post(
                url + BASE + "Subscribe", data=body, headers=headers("tok-b", TEXT)
            ) as resp:
                assert resp.status == 200 and resp.headers["Content-Type"] == TEXT
                # Each frame is its own padded base64 chunk: read the first one (SessionInfo)
                # before publishing, as a streaming client does.
                head = await resp.content.readexactly(8)  # 5-byte header -> 8 base64 chars
                flag, length = struct.unpack(">BI", base64.b64decode(head)[:5])
                chunk = head + await resp.content.readexactly(4 * ((5 + length + 2) // 3) - 8)
                info = pb.StreamMessage.FromString(base64.b64decode(chunk)[5:])
                assert flag == 0 and info.info.session_id == "bob"
                for seq in range(3):
                    publish(server, "bob", seq)
                server.hub("bob").end()
                messages, trailers = split_response(await resp.read(), text=True)
            kinds = [pb.StreamMessage.FromString(m).WhichOneof("kind") for m in messages]
            assert kinds == ["frame"] * 3 + ["end"]
            assert trailers["grpc-status"] == "0"

            # Unary call in text mode too.
            async with http.post(
                url + BASE + "ListSessions",
                data=request_body(b"", True),
                headers=headers("tok-b", TEXT),
            ) as resp:
                (msg,), trailers = split_response(await resp.read(), text=True)
            assert [s.session_id for s in pb.ListSessionsResponse.FromString(msg).sessions] == [
                "bob"
            ]

    run(go)


@pytest.mark.parametrize(
    ("method", "token", "session", "status"),
    [
        ("Subscribe", "tok-b", "alice", 7),  # PERMISSION_DENIED
        ("Subscribe", None, "alice", 16),  # UNAUTHENTICATED
        ("Subscribe", "tok-a", "nobody", 5),  # NOT_FOUND
        ("GetSessionInfo", "tok-b", "alice", 7),
        ("GetSessionInfo", None, "alice", 16),
        ("GetSessionInfo", "tok-a", "nobody", 5),
        ("ListSessions", None, "", 16),
    ],
)
def test_auth_errors_are_trailers_only(
    server: PoseStreamServer, method: str, token: str | None, session: str, status: int
) -> None:
    message = (
        pb.ListSessionsRequest()
        if method == "ListSessions"
        else pb.SubscribeRequest(session_id=session)
        if method == "Subscribe"
        else pb.GetSessionInfoRequest(session_id=session)
    )

    async def go() -> None:
        async with (
            serving(server) as (url, http),
            http.post(
                url + BASE + method,
                data=request_body(message.SerializeToString()),
                headers=headers(token),
            ) as resp,
        ):
            assert resp.status == 200
            assert resp.headers["grpc-status"] == str(status)
            assert resp.headers["grpc-message"]
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert await resp.read() == b""
        assert all(not s.active for s in server.hub("alice").stats().subscribers)

    run(go)


def test_unary_calls(server: PoseStreamServer) -> None:
    server.add_session(make_session_info("alice-2", betas=np.arange(10) / 10), token="tok-a")

    async def go() -> None:
        async with serving(server) as (url, http):
            async with http.post(
                url + BASE + "ListSessions", data=request_body(b""), headers=headers("tok-a")
            ) as resp:
                (msg,), trailers = split_response(await resp.read(), text=False)
            ids = [s.session_id for s in pb.ListSessionsResponse.FromString(msg).sessions]
            assert sorted(ids) == ["alice", "alice-2"] and trailers["grpc-status"] == "0"

            req = pb.GetSessionInfoRequest(session_id="alice-2").SerializeToString()
            async with http.post(
                url + BASE + "GetSessionInfo", data=request_body(req), headers=headers("tok-a")
            ) as resp:
                (msg,), trailers = split_response(await resp.read(), text=False)
            info = pb.SessionInfo.FromString(msg)
            assert info.session_id == "alice-2" and info.betas[3] == pytest.approx(0.3)
            assert list(info.joint_names)[:2] == ["pelvis", "left_hip"]

            # An empty body is the empty request message; unknown methods are UNIMPLEMENTED.
            async with http.post(
                url + BASE + "ListSessions", data=b"", headers=headers("tok-b")
            ) as resp:
                (msg,), _ = split_response(await resp.read(), text=False)
            assert len(pb.ListSessionsResponse.FromString(msg).sessions) == 1
            async with http.post(
                url + BASE + "Nope", data=request_body(b""), headers=headers("tok-a")
            ) as resp:
                assert resp.headers["grpc-status"] == "12"
            # Not gRPC-Web at all: plain HTTP error.
            async with http.post(
                url + BASE + "ListSessions", data=b"{}", headers={"Content-Type": "text/json"}
            ) as resp:
                assert resp.status == 415

    run(go)


def test_cors_preflight(server: PoseStreamServer) -> None:
    async def go() -> None:
        async with (
            serving(server) as (url, http),
            http.options(
                url + BASE + "Subscribe",
                headers={
                    "Origin": "http://localhost:3000",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type,x-grpc-web",
                },
            ) as resp,
        ):
            assert resp.status == 204
            allowed = resp.headers["Access-Control-Allow-Headers"]
            for h in ("authorization", "content-type", "x-grpc-web"):
                assert h in allowed
            assert "POST" in resp.headers["Access-Control-Allow-Methods"]

    run(go)


def test_slow_client_never_blocks_the_publisher(server: PoseStreamServer) -> None:
    """A client that stops reading: publishing completes anyway; its queue drops the oldest
    frames and StreamEnd accounts for every frame (sent + dropped = published)."""
    n = 3000
    blob = pb.PoseFrame(pose=bytes([1, 1]) + bytes(102))

    async def go() -> None:
        connector = aiohttp.TCPConnector(limit=1)
        async with (
            serving(server) as (url, _),
            aiohttp.ClientSession(connector=connector, read_bufsize=2**10) as http,
        ):
            req = request_body(pb.SubscribeRequest(session_id="alice").SerializeToString())
            async with http.post(
                url + BASE + "Subscribe", data=req, headers=headers("tok-a")
            ) as resp:
                await read_frame(resp)  # SessionInfo: subscribed

                def flood() -> None:
                    hub = server.hub("alice")
                    for seq in range(n):
                        frame = pb.PoseFrame()
                        frame.CopyFrom(blob)
                        frame.sequence = seq
                        hub.publish(frame)
                    hub.end()

                worker = threading.Thread(target=flood)
                start = time.monotonic()
                worker.start()
                await asyncio.to_thread(worker.join, TIMEOUT)  # we read nothing meanwhile
                assert not worker.is_alive()
                publish_s = time.monotonic() - start
                messages, trailers = split_response(await resp.read(), text=False)
            end = pb.StreamMessage.FromString(messages[-1]).end
            seqs = [pb.StreamMessage.FromString(m).frame.sequence for m in messages[:-1]]
            assert trailers["grpc-status"] == "0"
            assert end.frames_sent == len(seqs) and end.frames_sent + end.frames_dropped == n
            assert seqs == sorted(seqs) and seqs[-1] == n - 1  # the newest frame always arrives
            assert publish_s < TIMEOUT

    run(go)


def test_client_disconnect_releases_subscription(server: PoseStreamServer) -> None:
    async def go() -> None:
        async with serving(server) as (url, http):
            req = request_body(pb.SubscribeRequest(session_id="alice").SerializeToString())
            resp = await http.post(url + BASE + "Subscribe", data=req, headers=headers("tok-a"))
            await read_frame(resp)
            hub = server.hub("alice")
            assert [s.active for s in hub.stats().subscribers] == [True]
            resp.close()  # drop the connection without reading further
            deadline = time.monotonic() + TIMEOUT
            while any(s.active for s in hub.stats().subscribers):
                assert time.monotonic() < deadline, "subscription not released"
                await asyncio.sleep(0.05)

    run(go)


def test_stream_limit_per_token_refuses_only_the_offender() -> None:
    """The native server's Subscribe limits hold over gRPC-Web too: past its per-token limit a
    client gets RESOURCE_EXHAUSTED (8); another token still subscribes; a closed stream frees
    its slot."""
    srv = PoseStreamServer(StreamConfig(max_streams_per_token=1))
    srv.add_session(make_session_info("alice"), token=("tok-a", "tok-c"))
    req = request_body(pb.SubscribeRequest(session_id="alice").SerializeToString())

    async def go() -> None:
        async with serving(srv) as (url, http):
            first = await http.post(url + BASE + "Subscribe", data=req, headers=headers("tok-a"))
            await read_frame(first)
            async with http.post(
                url + BASE + "Subscribe", data=req, headers=headers("tok-a")
            ) as refused:
                assert refused.headers["grpc-status"] == "8"
                assert "this token" in refused.headers["grpc-message"]
            async with http.post(
                url + BASE + "Subscribe", data=req, headers=headers("tok-c")
            ) as other:
                assert (await read_frame(other))[0] == 0  # SessionInfo
            first.close()
            deadline = time.monotonic() + TIMEOUT
            while True:  # the slot comes back once the server has seen the disconnect
                async with http.post(
                    url + BASE + "Subscribe", data=req, headers=headers("tok-a")
                ) as again:
                    if "grpc-status" not in again.headers:
                        assert (await read_frame(again))[0] == 0
                        break
                assert time.monotonic() < deadline, "slot not released"
                await asyncio.sleep(0.1)

    run(go)


def test_app_shutdown_ends_open_streams_unavailable(server: PoseStreamServer) -> None:
    async def go() -> None:
        app = web.Application()
        add_grpc_web_routes(app, server)
        runner = web.AppRunner(app, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession() as http:
            req = request_body(pb.SubscribeRequest(session_id="alice").SerializeToString())
            async with http.post(
                url + BASE + "Subscribe", data=req, headers=headers("tok-a")
            ) as resp:
                await read_frame(resp)
                cleanup = asyncio.create_task(runner.cleanup())
                flag, payload = await read_frame(resp)
                assert flag == 0x80 and parse_trailers(payload)["grpc-status"] == "14"
                await cleanup

    run(go)


def test_frame_helpers() -> None:
    body = encode_frame(b"abc") + encode_trailers_ok()
    assert decode_frames(body) == [(0, b"abc"), (0x80, b"grpc-status:0\r\n")]
    chunks = base64.b64encode(encode_frame(b"a")) + base64.b64encode(encode_frame(b"bc"))
    assert decode_frames(b64decode_chunks(chunks)) == [(0, b"a"), (0, b"bc")]
    with pytest.raises(ValueError):
        decode_frames(encode_frame(b"abc")[:-1])
    import grpc

    msg = parse_trailers(decode_frames(encode_trailers(grpc.StatusCode.NOT_FOUND, "nö 100%"))[0][1])
    assert msg == {"grpc-status": "5", "grpc-message": "n%C3%B6 100%25"}


def encode_trailers_ok() -> bytes:
    import grpc

    return encode_trailers(grpc.StatusCode.OK)
