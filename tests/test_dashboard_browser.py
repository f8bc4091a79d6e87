"""Headless Chromium drives the athlete page (fake camera = the rendered clip as .y4m) and, in a
second browser context, the coach's live page; the avatar and the angle plots must update. The
coach then ends the session and the replay page plays the recording and seeks on its timeline.

Driven by playwright-core from npm (coach_backend/dashboard/web/e2e/dashboard.e2e.mjs) against
the Debian ``chromium``. Skips with the precise reason when Chromium, node or the npm packages
are missing (``make`` installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from browser_support import CHROMIUM, WEB, missing_browser
from live_support import ADMIN, http, make_clip, running_server

from coach_backend.ingest import IngestConfig

pytestmark = pytest.mark.slow

SCRIPT = WEB / "e2e" / "dashboard.e2e.mjs"


@pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or "")
def test_browser_publishes_and_dashboard_updates(tmp_path: Path):
    _, y4m = make_clip(tmp_path)
    out = tmp_path / "shots"
    out.mkdir()
    with running_server(tmp_path, ingest=IngestConfig(frame_timeout_s=5.0)) as st:
        status, body = http("POST", f"{st.base}/api/sessions", ADMIN)
        assert status == 201
        cfg = {
            "base": st.base,
            "session": body["session_id"],
            "athleteToken": body["tokens"]["athlete"],
            "coachToken": body["tokens"]["coach"],
            "chromium": CHROMIUM,
            "y4m": str(y4m),
            "outDir": str(out),
        }
        proc = subprocess.run(
            ["node", str(SCRIPT), json.dumps(cfg)], capture_output=True, text=True, timeout=150
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, (
        f"no result from the browser script (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    )
    result = json.loads(lines[-1])
    assert result["ok"], json.dumps(result, indent=1) + "\n" + proc.stderr[-3000:]
    coach = result["coach"]
    assert coach["valid"] and coach["knee"] > result["first"]["knee"]
    assert coach["nonBackgroundSamples"] > 50  # the avatar is drawn
    # The pipeline announced the settled body shape; the avatar took it on (mesh and skeleton).
    asset = json.loads((WEB.parent / "static" / "body.json").read_text())
    assert coach["betas"] is not None and len(coach["betas"]) == 10 and any(coach["betas"])
    assert coach["restJoint0"] != pytest.approx(asset["joints"][0], abs=1e-6)
    assert (out / "dashboard.png").stat().st_size > 10_000
    # The rep counter moved on as poses arrived, counted the clip's squats, and says what it
    # counts on (auto: the angle with the largest periodic range).
    reps = result["reps"]
    assert reps["later"]["frames"] > reps["first"]["frames"] and reps["later"]["count"] >= 2
    assert reps["later"]["shown"] == str(reps["later"]["count"])
    assert reps["later"]["exercise"] == "squat" and reps["later"]["how"].startswith("auto:")
    # Replay page: the recorded session plays and the timeline seeks.
    assert result["replay"]["duration"] > 1 and result["replay"]["frames"] >= 5
    # The athlete's video: relayed live beside the avatar, and the recording kept on the pose
    # timeline in replay (after a seek, within a second of the slider).
    assert (result["liveVideo"]["width"], result["liveVideo"]["height"]) == (640, 480)
    assert result["replay"]["videoReady"] >= 2
    assert result["replay"]["videoTime"] == pytest.approx(result["replay"]["position"], abs=1.0)
    keep = os.environ.get("COACH_SCREENSHOT_DIR")  # to refresh docs/dashboard.png by hand
    if keep:
        shutil.copy(out / "dashboard.png", Path(keep) / "dashboard.png")
