"""Coach dashboard: HTTP API, WebSocket pose stream and the bundled web app.

::

    config = ManagerConfig(recordings_dir, admin_token, token_ttl_s, pause_timeout_s,
                           waiting_timeout_s, max_sessions)  # serve.ServeConfig's defaults
    manager = SessionManager(config, grpc_server)
    web.run_app(create_app(manager), port=8080)

Sessions, tokens and lifecycle: ``sessions.py``; routes: ``app.py``; WebSocket message layout:
``wsproto.py``; web app sources: ``web/`` (bundled into ``static/`` by ``npm run build``).
"""

from .app import STATIC_DIR, create_app
from .sessions import (
    AuthError,
    ManagerConfig,
    PipelineFactory,
    Role,
    Session,
    SessionManager,
    SessionState,
    SessionTokens,
    default_pipeline_factory,
)
from .wsproto import MESSAGE_BYTES, pack_frame, unpack_frame

__all__ = [
    "MESSAGE_BYTES",
    "STATIC_DIR",
    "AuthError",
    "ManagerConfig",
    "PipelineFactory",
    "Role",
    "Session",
    "SessionManager",
    "SessionState",
    "SessionTokens",
    "create_app",
    "default_pipeline_factory",
    "pack_frame",
    "unpack_frame",
]
