"""Live server: ``python -m coach_backend.serve [--http-port 8080] [--grpc-port 50051] ...``

One process, one asyncio loop: aiohttp (API, dashboard, WebSocket, gRPC-Web) + aiortc (WebRTC
ingest); gRPC pose streaming runs in its own thread pool. Each live session's pipeline runs in its
own worker thread. Prints the admin URL (the admin token creates and lists sessions).

SIGTERM (systemd, Docker, Kubernetes) stops it as cleanly as Ctrl-C: every session ends and its
recording is closed with a StreamEnd. A start-up problem (port in use, TLS files, recordings
folder, ICE settings) is one line on stderr and exit status 1 (2 for bad arguments).
"""

from __future__ import annotations

# Only light imports here: `--help` and argument errors must not wait for torch, aiortc and
# friends (seconds). The server's modules are imported once the arguments are good.
import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import signal
import socket
import ssl
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from aiohttp import web

    from .dashboard import PipelineFactory
    from .ingest import IngestConfig

log = logging.getLogger("coach_backend.serve")
PROG = "python -m coach_backend.serve"


def _default_ingest() -> IngestConfig:
    from .ingest import IngestConfig

    return IngestConfig()


@dataclass(frozen=True)
class ServeConfig:
    """The live server's settings; the defaults here are the command line's defaults too."""

    host: str = "127.0.0.1"
    http_port: int = 8080  # 0 = any free port
    grpc_port: int = 50051
    tls_cert: Path | None = None  # PEM; used by HTTPS/WSS and gRPC alike
    tls_key: Path | None = None
    recordings_dir: Path = Path("out/recordings")
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    ingest: IngestConfig = field(default_factory=_default_ingest)
    pause_timeout_s: float = 120.0  # a paused session waits this long for its athlete
    waiting_timeout_s: float = 600.0  # a new session waits this long for its first athlete
    max_sessions: int = 32  # sessions at once; more -> HTTP 429
    token_ttl_s: float = 12 * 3600.0


class StartupError(Exception):
    """The server cannot start; the message is the one line the user sees."""


class LiveServer:
    """The whole backend in-process (also used by tests and the benchmark)."""

    def __init__(
        self, config: ServeConfig, pipeline_factory: PipelineFactory | None = None
    ) -> None:
        from .dashboard import ManagerConfig, SessionManager
        from .dashboard.sessions import default_pipeline_factory
        from .stream import PoseStreamServer, StreamConfig

        self.config = config
        _check_writable_dir(config.recordings_dir)
        self.grpc = PoseStreamServer(
            StreamConfig(
                host=config.host,
                port=config.grpc_port,
                tls_cert=config.tls_cert,
                tls_key=config.tls_key,
                admin_token=config.admin_token,  # the admin key works over gRPC as over HTTP
            )
        )
        self.manager = SessionManager(
            ManagerConfig(
                recordings_dir=config.recordings_dir,
                admin_token=config.admin_token,
                ingest=config.ingest,
                pause_timeout_s=config.pause_timeout_s,
                waiting_timeout_s=config.waiting_timeout_s,
                max_sessions=config.max_sessions,
                token_ttl_s=config.token_ttl_s,
            ),
            self.grpc,
            pipeline_factory or default_pipeline_factory(),
        )
        self._runner: web.AppRunner | None = None
        self.http_port = 0

    @property
    def base_url(self) -> str:
        scheme = "https" if self.config.tls_cert else "http"
        return f"{scheme}://{self.config.host}:{self.http_port}"

    async def start(self) -> None:
        """Listen on both ports; :class:`StartupError` if that is impossible (call ``stop``
        then: part of it may be running)."""
        from aiohttp import web

        from .dashboard import create_app
        from .dashboard.app import RedactingAccessLogger

        cfg = self.config
        ssl_ctx = _tls_context(cfg.tls_cert, cfg.tls_key)  # first: gRPC reads the same files
        _check_port_free(cfg.host, cfg.grpc_port, "gRPC")  # (gRPC's own error is a log dump)
        try:
            self.grpc.start()
        except (RuntimeError, OSError) as exc:
            raise StartupError(f"cannot serve gRPC on {cfg.host}:{cfg.grpc_port}: {exc}") from exc
        self._runner = web.AppRunner(
            create_app(self.manager),
            handle_signals=False,
            access_log_class=RedactingAccessLogger,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, cfg.host, cfg.http_port, ssl_context=ssl_ctx)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {cfg.host}:{cfg.http_port} (HTTP): {_why(exc)}"
            ) from exc
        server = site._server
        assert server is not None
        self.http_port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # on_shutdown ends every session (recordings closed)
            self._runner = None
        await asyncio.get_running_loop().run_in_executor(None, self.grpc.stop)


def _check_writable_dir(path: Path) -> None:
    # Found now rather than when the first session tries to record.
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StartupError(f"recordings folder {path} is not writable: {_why(exc)}") from exc


def _tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None or key is None:
        return None
    for path in (cert, key):  # (ssl's own error does not say which file)
        try:
            path.open("rb").close()
        except OSError as exc:
            raise StartupError(f"TLS: cannot read {path}: {_why(exc)}") from exc
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise StartupError(f"TLS: {cert} / {key} is not a usable PEM pair: {exc}") from exc
    return ctx


def _check_port_free(host: str, port: int, what: str) -> None:
    if port == 0:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}:{port} ({what}): {exc}") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            probe.bind(address)
        except OSError as exc:
            raise StartupError(f"cannot listen on {host}:{port} ({what}): {_why(exc)}") from exc


def _why(exc: OSError) -> str:
    # The system's words ("Address already in use"), without the wrappers' repetitions.
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _usage_error(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _default(name: str) -> Any:
    return next(f.default for f in dataclasses.fields(ServeConfig) if f.name == name)


def _parse_args(argv: list[str] | None = None) -> ServeConfig:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("--host", default=_default("host"),
                   help="bind address (0.0.0.0 for the LAN)")  # fmt: skip
    p.add_argument("--http-port", type=int, default=_default("http_port"))
    p.add_argument("--grpc-port", type=int, default=_default("grpc_port"))
    p.add_argument("--tls-cert", type=Path, help="PEM certificate (HTTPS/WSS + gRPC TLS)")
    p.add_argument("--tls-key", type=Path, help="PEM private key")
    p.add_argument("--recordings", type=Path, default=_default("recordings_dir"))
    p.add_argument(
        "--ice-server", action="append", default=[], metavar="URL[,USER,CREDENTIAL]",
        help="STUN/TURN server (repeatable), e.g. turn:turn.example.org:3478,alice,secret",
    )  # fmt: skip
    p.add_argument("--ice-config", type=Path, help="JSON list of RTCIceServer dictionaries")
    p.add_argument("--frame-timeout", type=float, default=5.0,
                   help="seconds without video before a publisher counts as gone")  # fmt: skip
    p.add_argument("--pause-timeout", type=float, default=_default("pause_timeout_s"),
                   help="seconds a paused session waits for its athlete, then ends "
                        "(default %(default)g)")  # fmt: skip
    p.add_argument("--waiting-timeout", type=float, default=_default("waiting_timeout_s"),
                   help="seconds a new session waits for its first athlete, then ends "
                        "(default %(default)g)")  # fmt: skip
    p.add_argument("--max-sessions", type=int, default=_default("max_sessions"),
                   help="sessions at once; creating more answers 429 "
                        "(default %(default)d)")  # fmt: skip
    p.add_argument("--max-video-viewers", type=int,
                   help="coaches watching one session's live video at once; each costs one "
                        "video encode (default: IngestConfig.max_video_viewers, 2)")  # fmt: skip
    p.add_argument("--admin-token", default=os.environ.get("COACH_ADMIN_TOKEN"),
                   help="admin key (default $COACH_ADMIN_TOKEN, else random)")  # fmt: skip
    a = p.parse_args(argv)
    if (a.tls_cert is None) != (a.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    if min(a.pause_timeout, a.waiting_timeout, a.frame_timeout) <= 0 or a.max_sessions < 1:
        _usage_error("timeouts must be > 0 and --max-sessions >= 1")
    if a.max_video_viewers is not None and a.max_video_viewers < 0:
        _usage_error("--max-video-viewers must be >= 0")

    from .ingest import IceServerConfig, IngestConfig, load_ice_servers  # heavy: aiortc

    try:
        ice = [IceServerConfig.parse(s) for s in a.ice_server]
    except ValueError as exc:
        _usage_error(f"--ice-server: {exc}")
    if a.ice_config:
        try:
            ice += load_ice_servers(a.ice_config)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _usage_error(f"--ice-config {a.ice_config}: {exc}")
    return ServeConfig(
        host=a.host, http_port=a.http_port, grpc_port=a.grpc_port, tls_cert=a.tls_cert,
        tls_key=a.tls_key, recordings_dir=a.recordings,
        admin_token=a.admin_token or secrets.token_urlsafe(24),
        ingest=IngestConfig(ice_servers=tuple(ice), frame_timeout_s=a.frame_timeout,
                            **({} if a.max_video_viewers is None
                               else {"max_video_viewers": a.max_video_viewers})),
        pause_timeout_s=a.pause_timeout, waiting_timeout_s=a.waiting_timeout,
        max_sessions=a.max_sessions,
    )  # fmt: skip


async def _main(config: ServeConfig) -> None:
    server = LiveServer(config)
    try:
        await server.start()
        print(f"dashboard: {server.base_url}/?token={config.admin_token}", flush=True)
        print(f"gRPC pose stream: {config.host}:{server.grpc.port}", flush=True)
        stop = asyncio.Event()
        # SIGTERM ends the wait like Ctrl-C does (asyncio.run cancels us on SIGINT): the
        # finally below then ends every session and closes its recording.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        log.info("SIGTERM: shutting down")
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = _parse_args(argv)
    from .dashboard.native_heap import limit_malloc_arenas  # (heavy: after argument errors)

    # Before the server's threads exist: each session's threads would otherwise get malloc
    # arenas of their own, which keep what they freed (see native_heap).
    limit_malloc_arenas()
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: sessions end, recordings close
            asyncio.run(_main(config))
    except StartupError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
