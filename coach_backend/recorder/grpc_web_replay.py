"""Standalone gRPC-Web server replaying a recording, for trying a headset or browser on it.

    python -m coach_backend.recorder.grpc_web_replay --recording s.coachrec [--port P] [--token T]

Lives in the recorder package, not in ``stream``: the recorder sits above the stream (it records
hubs), so the stream never imports it. The server itself is ``stream.grpc_web.run_standalone``.
"""

# The server and the replay (gRPC, numpy) are imported once the arguments are parsed: `--help`
# answers before they load.
from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from ..stream.grpc_web import add_standalone_arguments, run_standalone


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", type=Path, required=True, help=".coachrec to replay")
    add_standalone_arguments(parser)
    args = parser.parse_args(argv)
    from ..stream.server import PoseStreamServer
    from .replay import ReplayThread, recorded_session_info

    token = args.token or secrets.token_urlsafe(16)
    server = PoseStreamServer()  # sessions only; the native gRPC port is not started here
    hub = server.add_session(recorded_session_info(args.recording, args.session, at_frame=0), token)
    worker = ReplayThread(args.recording, hub)
    run_standalone(
        server,
        worker.start,
        worker.stop,
        host=args.host,
        port=args.port,
        banner=f"session={args.session!r}  token={token}  replaying {args.recording}",
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )


if __name__ == "__main__":
    main()
