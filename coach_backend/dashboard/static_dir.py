"""Where the dashboard's web app is served from: ``static/`` (bundled from ``web/`` by ``npm run
build``; the avatar's ``body.bin`` written by ``export_body``). Standard library only, so
``export_body``'s ``--help`` names it without importing the server or torch."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
