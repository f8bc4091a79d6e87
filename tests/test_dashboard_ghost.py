"""The replay page's reference ghost: GET /api/compare (DTW time map, auth, 404) and
GET /api/sessions/{id}/frames on a real server over loopback, with recordings written by the
real recorder; and the page's take-time -> reference-time logic (src/ghost.js) under node."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analytics_support import VARIED_SET, exercise_take, smooth_warp
from live_support import ADMIN, ServerThread, http

from coach_backend.analytics.synthetic import rep_profile, total_duration
from coach_backend.dashboard import MESSAGE_BYTES, unpack_frame
from coach_backend.export.figure import record_motion
from coach_backend.serve import ServeConfig

WEB = Path(__file__).resolve().parents[1] / "coach_backend" / "dashboard" / "web"
GHOST_UNITS = WEB / "e2e" / "ghost_units.mjs"
TIMINGS = VARIED_SET[:3]
TAKE_SPEED = 0.7  # the take: the reference's motion, slower overall and unevenly so


class _IdlePipeline:
    """No publisher joins these sessions: their recordings are written by the test."""

    def submit(self, frame_bgr: Any, capture_time_us: int, on_result: Any = None) -> None:
        raise AssertionError("no frames expected")

    def close(self, reason: str) -> None:
        pass


def _record(path: Path, speed: float, warp: bool) -> Path:
    t, go, bp = exercise_take("squat", TIMINGS, speed=speed, warp=warp)
    rotvecs = np.concatenate([go[:, None], bp], axis=1)
    return record_motion(path, rotvecs, np.tile([0.0, 0.9, -3.0], (len(t), 1)), t)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("ghost")
    cfg = ServeConfig(
        http_port=0, grpc_port=0, recordings_dir=tmp / "recordings", admin_token=ADMIN
    )
    st = ServerThread(cfg, lambda sid, hub, rec: _IdlePipeline())
    try:
        sessions = {}
        for name, speed, warp in (("reference", 1.0, False), ("take", TAKE_SPEED, True)):
            status, created = http("POST", f"{st.base}/api/sessions", ADMIN)
            assert status == 201
            sid = created["session_id"]
            assert http("POST", f"{st.base}/api/sessions/{sid}/end", ADMIN)[0] == 200
            # Ended, so its recorder is closed: replace the empty take with a known motion.
            written = _record(tmp / f"{name}.coachrec", speed, warp)
            written.replace(cfg.recordings_dir / f"{sid}.coachrec")
            sessions[name] = {"id": sid, **created["tokens"]}
        yield {"base": st.base, **sessions}
    finally:
        st.stop()


def _compare(server: dict[str, Any], token: str | None, reference: str, take: str) -> tuple:
    return http("GET", f"{server['base']}/api/compare?reference={reference}&take={take}", token)


def test_compare_recovers_the_time_warp(server: dict[str, Any]) -> None:
    ref, take = server["reference"]["id"], server["take"]["id"]
    status, body = _compare(server, ADMIN, ref, take)
    assert status == 200, body
    assert body["method"] == "dtw" and (body["reference"], body["take"]) == (ref, take)
    take_t, ref_t = np.array(body["take_times_s"]), np.array(body["reference_times_s"])
    assert len(take_t) == len(ref_t) > 100 and np.all(np.diff(ref_t) >= 0)
    ref_duration = total_duration(TIMINGS)
    truth = smooth_warp(ref_duration, ref_duration / TAKE_SPEED)(take_t)
    # Rest between reps looks the same throughout, so only moving frames pin the time down.
    p, _ = rep_profile(truth, TIMINGS)
    moving = (p > 0.1) & (p < 0.9)
    err = np.abs(ref_t - truth)[moving]
    assert moving.sum() > 50
    assert np.median(err) < 0.05 and err.max() < 0.1, (np.median(err), err.max())
    assert np.abs(take_t - truth)[moving].max() > 2.0  # what aligning by start time would miss
    # The same pair again comes from the cache, identical.
    assert _compare(server, ADMIN, ref, take)[1] == body


def test_compare_authorisation(server: dict[str, Any]) -> None:
    ref, take = server["reference"], server["take"]
    assert _compare(server, None, ref["id"], take["id"])[0] == 401
    assert _compare(server, "nope", ref["id"], take["id"])[0] == 403
    # A coach of the take only may not read another session's recording.
    assert _compare(server, take["coach"], ref["id"], take["id"])[0] == 403
    assert _compare(server, take["viewer"], take["id"], take["id"])[0] == 403
    assert _compare(server, take["coach"], take["id"], take["id"])[0] == 200  # its own take
    assert _compare(server, ADMIN, "s-unknown", take["id"])[0] == 404
    assert _compare(server, ADMIN, ref["id"], "s-unknown")[0] == 404
    assert http("GET", f"{server['base']}/api/compare?take={take['id']}", ADMIN)[0] == 400


def test_frames_endpoint(server: dict[str, Any]) -> None:
    ref = server["reference"]
    url = f"{server['base']}/api/sessions/{ref['id']}/frames"
    assert http("GET", url, ref["viewer"])[0] == 403
    assert http("GET", f"{server['base']}/api/sessions/s-unknown/frames", ADMIN)[0] == 404
    status, body = http("GET", url, ref["coach"])
    assert status == 200
    raw = base64.b64decode(body["frames_b64"])
    assert len(raw) == body["count"] * MESSAGE_BYTES and body["count"] > 100
    first, last = unpack_frame(raw[:MESSAGE_BYTES]), unpack_frame(raw[-MESSAGE_BYTES:])
    assert (first.capture_time_us, last.capture_time_us) == (body["start_us"], body["end_us"])
    assert body["info"]["type"] == "info"


@pytest.mark.skipif(shutil.which("node") is None, reason="node not on PATH")
def test_js_maps_take_time_to_reference_time(server: dict[str, Any], tmp_path: Path) -> None:
    ref, take = server["reference"]["id"], server["take"]["id"]
    dtw_map = _compare(server, ADMIN, ref, take)[1]
    frames = http("GET", f"{server['base']}/api/sessions/{ref}/frames", ADMIN)[1]
    take_t = np.array(dtw_map["take_times_s"])
    queries = [-1.0, 0.0, 0.013, *np.linspace(0.0, take_t[-1], 37).tolist(), take_t[-1] + 5]
    times_us = [10, 20, 30, 40]
    duration = dtw_map["reference_duration_s"]
    spec = {
        "map": dtw_map, "take_times_s": queries, "reference_duration_s": duration,
        "times_us": times_us, "queries_us": [0, 10, 15, 20, 39, 40, 1000], "frames": frames,
        "elapsed_s": [-1.0, 0.0, 0.5, 2.9, 3.1, 7.0], "span": [1.0, 4.0],
    }  # fmt: skip
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    out = subprocess.run(
        ["node", str(GHOST_UNITS), str(tmp_path / "spec.json")],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    got = json.loads(out.stdout.strip().splitlines()[-1])
    expected = np.interp(queries, take_t, dtw_map["reference_times_s"])
    assert got["dtw"] == pytest.approx(expected.tolist(), abs=1e-9)
    assert got["start"] == pytest.approx(np.clip(queries, 0.0, duration).tolist(), abs=1e-9)
    assert got["indices"] == [0, 0, 0, 1, 2, 3, 3]
    assert got["offset"] == pytest.approx([0.5, -0.28, -1.0])
    assert got["offsetNoFloor"] == pytest.approx([0.5, -0.3, -1.0])
    assert got["frames"]["count"] == frames["count"]
    assert got["frames"]["startUs"] == frames["start_us"]
    assert got["frames"]["durationS"] == pytest.approx(
        (frames["end_us"] - frames["start_us"]) / 1e6
    )
    # The live page's loop: the reps' span [1, 4] s over and over from the start; without a
    # span the whole recording. (The reference here has no summary: no span.)
    assert got["frames"]["repsSpanS"] is None
    assert got["looped"] == pytest.approx([1.0, 1.0, 1.5, 3.9, 1.1, 2.0])
    assert got["loopedWhole"] == pytest.approx([0.0, 0.0, 0.5, 2.9, 3.1, 7.0 % duration])
