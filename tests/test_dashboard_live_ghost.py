"""The reference ghost in headless Chromium, on the live page and on the replay page.

A real server over loopback; the sessions' poses come from the test instead of a camera (known
squat sets, encoded to the wire format, published to the session's hub and written by its
recorder, as the pipeline does), so what the ghost must show at each live pose is known:

- live: the reference's reps (the span its end-of-session summary gives) loop from the moment
  the coach presses Show, paced by the live poses' capture times; Restart starts them again;
- replay: the reference time the DTW map gives for the shown take time;
- the session list links an ended session's report, which opens.

Driven by playwright-core (coach_backend/dashboard/web/e2e/ghost.e2e.mjs) against the Debian
``chromium``. COACH_SCREENSHOT_DIR keeps the two screenshots.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analytics_support import VARIED_SET
from browser_support import CHROMIUM, WEB, missing_browser
from ghost_support import pose_frame, squat_poses, write_squats
from live_support import ADMIN, ServerThread, http

from coach_backend.recorder import read_recording
from coach_backend.serve import ServeConfig

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or ""),
]

SCRIPT = WEB / "e2e" / "ghost.e2e.mjs"
FPS = 30.0
LOOPS = 2  # the live ghost must wrap this many times


class _IdlePipeline:
    """No camera: the test writes the sessions' poses."""

    def submit(self, frame_bgr: Any, capture_time_us: int, on_result: Any = None) -> None:
        raise AssertionError("no frames expected")

    def close(self, reason: str) -> None:
        pass


def _recorded_session(st: ServerThread, timings: list, **kw: Any) -> dict[str, str]:
    """A session whose recording holds a squat set, then ended (so the server writes its
    summary and report, as at the end of any live session)."""
    status, created = http("POST", f"{st.base}/api/sessions", ADMIN)
    assert status == 201
    sid = created["session_id"]
    session = st.server.manager.get(sid)
    assert session is not None and session.recorder is not None
    write_squats(session.recorder, timings, **kw)
    assert http("POST", f"{st.base}/api/sessions/{sid}/end", ADMIN)[0] == 200
    return {"id": sid, **created["tokens"]}


def _rep_peaks(summary: Path) -> list[float]:
    """The reference's rep bottoms (s from its first frame): the live screenshot waits for the
    ghost near one, so that it shows a squat rather than a stand."""
    return [r["peak_s"] for r in json.loads(summary.read_text())["session"]["reps"]["reps"]]


class _LiveAthlete:
    """Publishes a squat set over and over to a live session's hub (and its recording and rep
    counter, as the pipeline's results do) at FPS, with capture times from the clock."""

    def __init__(self, st: ServerThread, sid: str) -> None:
        self.session = st.server.manager.get(sid)
        assert self.session is not None and self.session.hub is not None
        _, self.poses = squat_poses(VARIED_SET[:3], speed=0.8)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        session, i = self.session, 0
        while not self.stop.wait(1.0 / FPS):
            pose = self.poses[i % len(self.poses)]
            frame = pose_frame(i, time.time_ns() // 1000, pose)
            session.hub.publish(frame)
            session.recorder.append(frame)
            session.reps.add(frame.pose, frame.capture_time_us)
            i += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


def test_ghost_on_the_live_and_replay_pages(tmp_path: Path) -> None:
    cfg = ServeConfig(
        http_port=0, grpc_port=0, recordings_dir=tmp_path / "recordings", admin_token=ADMIN
    )
    st = ServerThread(cfg, lambda sid, hub, rec: _IdlePipeline())
    out = tmp_path / "shots"
    out.mkdir()
    try:
        reference = _recorded_session(st, VARIED_SET[:3])
        # The take: the reference's squats, slower and unevenly so, 30 deg less deep.
        take = _recorded_session(st, VARIED_SET[:3], speed=0.7, warp=True, knee_deg=80.0)
        status, created = http("POST", f"{st.base}/api/sessions", ADMIN)
        assert status == 201
        live_id = created["session_id"]
        athlete = _LiveAthlete(st, live_id)
        try:
            spec = {
                "base": st.base, "live": live_id, "take": take["id"],
                "reference": reference["id"], "token": ADMIN, "chromium": CHROMIUM,
                "outDir": str(out), "loops": LOOPS, "replayAt": 0.3,
                "peaksS": _rep_peaks(cfg.recordings_dir / f"{reference['id']}.summary.json"),
            }  # fmt: skip
            proc = subprocess.run(
                ["node", str(SCRIPT), json.dumps(spec)], capture_output=True, text=True,
                timeout=240,
            )  # fmt: skip
        finally:
            athlete.close()
        dtw_map = http(
            "GET", f"{st.base}/api/compare?reference={reference['id']}&take={take['id']}", ADMIN
        )[1]
    finally:
        st.stop()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    seen = json.loads(lines[-1])
    assert seen["ok"], json.dumps(seen, indent=1)[-3000:] + "\n" + proc.stderr[-3000:]

    recordings = cfg.recordings_dir
    ref_times = np.array(
        [
            f.capture_time_us
            for f in read_recording(recordings / f"{reference['id']}.coachrec").frames
        ],
        np.float64,
    )
    # The loop is the reference's reps, as its end-of-session summary found them.
    summary = json.loads((recordings / f"{reference['id']}.summary.json").read_text())
    reps = summary["session"]["reps"]["reps"]
    assert len(reps) == 3
    start, end = reps[0]["start_s"], reps[-1]["end_s"]
    assert seen["frames"]["repsSpanS"] == pytest.approx([start, end])
    assert start > 0.2 and end < seen["frames"]["durationS"] - 0.2  # lead-in and tail cut off
    assert reference["id"] in seen["offered"] and "its reps" in seen["liveState"]

    def check_live(samples: list[dict]) -> None:
        """Each live pose showed the reference at its loop time, and that frame of it."""
        length = end - start
        for s in samples:
            assert s["aligned"] == "loop" and s["visible"] is True
            elapsed = (s["tUs"] - s["originUs"]) / 1e6
            assert s["elapsedS"] == pytest.approx(elapsed, abs=1e-9)
            assert s["referenceS"] == pytest.approx(start + math.fmod(elapsed, length), abs=1e-6)
            t_us = seen["frames"]["startUs"] + s["referenceS"] * 1e6
            assert s["index"] == int(np.searchsorted(ref_times, t_us, side="right")) - 1

    samples = seen["samples"]
    check_live(samples)
    assert (
        len({s["originUs"] for s in samples}) == 1 and samples[0]["originUs"] <= samples[0]["tUs"]
    )
    times = [s["tUs"] for s in samples]
    assert times == sorted(times) and samples[-1]["elapsedS"] > LOOPS * (end - start)
    # It plays (many reference frames shown) and wraps back to the first rep's start.
    assert len({s["index"] for s in samples}) > 50
    wraps = [
        b for a, b in zip(samples, samples[1:], strict=False) if b["referenceS"] < a["referenceS"]
    ]
    assert len(wraps) >= LOOPS and all(w["referenceS"] < start + 0.5 for w in wraps)
    # Drawn: the ghost's light blue appears on the canvas once it is shown.
    # (counted with the athlete's body hidden for one render: they overlap where poses agree)
    assert seen["pixelsBefore"] == 0 and seen["ghostPixels"] > 300, seen["ghostPixels"]

    # Restart: the loop starts again from the athlete's pose at that moment.
    after = seen["afterRestart"]
    assert after["restarts"] == 1
    check_live(after["samples"])
    origins = {s["originUs"] for s in after["samples"]}
    assert len(origins) == 1 and origins.pop() >= samples[-1]["tUs"]

    # Replay: the reference time the DTW map gives for the shown take time.
    shown = seen["replay"]["shown"]
    assert shown["aligned"] == "dtw" and "DTW" in seen["replay"]["state"]
    expected = np.interp(shown["takeS"], dtw_map["take_times_s"], dtw_map["reference_times_s"])
    assert shown["referenceS"] == pytest.approx(expected, abs=1e-6)
    assert seen["replayGhostPixels"] > 300
    # The ended take's report is linked from its replay page.
    assert seen["replay"]["reportLink"].startswith(f"/api/sessions/{take['id']}/report?token=")

    # The session list links the reference's report (written as its session ended); it opens.
    report = seen["report"]
    assert report["url"] == f"/api/sessions/{reference['id']}/report"
    assert report["title"].startswith("Session report")
    assert report["headline"].startswith("3 reps on knee flexion (exercise not given")
    assert report["images"] >= 3  # key frames, reps, angles

    for name in ("live_ghost.png", "replay_ghost.png"):
        assert (out / name).stat().st_size > 10_000
    keep = os.environ.get("COACH_SCREENSHOT_DIR")
    if keep:
        for name in ("live_ghost.png", "replay_ghost.png"):
            shutil.copy(out / name, Path(keep) / name)
