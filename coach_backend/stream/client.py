"""Small blocking client for ``coach.v1.PoseStream`` (dashboard, recorder, tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from .proto_gen import coach_pb2 as pb
from .proto_gen import coach_pb2_grpc as pb_grpc


class PoseStreamClient:
    """``PoseStreamClient("host:port", token)``; pass ``root_cert`` (PEM path or bytes) for TLS."""

    def __init__(
        self,
        target: str,
        token: str | None,
        *,
        root_cert: Path | bytes | None = None,
        tls_server_name: str | None = None,
        options: list[tuple[str, Any]] | None = None,
    ) -> None:
        opts = list(options or [])
        if root_cert is not None:
            pem = root_cert if isinstance(root_cert, bytes) else Path(root_cert).read_bytes()
            if tls_server_name:  # connect by IP while verifying the certificate's DNS name
                opts.append(("grpc.ssl_target_name_override", tls_server_name))
            self.channel = grpc.secure_channel(
                target, grpc.ssl_channel_credentials(root_certificates=pem), options=opts
            )
        else:
            self.channel = grpc.insecure_channel(target, options=opts)
        self._stub = pb_grpc.PoseStreamStub(self.channel)
        self._metadata = () if token is None else (("authorization", f"Bearer {token}"),)

    def list_sessions(self, timeout: float | None = 10.0) -> list[pb.SessionInfo]:
        reply = self._stub.ListSessions(
            pb.ListSessionsRequest(), metadata=self._metadata, timeout=timeout
        )
        return list(reply.sessions)

    def get_session_info(self, session_id: str, timeout: float | None = 10.0) -> pb.SessionInfo:
        return self._stub.GetSessionInfo(
            pb.GetSessionInfoRequest(session_id=session_id), metadata=self._metadata,
            timeout=timeout,
        )  # fmt: skip

    def subscribe(
        self, session_id: str, timeout: float | None = None
    ) -> Iterator[pb.StreamMessage]:
        """Server stream: SessionInfo, PoseFrames..., StreamEnd. ``.cancel()`` on the returned
        object stops it early; errors raise ``grpc.RpcError`` on iteration."""
        return self._stub.Subscribe(
            pb.SubscribeRequest(session_id=session_id), metadata=self._metadata, timeout=timeout
        )

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> PoseStreamClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
