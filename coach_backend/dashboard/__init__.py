"""Coach dashboard: HTTP API, WebSocket pose stream and the bundled web app.

::

    config = ManagerConfig(recordings_dir, admin_token, token_ttl_s, pause_timeout_s,
                           waiting_timeout_s, max_sessions)  # serve.ServeConfig's defaults
    manager = SessionManager(config, grpc_server)
    web.run_app(create_app(manager), port=8080)

Sessions, tokens and lifecycle: ``sessions.py``; routes: ``app.py``; WebSocket message layout:
``wsproto.py``; web app sources: ``web/`` (bundled into ``static/`` by ``npm run build``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.dashboard.app import STATIC_DIR as STATIC_DIR
    from coach_backend.dashboard.app import create_app as create_app
    from coach_backend.dashboard.sessions import AuthError as AuthError
    from coach_backend.dashboard.sessions import ManagerConfig as ManagerConfig
    from coach_backend.dashboard.sessions import PipelineFactory as PipelineFactory
    from coach_backend.dashboard.sessions import Role as Role
    from coach_backend.dashboard.sessions import Session as Session
    from coach_backend.dashboard.sessions import SessionManager as SessionManager
    from coach_backend.dashboard.sessions import SessionState as SessionState
    from coach_backend.dashboard.sessions import SessionTokens as SessionTokens
    from coach_backend.dashboard.sessions import (
        default_pipeline_factory as default_pipeline_factory,
    )
    from coach_backend.dashboard.wsproto import MESSAGE_BYTES as MESSAGE_BYTES
    from coach_backend.dashboard.wsproto import pack_frame as pack_frame
    from coach_backend.dashboard.wsproto import unpack_frame as unpack_frame

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "app": ("STATIC_DIR", "create_app"),
        "sessions": (
            "AuthError",
            "ManagerConfig",
            "PipelineFactory",
            "Role",
            "Session",
            "SessionManager",
            "SessionState",
            "SessionTokens",
            "default_pipeline_factory",
        ),
        "wsproto": ("MESSAGE_BYTES", "pack_frame", "unpack_frame"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
