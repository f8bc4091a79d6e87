"""gRPC ``coach.v1.PoseStream`` server hosting many sessions.

Threaded ``grpc.server``: each Subscribe call runs in a worker thread that blocks on its own
:class:`~coach_backend.stream.hub.Subscription` queue, so back-pressure from one client (HTTP/2 flow
control) only ever stalls that client's thread; the publisher just appends to bounded deques.

Limits (all in :class:`StreamConfig`): Subscribe streams are capped per token and session, per
session and in all, below ``max_workers``, so one client opening streams in a loop gets
RESOURCE_EXHAUSTED itself while every other call still finds a thread. Keepalive pings drop a
connection whose peer vanished (a headset switched off), which frees its streams.

Auth: per-session bearer tokens in the ``authorization`` metadata, and the server's admin token
(``StreamConfig.admin_token``) for every session. Missing/malformed -> UNAUTHENTICATED, unknown
session -> NOT_FOUND, wrong token (for ListSessions: a token that unlocks no session) ->
PERMISSION_DENIED. Tokens are only confidential with TLS (``StreamConfig.tls_cert``/``tls_key``).
"""

from __future__ import annotations

import hmac
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import grpc

from .hub import DEFAULT_QUEUE_SIZE, SessionHub, Subscription
from .proto_gen import coach_pb2 as pb

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PoseStream"].full_name  # "coach.v1.PoseStream"
NATIVE_TRANSPORT = "grpc"  # stream slots are counted per transport (see take_stream_slot)


@dataclass(frozen=True)
class StreamConfig:
    host: str = "127.0.0.1"  # "0.0.0.0" / "[::]" to serve a headset on the LAN
    port: int = 0  # 0 = pick a free port (see PoseStreamServer.port)
    queue_size: int = DEFAULT_QUEUE_SIZE  # per-subscriber frame queue
    tls_cert: Path | None = None  # PEM certificate chain; TLS is on when cert and key are set
    tls_key: Path | None = None  # PEM private key
    max_workers: int = 64  # threads = max concurrent RPCs of any kind
    # Subscribe streams (each holds a thread while open) per transport, below max_workers so
    # that unary calls always find a thread ...
    max_streams: int = 48
    max_streams_per_session: int = 16  # ... per session ...
    # ... and per token on one session: a headset needs one, two while it reconnects.
    max_streams_per_token: int = 4
    # Ping a connection after this long without traffic and drop it when the ping is not
    # answered in time: a vanished client's streams end and free their slots.
    keepalive_time_s: float = 20.0
    keepalive_timeout_s: float = 10.0
    # Unlocks every session, as it does over HTTP (None: no admin over gRPC).
    admin_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        limits = (self.queue_size, self.max_workers, self.max_streams,
                  self.max_streams_per_session, self.max_streams_per_token)  # fmt: skip
        if min(limits) < 1:
            raise ValueError("queue_size, max_workers and the stream limits must be >= 1")
        if self.max_streams >= self.max_workers:
            raise ValueError("max_streams must be below max_workers (unary calls need threads)")
        if not (self.keepalive_time_s > 0 and self.keepalive_timeout_s > 0):
            raise ValueError("keepalive times must be > 0")

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


class PoseStreamServer:
    """Hosts sessions over gRPC. ``start()`` then ``add_session``; ``stop()`` ends all sessions."""

    def __init__(self, config: StreamConfig | None = None) -> None:
        self.config = config or StreamConfig()
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[SessionHub, tuple[str, ...]]] = {}
        self._server: grpc.Server | None = None
        self._port: int | None = None
        # Open Subscribe streams of every transport: slot id -> (transport, session, token).
        self._streams: dict[int, tuple[str, str, str]] = {}
        self._slot_ids = itertools.count()

    # -- session management --
    def add_session(
        self, info: pb.SessionInfo, token: str | Iterable[str], queue_size: int | None = None
    ) -> SessionHub:
        """Create and host a hub for ``info``; clients must present ``Bearer <token>`` (any one
        of several tokens, e.g. a coach's and a read-only viewer's)."""
        hub = SessionHub(info, self.config.queue_size if queue_size is None else queue_size)
        self.add_hub(hub, token)
        return hub

    def add_hub(self, hub: SessionHub, token: str | Iterable[str]) -> None:
        tokens = (token,) if isinstance(token, str) else tuple(token)
        if not tokens or not all(tokens):
            raise ValueError("an access token is required")
        with self._lock:
            if hub.session_id in self._sessions:
                raise ValueError(f"session {hub.session_id!r} already exists")
            self._sessions[hub.session_id] = (hub, tokens)

    def remove_session(self, session_id: str, reason: str = "session removed") -> None:
        """Stop hosting a session (ending it first, so its subscribers get StreamEnd)."""
        with self._lock:
            entry = self._sessions.pop(session_id, None)
        if entry is not None:
            entry[0].end(reason)

    def hub(self, session_id: str) -> SessionHub:
        with self._lock:
            return self._sessions[session_id][0]

    def session_ids(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    # -- lifecycle --
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.port}"

    def start(self) -> int:
        """Bind and start serving; returns the bound port."""
        cfg = self.config
        server = grpc.server(
            ThreadPoolExecutor(max_workers=cfg.max_workers, thread_name_prefix="pose-stream"),
            handlers=[self._generic_handler()],
            maximum_concurrent_rpcs=cfg.max_workers,
            options=[
                ("grpc.so_reuseport", 0),  # a taken port must fail, not be shared
                ("grpc.keepalive_time_ms", int(cfg.keepalive_time_s * 1000)),
                ("grpc.keepalive_timeout_ms", int(cfg.keepalive_timeout_s * 1000)),
                # (current grpc times a keepalive ping out by this one; its default is 60 s)
                ("grpc.http2.ping_timeout_ms", int(cfg.keepalive_timeout_s * 1000)),
                # A paused session sends no data for minutes: keep pinging all the same.
                ("grpc.http2.max_pings_without_data", 0),
                # Clients may ping as often as we do (the default, 5 min, would cut them off).
                (
                    "grpc.http2.min_recv_ping_interval_without_data_ms",
                    int(cfg.keepalive_time_s * 1000),
                ),
            ],
        )
        target = f"{cfg.host}:{cfg.port}"
        if cfg.tls:
            assert cfg.tls_cert is not None and cfg.tls_key is not None
            creds = grpc.ssl_server_credentials(
                [(Path(cfg.tls_key).read_bytes(), Path(cfg.tls_cert).read_bytes())]
            )
            port = server.add_secure_port(target, creds)
        else:
            port = server.add_insecure_port(target)
        if port == 0:
            raise OSError(f"could not bind {target}")
        server.start()
        self._server, self._port = server, port
        return port

    def stop(self, grace: float | None = 2.0, reason: str = "server shutting down") -> None:
        """End every session (clients get StreamEnd), then stop gRPC after ``grace`` seconds."""
        with self._lock:
            hubs = [hub for hub, _ in self._sessions.values()]
        for hub in hubs:
            hub.end(reason)
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None

    def __enter__(self) -> PoseStreamServer:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- RPCs --
    def _generic_handler(self) -> grpc.GenericRpcHandler:
        # Hand-built instead of add_PoseStreamServicer_to_server so that Subscribe can send the
        # hub's pre-serialized bytes as-is (serialize once per frame, not once per subscriber).
        return grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "ListSessions": grpc.unary_unary_rpc_method_handler(
                    self._list_sessions,
                    request_deserializer=pb.ListSessionsRequest.FromString,
                    response_serializer=pb.ListSessionsResponse.SerializeToString,
                ),
                "GetSessionInfo": grpc.unary_unary_rpc_method_handler(
                    self._get_session_info,
                    request_deserializer=pb.GetSessionInfoRequest.FromString,
                    response_serializer=pb.SessionInfo.SerializeToString,
                ),
                "Subscribe": grpc.unary_stream_rpc_method_handler(
                    self._subscribe,
                    request_deserializer=pb.SubscribeRequest.FromString,
                    response_serializer=None,  # yields an already serialized StreamMessage
                ),
            },
        )

    # -- transport-neutral auth and limits (native gRPC and gRPC-Web, grpc_web_endpoint.py) --
    def sessions_for(self, token: str) -> list[pb.SessionInfo]:
        """SessionInfos of the sessions that ``token`` unlocks (ListSessions): all of them for
        the admin token; :class:`StreamError` PERMISSION_DENIED for a token that unlocks none
        (as HTTP answers 403)."""
        admin = self._is_admin(token)
        with self._lock:
            hubs = [hub for hub, tok in self._sessions.values() if admin or _token_ok(token, tok)]
        if not hubs and not admin:
            raise StreamError(grpc.StatusCode.PERMISSION_DENIED, "token unlocks no session")
        return [hub.info for hub in hubs]

    def authorize(self, session_id: str, token: str) -> SessionHub:
        """The hub of ``session_id`` if ``token`` is valid for it, else :class:`StreamError`
        NOT_FOUND (unknown session) or PERMISSION_DENIED (wrong token)."""
        with self._lock:
            entry = self._sessions.get(session_id)
        if entry is None:
            raise StreamError(grpc.StatusCode.NOT_FOUND, f"unknown session {session_id!r}")
        hub, expected = entry
        if not (_token_ok(token, expected) or self._is_admin(token)):
            raise StreamError(grpc.StatusCode.PERMISSION_DENIED, "token not valid for this session")
        return hub

    def take_stream_slot(self, transport: str, session_id: str, token: str) -> int:
        """Reserve a slot for one Subscribe stream, or :class:`StreamError` RESOURCE_EXHAUSTED
        when ``token`` already holds ``max_streams_per_token`` streams on the session, the
        session ``max_streams_per_session``, or ``transport`` ``max_streams``. Give it back
        with :meth:`release_stream_slot` when the stream ends."""
        cfg = self.config
        with self._lock:
            open_now = self._streams.values()
            per_token = sum(1 for _, sid, tok in open_now if (sid, tok) == (session_id, token))
            per_session = sum(1 for _, sid, _ in open_now if sid == session_id)
            per_transport = sum(1 for tr, _, _ in open_now if tr == transport)
            limits = (
                (per_token, cfg.max_streams_per_token, "this token"),
                (per_session, cfg.max_streams_per_session, "this session"),
                (per_transport, cfg.max_streams, "the server"),
            )
            for used, limit, whose in limits:
                if used >= limit:
                    raise StreamError(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"too many open streams for {whose} ({limit}); close one first",
                    )
            slot = next(self._slot_ids)
            self._streams[slot] = (transport, session_id, token)
            return slot

    def release_stream_slot(self, slot: int) -> None:
        """Idempotent (a stream may end by several paths at once)."""
        with self._lock:
            self._streams.pop(slot, None)

    def _is_admin(self, token: str) -> bool:
        admin = self.config.admin_token
        return admin is not None and _token_ok(token, (admin,))

    # -- native gRPC RPCs --
    def _list_sessions(
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        sessions = _grpc_call(
            context, lambda: self.sessions_for(bearer_token(context.invocation_metadata()))
        )
        return pb.ListSessionsResponse(sessions=sessions)

    def _get_session_info(
        self, request: pb.GetSessionInfoRequest, context: grpc.ServicerContext
    ) -> pb.SessionInfo:
        return self._authorize(request.session_id, context).info

    def _subscribe(
        self, request: pb.SubscribeRequest, context: grpc.ServicerContext
    ) -> Iterator[bytes]:
        hub = self._authorize(request.session_id, context)
        token = bearer_token(context.invocation_metadata())  # valid: _authorize checked it
        slot = _grpc_call(
            context, lambda: self.take_stream_slot(NATIVE_TRANSPORT, request.session_id, token)
        )
        sub: Subscription | None = None
        try:
            sub = hub.subscribe(peer=context.peer())
            # Client cancel / deadline / dead connection (keepalive) / server stop: close()
            # wakes the thread blocked in next_bytes; the slot is free at once.
            context.add_callback(sub.close)
            context.add_callback(lambda: self.release_stream_slot(slot))
            while (data := sub.next_bytes()) is not None:
                yield data
        finally:
            if sub is not None:
                sub.close()
            self.release_stream_slot(slot)

    def _authorize(self, session_id: str, context: grpc.ServicerContext) -> SessionHub:
        return _grpc_call(
            context,
            lambda: self.authorize(session_id, bearer_token(context.invocation_metadata())),
        )


class StreamError(Exception):
    """A call failed with a gRPC status; each transport turns it into its own error reply."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The token of the ``authorization: Bearer <token>`` metadata entry (keys lower-case, as
    gRPC and HTTP/2 deliver them), else :class:`StreamError` UNAUTHENTICATED."""
    for key, value in metadata or ():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    raise StreamError(grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer <token>'")


_T = TypeVar("_T")


def _grpc_call(context: grpc.ServicerContext, fn: Callable[[], _T]) -> _T:
    try:
        return fn()
    except StreamError as err:
        context.abort(err.code, err.message)
        raise AssertionError("unreachable") from err  # abort raises


def _token_ok(presented: str, expected: tuple[str, ...]) -> bool:
    # Constant time per token, and every token is compared (no early exit on a match).
    results = [hmac.compare_digest(presented.encode(), tok.encode()) for tok in expected]
    return any(results)
