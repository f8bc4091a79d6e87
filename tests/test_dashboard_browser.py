"""Headless Chromium drives the athlete page (fake camera = the rendered clip as .y4m) and, in a
second browser context, the coach's live page; the avatar and the angle plots must update. The
coach then ends the session and the replay page plays the recording and seeks on its timeline.
A third page shows a reference ghost (a recording of squats) beside the live athlete; the ended
session's report is linked from the live page.

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
from ghost_support import write_squats
from live_support import ADMIN, http, make_clip, running_server

from coach_backend.analytics.synthetic import RepTiming
from coach_backend.ingest import IngestConfig

pytestmark = pytest.mark.slow

SCRIPT = WEB / "e2e" / "dashboard.e2e.mjs"


@pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or "")
def test_browser_publishes_and_dashboard_updates(tmp_path: Path):
    _, y4m = make_clip(tmp_path)
    out = tmp_path / "shots"
    out.mkdir()
    with running_server(tmp_path, ingest=IngestConfig(frame_timeout_s=5.0)) as st:
        reference, peaks = _reference(st)
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
            "reference": reference,
            "adminToken": ADMIN,
            "peaksS": peaks,
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
    # (640x480 sent; Chromium's encoder scales it down while the CPU is overused, 4:3 kept)
    width, height = result["liveVideo"]["width"], result["liveVideo"]["height"]
    assert 0 < width <= 640 and width * 3 == height * 4, result["liveVideo"]
    assert result["replay"]["videoReady"] >= 2
    assert result["replay"]["videoTime"] == pytest.approx(result["replay"]["position"], abs=1.0)
    # The reference ghost plays beside the live athlete: its reps loop from Show.
    ghost = result["ghost"]
    assert ghost["visible"] and ghost["shown"]["aligned"] == "loop"
    assert ghost["shown"]["elapsedS"] > 1 and ghost["shown"]["index"] > 0
    assert ghost["state"].startswith(f"{reference}: its reps")
    # The ended session's report (written by the server as it ended) is linked from its page.
    sid, coach_token = body["session_id"], body["tokens"]["coach"]
    assert result["reportLink"] == f"/api/sessions/{sid}/report?token={coach_token}"
    # COACH_SCREENSHOT_DIR=docs refreshes docs/dashboard.png: video, rep counter, avatar, ghost.
    keep = os.environ.get("COACH_SCREENSHOT_DIR")
    if keep:
        shutil.copy(out / "dashboard_ghost.png", Path(keep) / "dashboard.png")


def _reference(st) -> tuple[str, list[float]]:
    """A session whose recording holds three squats, ended (its summary finds the reps): the
    ghost's reference. Returns its id and its reps' bottoms (s from its first frame)."""
    status, created = http("POST", f"{st.base}/api/sessions", ADMIN)
    assert status == 201
    sid = created["session_id"]
    write_squats(st.server.manager.get(sid).recorder, [RepTiming(1.0, 0.3, 1.0, 0.6)] * 3)
    assert http("POST", f"{st.base}/api/sessions/{sid}/end", ADMIN)[0] == 200
    summary = st.server.config.recordings_dir / f"{sid}.summary.json"
    reps = json.loads(summary.read_text())["session"]["reps"]["reps"]
    assert len(reps) == 3
    return sid, [r["peak_s"] for r in reps]
