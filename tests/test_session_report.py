"""Exercise analytics kept with a session: reps of motion with a known rep structure through the
summary path (recording -> analysis -> summary.json + report.html, as the end of a replay and of
a live session write them), the live rep counter fed pose by pose (the same rep rule), the
report in a real headless Chromium, and a replay of a rendered squat set end to end."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from analytics_support import VARIED_SET, exercise_take, rest_joints
from browser_support import CHROMIUM, WEB, missing_browser
from cli_support import run_cli_probe

from coach_backend.analytics import (
    AUTO,
    EXERCISE_CHOICES,
    EXERCISES,
    LiveRepCounter,
    analyse_recording,
    angles_from_rotations,
    driver_signal,
)
from coach_backend.analytics.synthetic import RepTiming, rep_profile
from coach_backend.compare import names
from coach_backend.compare.report import KEY_FRAME_HEIGHT, SessionReport
from coach_backend.export.figure import record_motion
from coach_backend.stream import encode_poses

REPO = Path(__file__).resolve().parents[1]
REPORT_SCRIPT = WEB / "e2e" / "report.e2e.mjs"
COMPARE = "coach_backend.compare.__main__"
# Five reps, each paced differently: pauses at the top and bottom, one fast rep.
SET = VARIED_SET
# As tests/test_analytics_reps.py: smoothing and 3 deg noise move the boundaries a little.
TEMPO_TOL_S, HOLD_TOL_S = 0.3, 0.35
ROM_TOL_DEG = 8.0


def record_take(path: Path, exercise: str, timings: list[RepTiming], seed: int = 0) -> Path:
    """A synthetic take as a session recording (wire poses, as the live server records)."""
    t, go, bp = exercise_take(exercise, timings, noise_deg=3.0, seed=seed)
    rotvecs = np.concatenate([go[:, None], bp], axis=1)
    return record_motion(path, rotvecs, np.tile([0.0, 0.9, -3.0], (len(t), 1)), t)


def true_rom(exercise: str) -> float:
    """Range of the exercise's driver angle from rest to the extreme, without noise."""
    go, bp = exercise_take(exercise, [RepTiming(1.0, 0.0, 1.0, 0.0)])[1:]
    angles = angles_from_rotations(go, bp, rest_joints())
    signal = driver_signal(angles, exercise)
    return float(signal.max() - signal.min())


@pytest.fixture(scope="module")
def squat_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_take(tmp_path_factory.mktemp("take") / "squats.coachrec", "squat", SET, seed=4)


def test_names_match_the_analytics() -> None:
    # Duplicated in compare.names so that the CLIs' --help imports nothing heavy.
    from coach_backend import analytics
    from coach_backend.analytics import sources
    from coach_backend.compare import report

    assert names.EXERCISE_CHOICES == EXERCISE_CHOICES == (AUTO, *EXERCISES)
    assert names.INPUT_SUFFIXES == sources.SUFFIXES
    assert names.DEFAULT_SEGMENTS == analytics.DEFAULT_SEGMENTS
    assert report.OUTPUT_NAMES == names.OUTPUT_NAMES


@pytest.mark.parametrize("exercise", ["squat", "jumping_jack", "push_up"])
def test_known_reps_through_the_summary_path(exercise: str, tmp_path: Path) -> None:
    """What the end of a replay / a live session keeps: count, range of motion and tempo of
    every rep, read back from the recording, with the exercise picked automatically."""
    rec = record_take(tmp_path / "take.coachrec", exercise, SET, seed=1)
    analysis, comparison, note = analyse_recording(rec)
    assert analysis is not None and comparison is None and note == ""
    doc = json.loads(json.dumps(SessionReport(analysis, rec.name).summary()))  # as written
    reps = doc["session"]["reps"]
    assert reps["exercise"] == exercise and reps["auto"] is True
    assert reps["count"] == len(SET)
    rom = true_rom(exercise)
    for rep, timing in zip(reps["reps"], SET, strict=True):
        assert rep["rom_deg"] == pytest.approx(rom, abs=ROM_TOL_DEG)
        assert rep["down_s"] == pytest.approx(timing.down_s, abs=TEMPO_TOL_S)
        assert rep["hold_s"] == pytest.approx(timing.hold_s, abs=HOLD_TOL_S)
        assert rep["up_s"] == pytest.approx(timing.up_s, abs=TEMPO_TOL_S)
    assert reps["mean_rom_deg"] == pytest.approx(rom, abs=ROM_TOL_DEG)
    assert doc["session"]["valid_frames"] == doc["session"]["frames"]


def test_headline_names_an_exercise_only_when_one_was_given(tmp_path: Path) -> None:
    """With "auto" the angle counted on is the one that moves most, not what the athlete did
    (a walk moves the knees too): the line names the angle and says no exercise was given."""
    rec = record_take(tmp_path / "take.coachrec", "squat", SET, seed=1)
    auto, _, _ = analyse_recording(rec)
    given, _, _ = analyse_recording(rec, "squat")
    assert auto is not None and given is not None
    assert auto.headline().startswith(
        f"{len(SET)} reps on knee flexion (exercise not given; counted on the most active "
        "angle); mean range of motion"
    )
    assert "squat" not in auto.headline()
    assert given.headline().startswith(f"{len(SET)} reps of squat on knee flexion; mean range")
    one, _, _ = analyse_recording(record_take(tmp_path / "one.coachrec", "squat", SET[:1]), "squat")
    assert one is not None and one.headline().startswith("1 rep of squat on knee flexion;")
    page = SessionReport(auto, rec.name).html()
    text = re.sub(r"data:[^'\"]*", "", page)  # (base64 pictures could spell anything)
    assert "No exercise was given" in text and "squat" not in text.lower()


def test_a_take_without_a_person_is_a_note_not_an_error(tmp_path: Path) -> None:
    t, go, bp = exercise_take("squat", SET[:2])
    rotvecs = np.concatenate([go[:, None], bp], axis=1)
    pelvis = np.tile([0.0, 0.9, -3.0], (len(t), 1))
    rec = record_motion(tmp_path / "nobody.coachrec", rotvecs, pelvis, t, np.zeros(len(t), bool))
    analysis, _, note = analyse_recording(rec)
    assert analysis is None and "no frame with a person" in note
    doc = SessionReport(analysis, rec.name, note=note).summary()
    assert doc["session"] is None and doc["note"] == note


def test_cli_session_report_holds_the_reps(squat_recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    run = run_cli_probe(COMPARE, str(squat_recording), "--report", str(out))
    assert run.returncode == 0, run.stderr
    # No exercise was given: the line names the angle counted on, never an exercise.
    headline = f"take: {len(SET)} reps on knee flexion (exercise not given; counted on the most"
    assert headline in run.stdout and "squat" not in run.stdout.split("take: ")[1].split("\n")[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["format"] == "coach_backend.report/1" and summary["comparison"] is None
    assert summary["session"]["reps"]["count"] == len(SET)
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)  # self-contained
    assert page.count("<tr class='rep'>") == len(SET)
    for rep in summary["session"]["reps"]["reps"]:  # each rep's numbers are on the page
        assert f"<td>{rep['rom_deg']:.1f}</td>" in page
        assert f"<td>{rep['down_s']:.2f}</td>" in page
    for text in ("Session report", "Key frames", "Reps", "Joint angles"):
        assert text in page
    assert "Comparison with the reference" not in page


def test_live_counter_counts_as_frames_arrive(squat_recording: Path) -> None:
    """The live rep counter fed one pose at a time: the count never goes back, each rep is
    counted by the time it has ended (plus the time to tell it apart from a pause), the rep
    under way shows its range, and at the end the count and every rep's numbers are those
    of the recording's summary: one rep rule for both."""
    t, go, bp = exercise_take("squat", SET, noise_deg=3.0, seed=4)
    poses = encode_poses(np.concatenate([go[:, None], bp], axis=1), np.zeros((len(t), 3)))
    # Never throttled here: every refresh the test asks for runs.
    counter = LiveRepCounter(min_interval_s=0.0, max_busy_fraction=float("inf"))
    _, rep_of_frame = rep_profile(t, SET)
    ends = [t[rep_of_frame == k][0] + r.duration_s for k, r in enumerate(SET)]  # true rep ends
    counts: list[tuple[float, int]] = []
    current_max = 0.0
    for i, (time_s, pose) in enumerate(zip(t, poses, strict=True)):
        counter.add(pose.tobytes(), round(time_s * 1e6))
        if i % 5 == 4 and counter.claim_refresh("squat"):
            status = counter.refresh("squat")
            counts.append((time_s, int(status["count"])))
            if status["count"] == 0:
                current_max = max(current_max, float(status["current_rom_deg"]))
    values = [c for _, c in counts]
    assert values == sorted(values) and values[-1] == len(SET)
    for k, end in enumerate(ends):
        # Counted once the angle has come back by the rule's prominence: before the rep ends.
        counted_at = next(time_s for time_s, c in counts if c > k)
        assert counted_at <= end + 0.2, (k, counted_at, end)
    assert current_max == pytest.approx(true_rom("squat"), abs=ROM_TOL_DEG)  # rep 1 under way

    final = counter.status
    analysis, _, _ = analyse_recording(squat_recording, "squat")
    assert analysis is not None and final is not None
    assert final["count"] == len(analysis.reps.reps)
    assert final["last_rep"]["rom_deg"] == pytest.approx(analysis.reps.reps[-1].rom_deg, abs=1.0)
    assert final["last_rep"]["up_s"] == pytest.approx(analysis.reps.reps[-1].up_s, abs=0.05)


def test_live_counter_throttles_itself() -> None:
    t, go, bp = exercise_take("squat", SET[:1])
    poses = encode_poses(np.concatenate([go[:, None], bp], axis=1), np.zeros((len(t), 3)))
    counter = LiveRepCounter(min_interval_s=3600.0)
    assert not counter.claim_refresh(AUTO)  # nothing to analyse yet
    for time_s, pose in zip(t, poses, strict=True):
        counter.add(pose.tobytes(), round(time_s * 1e6))
    counter.add(poses[-1].tobytes(), round(t[-1] * 1e6))  # a clock that does not advance
    assert counter.frames == len(t)
    assert counter.claim_refresh(AUTO)
    assert not counter.claim_refresh(AUTO)  # one refresh at a time
    status = counter.refresh(AUTO)
    assert status["count"] == 1 and status["exercise"] == "squat" and status["auto"] is True
    assert not counter.claim_refresh("squat")  # the next one waits for min_interval_s


@pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or "")
def test_report_in_chromium(squat_recording: Path, tmp_path: Path) -> None:
    """The report as a coach opens it: every plot decodes, the reps table has every rep, no
    request leaves the file."""
    out = tmp_path / "report"
    run = run_cli_probe(COMPARE, str(squat_recording), "--report", str(out))
    assert run.returncode == 0, run.stderr
    seen = open_in_chromium(out / "report.html", tmp_path / "synthetic_report.png")
    assert f"{len(SET)} reps on knee flexion (exercise not given" in seen["headline"]
    assert seen["repRows"] == [len(SET)]
    assert len(seen["images"]) == 3  # key frames (skeletons: no video here), reps, angles
    assert all(i["width"] > 300 and i["height"] > 150 for i in seen["images"]), seen["images"]
    assert "Key frames" in seen["sections"] and "Reps" in seen["sections"]


def open_in_chromium(report: Path, screenshot: Path) -> dict:
    cfg = {"chromium": CHROMIUM, "report": str(report), "screenshot": str(screenshot)}
    proc = subprocess.run(
        ["node", str(REPORT_SCRIPT), json.dumps(cfg)], capture_output=True, text=True, timeout=120
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    seen = json.loads(lines[-1])
    assert seen["ok"] and not seen["errors"] and not seen["external"], seen
    assert screenshot.stat().st_size > 20_000
    keep = os.environ.get("COACH_SCREENSHOT_DIR")
    if keep:
        shutil.copy(screenshot, Path(keep) / screenshot.name)
    return seen


@pytest.mark.slow
@pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or "")
def test_replay_of_a_rendered_squat_set(tmp_path: Path) -> None:
    """Video -> replay (MediaPipe, GC-SSN) -> summary.json + report.html: the rendered clip of
    eight squats (the live tests' clip) gives eight reps, and with --overlay the report shows
    video key frames with the body drawn over them. COACH_SCREENSHOT_DIR=docs keeps the
    screenshot (docs/session_report.png)."""
    from live_support import make_clip

    mp4, _ = make_clip(tmp_path)  # one squat a second, 8 s
    out = tmp_path / "out"
    proc = subprocess.run(  # in the clip's folder: the report names it as the user did
        [sys.executable, "-m", "coach_backend.replay", mp4.name, "--out", "out", "--overlay",
         "--quiet"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "reps:      8 reps on knee flexion (exercise not given" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["session"]["reps"]["count"] == 8
    seen = open_in_chromium(out / "report.html", tmp_path / "session_report.png")
    assert seen["keyFrames"] == 4 and seen["repRows"] == [8]
    key_frames = [i for i in seen["images"] if i["alt"].startswith("Rep ")]
    assert len(key_frames) == 4 and all(i["height"] == KEY_FRAME_HEIGHT for i in key_frames)
    # Cropped around the athlete: about square (the body's box), not the 4:3 frame.
    assert all(0.6 < i["width"] / i["height"] < 1.2 for i in key_frames), key_frames
