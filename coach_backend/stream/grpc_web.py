"""Standalone gRPC-Web server for trying a headset or browser: the endpoint
(:mod:`.grpc_web_endpoint`) alone on an aiohttp app, without the dashboard or native gRPC::

    python -m coach_backend.stream.grpc_web --port 8080 [--token T]      # a synthetic body
    python -m coach_backend.recorder.grpc_web_replay --recording s.coachrec   # a recording
"""

# aiohttp, gRPC, numpy (and asyncio, ssl) are imported where they are used, once per server:
# `--help` answers before they load.
from __future__ import annotations

import argparse
import math
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hub import SessionHub
    from .server import PoseStreamServer


def run_standalone(
    server: PoseStreamServer,
    start_source: Callable[[], object],
    stop_source: Callable[[], object],
    *,
    host: str,
    port: int,
    banner: str,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> None:
    """Serve ``server``'s sessions over gRPC-Web alone (its native gRPC port is not started)
    until Ctrl-C. ``start_source`` (must not block) starts whatever publishes into the hubs;
    ``stop_source`` stops it at shutdown, before the sessions end. Used by :func:`main` and by
    ``python -m coach_backend.recorder.grpc_web_replay``."""
    import asyncio
    import ssl

    from aiohttp import web

    from .grpc_web_endpoint import add_grpc_web_routes

    app = web.Application()
    add_grpc_web_routes(app, server)

    async def on_startup(_app: web.Application) -> None:
        start_source()

    async def on_shutdown(_app: web.Application) -> None:
        stop_source()
        server.stop(grace=0)  # ends the sessions: subscribers get StreamEnd ...
        await asyncio.sleep(0.3)  # ... and a moment to send it before streams are closed

    app.on_startup.append(on_startup)
    app.on_shutdown.insert(0, on_shutdown)  # end sessions first: subscribers get StreamEnd
    ctx = None
    if tls_cert and tls_key:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(tls_cert, tls_key)
    scheme = "https" if ctx else "http"
    print(f"gRPC-Web on {scheme}://{host}:{port}  {banner}")
    web.run_app(app, host=host, port=port, ssl_context=ctx, print=None)


def add_standalone_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every standalone gRPC-Web server takes (this module's and the replay's)."""
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--session", default="demo", help="session id to host")
    parser.add_argument("--token", default=None, help="bearer token (default: random, printed)")
    parser.add_argument("--tls-cert", type=Path, default=None)
    parser.add_argument("--tls-key", type=Path, default=None)


def _demo_publisher(hub: SessionHub, fps: float, stop: threading.Event) -> Callable[[], None]:
    """A body waving its arms, published at ``fps`` from a thread (never blocks on clients)."""
    import numpy as np

    from .codec import NUM_JOINTS

    def run() -> None:
        t0 = time.monotonic()
        while not stop.is_set():
            t = time.monotonic() - t0
            rotvecs = np.zeros((NUM_JOINTS, 3))
            swing = 0.6 * math.sin(2 * math.pi * 0.5 * t)
            rotvecs[16, 2], rotvecs[17, 2] = -0.9 + swing, 0.9 - swing  # shoulders (z)
            rotvecs[0, 1] = 0.3 * math.sin(2 * math.pi * 0.1 * t)  # slow turn
            hub.publish_pose(rotvecs, np.array([0.0, 0.0, -2.5]))
            time.sleep(1.0 / fps)

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Standalone gRPC-Web PoseStream server with a synthetic body (a recording: "
        "python -m coach_backend.recorder.grpc_web_replay)."
    )
    add_standalone_arguments(parser)
    parser.add_argument("--fps", type=float, default=30.0, help="synthetic body's frame rate")
    args = parser.parse_args(argv)
    from .hub import make_session_info
    from .server import PoseStreamServer

    token = args.token or secrets.token_urlsafe(16)
    server = PoseStreamServer()  # sessions only; the native gRPC port is not started here
    hub = server.add_session(make_session_info(args.session, fps=args.fps), token)
    stop = threading.Event()
    publisher = threading.Thread(target=_demo_publisher(hub, args.fps, stop), daemon=True)
    run_standalone(
        server,
        publisher.start,
        stop.set,
        host=args.host,
        port=args.port,
        banner=f"session={args.session!r}  token={token}",
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )


if __name__ == "__main__":
    main()
