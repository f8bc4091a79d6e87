"""Live server: ``python -m coach_backend.serve [--http-port 8080] [--grpc-port 50051] ...``

One process, one asyncio loop: aiohttp (API, dashboard, WebSocket) + aiortc (WebRTC ingest);
gRPC pose streaming runs in its own thread pool. Each live session's pipeline runs in its own
worker thread. Prints the admin URL (the admin token creates and lists sessions).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from .dashboard import ManagerConfig, PipelineFactory, SessionManager, create_app
from .dashboard.sessions import default_pipeline_factory
from .ingest import IceServerConfig, IngestConfig, load_ice_servers
from .stream import PoseStreamServer, StreamConfig

log = logging.getLogger("coach_backend.serve")


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    http_port: int = 8080  # 0 = any free port
    grpc_port: int = 50051
    tls_cert: Path | None = None  # PEM; used by HTTPS/WSS and gRPC alike
    tls_key: Path | None = None
    recordings_dir: Path = Path("out/recordings")
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    ingest: IngestConfig = field(default_factory=IngestConfig)
    pause_timeout_s: float = 120.0
    token_ttl_s: float = 12 * 3600.0


class LiveServer:
    """The whole backend in-process (also used by tests and the benchmark)."""

    def __init__(
        self, config: ServeConfig, pipeline_factory: PipelineFactory | None = None
    ) -> None:
        self.config = config
        self.grpc = PoseStreamServer(
            StreamConfig(
                host=config.host,
                port=config.grpc_port,
                tls_cert=config.tls_cert,
                tls_key=config.tls_key,
            )  # fmt: skip
        )
        self.manager = SessionManager(
            ManagerConfig(
                recordings_dir=config.recordings_dir,
                admin_token=config.admin_token,
                ingest=config.ingest,
                pause_timeout_s=config.pause_timeout_s,
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
        self.grpc.start()
        self._runner = web.AppRunner(create_app(self.manager), handle_signals=False)
        await self._runner.setup()
        ssl_ctx = None
        if self.config.tls_cert and self.config.tls_key:
            ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_ctx.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        site = web.TCPSite(
            self._runner, self.config.host, self.config.http_port, ssl_context=ssl_ctx
        )
        await site.start()
        server = site._server
        assert server is not None
        self.http_port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # on_shutdown ends every session (recordings closed)
            self._runner = None
        await asyncio.get_running_loop().run_in_executor(None, self.grpc.stop)


def _parse_args(argv: list[str] | None = None) -> ServeConfig:
    p = argparse.ArgumentParser(prog="python -m coach_backend.serve", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="bind address (0.0.0.0 for the LAN)")
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--grpc-port", type=int, default=50051)
    p.add_argument("--tls-cert", type=Path, help="PEM certificate (HTTPS/WSS + gRPC TLS)")
    p.add_argument("--tls-key", type=Path, help="PEM private key")
    p.add_argument("--recordings", type=Path, default=Path("out/recordings"))
    p.add_argument(
        "--ice-server", action="append", default=[], metavar="URL[,USER,CREDENTIAL]",
        help="STUN/TURN server (repeatable), e.g. turn:turn.example.org:3478,alice,secret",
    )  # fmt: skip
    p.add_argument("--ice-config", type=Path, help="JSON list of RTCIceServer dictionaries")
    p.add_argument("--frame-timeout", type=float, default=5.0,
                   help="seconds without video before a publisher counts as gone")  # fmt: skip
    p.add_argument("--pause-timeout", type=float, default=120.0,
                   help="seconds a paused session waits for its athlete, then ends")  # fmt: skip
    p.add_argument("--admin-token", default=os.environ.get("COACH_ADMIN_TOKEN"),
                   help="admin key (default $COACH_ADMIN_TOKEN, else random)")  # fmt: skip
    a = p.parse_args(argv)
    if (a.tls_cert is None) != (a.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    ice = [IceServerConfig.parse(s) for s in a.ice_server]
    if a.ice_config:
        ice += load_ice_servers(a.ice_config)
    return ServeConfig(
        host=a.host, http_port=a.http_port, grpc_port=a.grpc_port, tls_cert=a.tls_cert,
        tls_key=a.tls_key, recordings_dir=a.recordings,
        admin_token=a.admin_token or secrets.token_urlsafe(24),
        ingest=IngestConfig(ice_servers=tuple(ice), frame_timeout_s=a.frame_timeout),
        pause_timeout_s=a.pause_timeout,
    )  # fmt: skip


async def _main(config: ServeConfig) -> None:
    server = LiveServer(config)
    await server.start()
    print(f"dashboard: {server.base_url}/?token={config.admin_token}", flush=True)
    print(f"gRPC pose stream: {config.host}:{server.grpc.port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: sessions end, recordings close
        asyncio.run(_main(config))


if __name__ == "__main__":
    main()
