"""What the browser tests need: the Debian Chromium and playwright-core from npm (in the
dashboard's web folder, where the driving scripts live)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "coach_backend" / "dashboard" / "web"
CHROMIUM = os.environ.get("COACH_CHROMIUM", "/usr/bin/chromium")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (None: they can); `make` installs what they need."""
    if not Path(CHROMIUM).is_file():
        return f"Chromium not found at {CHROMIUM} (Debian package 'chromium')"
    if shutil.which("node") is None:
        return "node not on PATH"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return f"playwright-core not installed: run `npm ci` in {WEB}"
    return None
