"""Ingest configuration: ICE servers (STUN/TURN, optional) and publisher liveness."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer


@dataclass(frozen=True)
class IceServerConfig:
    """One STUN/TURN server as in the W3C ``RTCIceServer`` dictionary."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    @classmethod
    def parse(cls, spec: str) -> IceServerConfig:
        """``URL[,username,credential]``, e.g. ``turn:turn.example.org:3478,alice,secret``."""
        url, *rest = spec.split(",", 2)
        if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
            raise ValueError(
                f"ICE server URL must start with stun:/stuns:/turn:/turns:, got {url!r}"
            )
        user = rest[0] if rest else None
        cred = rest[1] if len(rest) > 1 else None
        return cls((url,), user, cred)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
        if self.credential is not None:
            out["credential"] = self.credential
        return out


@dataclass(frozen=True)
class IngestConfig:
    # Empty by default: host candidates are enough on a LAN / loopback, and an empty list keeps
    # aiortc from silently falling back to a public Google STUN server.
    ice_servers: tuple[IceServerConfig, ...] = ()
    frame_timeout_s: float = 5.0  # publisher counts as gone after this long without a frame
    connect_timeout_s: float = 20.0  # ... or if no frame arrives this long after the answer
    # Coaches watching one session's video at once: each costs one video encode per frame
    # (aiortc cannot forward packets; see viewer.py). More -> HTTP 429.
    max_video_viewers: int = 2

    def rtc_configuration(self) -> RTCConfiguration:
        return RTCConfiguration(
            iceServers=[
                RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
                for s in self.ice_servers
            ]
        )

    def browser_ice_servers(self) -> list[dict[str, Any]]:
        """The same list for the athlete page's ``RTCPeerConnection``."""
        return [s.to_json() for s in self.ice_servers]


def load_ice_servers(path: str | Path) -> tuple[IceServerConfig, ...]:
    """A JSON file holding ``[{"urls": [...] | "...", "username": ..., "credential": ...}]``."""
    raw = json.loads(Path(path).read_text())
    out = []
    for entry in raw:
        urls = entry["urls"]
        out.append(
            IceServerConfig(
                tuple([urls] if isinstance(urls, str) else urls),
                entry.get("username"),
                entry.get("credential"),
            )
        )
    return tuple(out)


__all__ = ["IceServerConfig", "IngestConfig", "load_ice_servers"]
