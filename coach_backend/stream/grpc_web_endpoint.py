"""gRPC-Web endpoint for ``coach.v1.PoseStream`` (HoloLens/Unity over HTTP/1.1), on aiohttp.

Mount on any aiohttp app (the dashboard server does) or run standalone (``stream.grpc_web``)::

    add_grpc_web_routes(app, server)          # server: the PoseStreamServer hosting sessions
    python -m coach_backend.stream.grpc_web --port 8080 [--token T]      # a synthetic body
    python -m coach_backend.recorder.grpc_web_replay --recording s.coachrec   # a recording

Protocol (grpc/grpc PROTOCOL-WEB.md): ``POST /coach.v1.PoseStream/<Method>`` with content type
``application/grpc-web[+proto]`` (binary) or ``application/grpc-web-text[+proto]`` (base64).
Request and response bodies are frames ``flag(1) | length(4, big-endian) | payload``; flag 0x00 =
message, 0x80 = trailers (``grpc-status:0\\r\\ngrpc-message:...\\r\\n``). Text mode base64-encodes
each frame separately (padded), so a streamed response can be decoded frame by frame. Errors before
the first message are "trailers-only": grpc-status/grpc-message in the HTTP headers, empty body.
HTTP status is 200 for every gRPC outcome (415/405 only for non-gRPC-Web requests).

Same auth and statuses as native gRPC (shared code in :mod:`.server`): ``authorization: Bearer``
header; missing -> UNAUTHENTICATED (16), unknown session -> NOT_FOUND (5), wrong token ->
PERMISSION_DENIED (7); past the Subscribe stream limits (per token, per session, and
``max_streams`` gRPC-Web streams in all; see ``StreamConfig``) -> RESOURCE_EXHAUSTED (8). CORS
allows any origin (auth is the bearer header, never cookies).

Subscribe never blocks the publisher: each call drains its own bounded hub :class:`Subscription`
(full queue drops the oldest frame, counted in StreamEnd.frames_dropped) from a worker thread,
and awaits the HTTP write before taking the next frame, so a slow client only slows itself.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import urllib.parse
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from aiohttp import web
from google.protobuf.message import DecodeError, Message

from .hub import SessionHub, Subscription
from .proto_gen import coach_pb2 as pb
from .server import SERVICE_NAME, PoseStreamServer, StreamError, bearer_token

MESSAGE_FLAG = 0x00
TRAILER_FLAG = 0x80
_COMPRESSED_FLAG = 0x01
_MAX_REQUEST_BYTES = 1 << 16  # requests are a session id: anything big is not ours
_POLL_S = 1.0  # how often an idle Subscribe checks whether its client went away
TRANSPORT = "grpc-web"  # its Subscribe streams have their own server-wide cap (take_stream_slot)
# A serialized StreamMessage whose oneof is `end` (field 3, length-delimited) starts with this
# tag byte: recognising StreamEnd without parsing every frame.
_STREAM_END_TAG = bytes([3 << 3 | 2])

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    # "authorization" must be listed by name: the "*" wildcard does not cover it.
    "Access-Control-Allow-Headers": (
        "authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout, grpc-accept-encoding"
    ),
    "Access-Control-Expose-Headers": "grpc-status, grpc-message, grpc-status-details-bin",
    "Access-Control-Max-Age": "600",
}


def encode_frame(payload: bytes, flag: int = MESSAGE_FLAG) -> bytes:
    """One gRPC-Web frame: flag byte, big-endian length, payload."""
    return struct.pack(">BI", flag, len(payload)) + payload


def encode_trailers(code: grpc.StatusCode, message: str = "") -> bytes:
    """The trailer frame (flag 0x80) carrying grpc-status and grpc-message."""
    lines = f"grpc-status:{code.value[0]}\r\n"
    if message:
        lines += f"grpc-message:{_percent_encode(message)}\r\n"
    return encode_frame(lines.encode("ascii"), TRAILER_FLAG)


def decode_frames(body: bytes) -> list[tuple[int, bytes]]:
    """Split a binary gRPC-Web body into (flag, payload) frames; ValueError if truncated."""
    frames, pos = [], 0
    while pos < len(body):
        if pos + 5 > len(body):
            raise ValueError("truncated gRPC-Web frame header")
        flag, length = struct.unpack_from(">BI", body, pos)
        if pos + 5 + length > len(body):
            raise ValueError("truncated gRPC-Web frame")
        frames.append((flag, body[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    return frames


def b64decode_chunks(text: bytes) -> bytes:
    """Base64 that may be several padded chunks back to back (how gRPC-Web text streams are
    written). Every chunk is a multiple of 4 characters, so 4-character groups decode alone."""
    data = b"".join(text.split())  # whitespace is not part of the encoding
    if len(data) % 4:
        raise ValueError("base64 body length is not a multiple of 4")
    if b"=" not in data[:-2]:  # one chunk: the common case, decode at once
        return base64.b64decode(data, validate=True)
    return b"".join(
        base64.b64decode(data[i : i + 4], validate=True) for i in range(0, len(data), 4)
    )


def _percent_encode(message: str) -> str:
    # gRPC's grpc-message encoding: printable ASCII except '%' as is, everything else %XX (UTF-8).
    return urllib.parse.quote(message, safe="".join(chr(c) for c in range(0x20, 0x7F) if c != 0x25))


class _Call:
    """Request side of one call: mode (binary/text), content type to echo, headers."""

    def __init__(self, request: web.Request) -> None:
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not ctype.startswith("application/grpc-web"):
            raise web.HTTPUnsupportedMediaType(
                text="expected application/grpc-web[-text][+proto]", headers=CORS_HEADERS
            )
        self.request = request
        self.text = ctype.startswith("application/grpc-web-text")
        # Echo the client's content type (Grpc.Net.Client.Web checks the response matches).
        self.content_type = ctype

    def headers(self, **extra: str) -> dict[str, str]:
        return {**CORS_HEADERS, "Content-Type": self.content_type, **extra}

    def out(self, frame: bytes) -> bytes:
        return base64.b64encode(frame) if self.text else frame

    async def message(self, cls: type[Message]) -> Message:
        body = await self.request.read()  # whole body (aiohttp caps it at client_max_size)
        if len(body) > _MAX_REQUEST_BYTES:
            raise StreamError(grpc.StatusCode.RESOURCE_EXHAUSTED, "request too large")
        try:
            frames = decode_frames(b64decode_chunks(body) if self.text else body)
        except ValueError as err:
            raise StreamError(grpc.StatusCode.INTERNAL, f"bad gRPC-Web request: {err}") from err
        data = [payload for flag, payload in frames if not flag & TRAILER_FLAG]
        if len(data) > 1:
            raise StreamError(grpc.StatusCode.INTERNAL, "expected one request message")
        if any(flag & _COMPRESSED_FLAG for flag, _ in frames):
            raise StreamError(grpc.StatusCode.UNIMPLEMENTED, "compressed messages not supported")
        try:
            return cls.FromString(data[0] if data else b"")
        except DecodeError as err:
            raise StreamError(grpc.StatusCode.INTERNAL, "cannot parse request message") from err

    def token(self) -> str:
        return bearer_token(self.request.headers.items())

    def error(self, code: grpc.StatusCode, message: str) -> web.Response:
        """Trailers-only reply: the status travels in the HTTP headers, the body is empty."""
        status = {"grpc-status": str(code.value[0])}
        if message:
            status["grpc-message"] = _percent_encode(message)
        return web.Response(status=200, headers=self.headers(**status))

    def unary(self, reply: Message) -> web.Response:
        body = self.out(encode_frame(reply.SerializeToString())) + self.out(
            encode_trailers(grpc.StatusCode.OK)
        )
        return web.Response(status=200, body=body, headers=self.headers())


class _GrpcWeb:
    """The handlers, bound to one PoseStreamServer."""

    def __init__(self, server: PoseStreamServer) -> None:
        self.server = server
        self.limit = server.config.max_streams
        # One waiting thread per live Subscribe (Subscription blocks on a threading.Condition);
        # the pool is the cap, so a call past it is refused rather than starved.
        self.pool = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix="grpc-web")
        self.live: set[Subscription] = set()

    async def list_sessions(self, call: _Call) -> web.StreamResponse:
        await call.message(pb.ListSessionsRequest)
        return call.unary(pb.ListSessionsResponse(sessions=self.server.sessions_for(call.token())))

    async def get_session_info(self, call: _Call) -> web.StreamResponse:
        req = await call.message(pb.GetSessionInfoRequest)
        return call.unary(self.server.authorize(req.session_id, call.token()).info)

    async def subscribe(self, call: _Call) -> web.StreamResponse:
        req = await call.message(pb.SubscribeRequest)
        hub: SessionHub = self.server.authorize(req.session_id, call.token())
        slot = self.server.take_stream_slot(TRANSPORT, req.session_id, call.token())
        try:
            return await self._stream(call, hub)
        finally:
            self.server.release_stream_slot(slot)

    async def _stream(self, call: _Call, hub: SessionHub) -> web.StreamResponse:
        sub = hub.subscribe(peer=f"grpc-web:{call.request.remote}")
        resp = web.StreamResponse(status=200, headers=call.headers(**{"Cache-Control": "no-cache"}))
        resp.headers["X-Accel-Buffering"] = "no"  # nginx in front: do not buffer the stream
        self.live.add(sub)
        try:
            await resp.prepare(call.request)  # headers now: the client knows the call is live
            loop = asyncio.get_running_loop()
            while True:
                data = await loop.run_in_executor(self.pool, sub.next_bytes, _POLL_S)
                if data is None:
                    if not sub.stats().active:
                        # Finished without StreamEnd: closed by our shutdown hook.
                        await resp.write(
                            call.out(encode_trailers(grpc.StatusCode.UNAVAILABLE, "shutting down"))
                        )
                        break
                    transport = call.request.transport
                    if transport is None or transport.is_closing():
                        return resp  # client went away while the session was idle
                    continue
                await resp.write(call.out(encode_frame(data)))  # waits while the client is slow
                if data[:1] == _STREAM_END_TAG:  # the last message: the call completes with OK
                    await resp.write(call.out(encode_trailers(grpc.StatusCode.OK)))
                    break
            await resp.write_eof()
            return resp
        except ConnectionResetError:
            return resp  # client went away mid-write: nothing more to send
        finally:
            sub.close()  # idempotent; also wakes a worker still blocked in next_bytes
            self.live.discard(sub)

    async def close(self, _app: web.Application | None = None) -> None:
        for sub in list(self.live):
            sub.close()

    async def cleanup(self, _app: web.Application | None = None) -> None:
        await self.close()
        self.pool.shutdown(wait=False, cancel_futures=True)


_STATE_KEY = web.AppKey("coach_grpc_web", _GrpcWeb)
Handler = Callable[[_GrpcWeb, _Call], Awaitable[web.StreamResponse]]
METHODS: dict[str, Handler] = {
    "ListSessions": _GrpcWeb.list_sessions,
    "GetSessionInfo": _GrpcWeb.get_session_info,
    "Subscribe": _GrpcWeb.subscribe,
}


def add_grpc_web_routes(app: web.Application, server: PoseStreamServer) -> None:
    """Serve ``/coach.v1.PoseStream/{ListSessions,GetSessionInfo,Subscribe}`` as gRPC-Web on
    ``app`` (plus CORS preflight), for the sessions hosted by ``server``. Call before the app
    starts; open streams are closed when the app shuts down (sessions themselves are not)."""
    state = _GrpcWeb(server)
    app[_STATE_KEY] = state
    app.on_shutdown.append(state.close)
    app.on_cleanup.append(state.cleanup)

    async def handle(request: web.Request) -> web.StreamResponse:
        call = _Call(request)
        method = METHODS.get(request.match_info["method"])
        try:
            if method is None:
                raise StreamError(grpc.StatusCode.UNIMPLEMENTED, "unknown method")
            return await method(state, call)
        except StreamError as err:
            return call.error(err.code, err.message)

    async def preflight(_request: web.Request) -> web.Response:
        return web.Response(status=204, headers=CORS_HEADERS)

    path = "/" + SERVICE_NAME + "/{method}"
    app.router.add_post(path, handle)
    app.router.add_route("OPTIONS", path, preflight)
