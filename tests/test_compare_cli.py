"""python -m coach_backend.compare: end to end on generated replay files and a recording, the
report's content, and bad input (one `error:` line, non-zero exit, nothing written)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from analytics_support import exercise_take, write_replay_npz
from cli_support import assert_one_error_line, run_cli_probe

from coach_backend import analytics
from coach_backend.analytics import sources
from coach_backend.analytics.synthetic import RepTiming
from coach_backend.compare import __main__ as cli
from coach_backend.compare import report
from coach_backend.export.figure import record_motion
from coach_backend.recorder import SessionRecorder
from coach_backend.stream import make_session_info

CLI = "coach_backend.compare.__main__"
SET = [RepTiming(1.0, 0.3, 1.0, 0.6)] * 3


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A reference squat set and attempts: slower + knees 20 deg less + a gap (npz), and the
    same motion as the reference, slower, as a recording."""
    root = tmp_path_factory.mktemp("takes")
    t, go, bp = exercise_take("squat", SET, noise_deg=2.0, seed=1)
    ref = write_replay_npz(root / "ref" / "smpl.npz", t, go, bp)
    t, go, bp = exercise_take("squat", SET, speed=0.7, warp=True, knee_deg=90, noise_deg=2, seed=2)
    valid = np.ones(len(t), bool)
    valid[40:46] = False  # person lost for 0.2 s
    bad = write_replay_npz(root / "try" / "smpl.npz", t, go, bp, valid)
    t, go, bp = exercise_take("squat", SET, speed=0.8, warp=True)
    rotvecs = np.concatenate([go[:, None], bp], axis=1)
    pelvis = np.tile([0.0, 0.9, -3.0], (len(t), 1))
    rec = record_motion(root / "same.coachrec", rotvecs, pelvis, t)
    return {"ref": ref, "bad": bad, "rec": rec}


def test_constants_match_the_analytics() -> None:
    # Duplicated in __main__ so that --help imports nothing heavy.
    assert (analytics.AUTO, *analytics.EXERCISES) == cli.EXERCISE_CHOICES
    assert cli.OUTPUT_NAMES == report.OUTPUT_NAMES
    assert cli.DEFAULT_SEGMENTS == analytics.DEFAULT_SEGMENTS
    assert cli.INPUT_SUFFIXES == sources.SUFFIXES


def test_help_imports_nothing_heavy() -> None:
    run = run_cli_probe(CLI, "--help")
    assert run.returncode == 0 and "--report" in run.stdout
    assert run.heavy_imported == []


def test_report_of_an_altered_attempt(takes: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    run = run_cli_probe(CLI, str(takes["ref"]), str(takes["bad"]), "--report", str(out))
    assert run.returncode == 0, run.stderr
    assert "knee flexion in the bottom phase" in run.stdout and "less than" in run.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["format"] == report.FORMAT
    comparison = summary["comparison"]
    assert comparison["reference"]["reps"]["count"] == comparison["attempt"]["reps"]["count"] == 3
    assert comparison["reference"]["reps"]["exercise"] == "squat"
    worst = comparison["worst"]
    assert worst["angle"] in ("left_knee_flexion", "right_knee_flexion")
    assert worst["phase"] == "bottom" and worst["mean_diff_deg"] == pytest.approx(-20, abs=3)
    assert comparison["speed_ratio"] == pytest.approx(1 / 0.7, abs=0.05)
    assert comparison["attempt"]["valid_frames"] == comparison["attempt"]["frames"] - 6
    # The take's own analysis, on the driver the comparison settled on.
    assert summary["session"]["reps"]["count"] == 3
    assert summary["session"]["reps"]["exercise"] == "squat"

    page = (out / "report.html").read_text()
    # Self-contained: every image inline, nothing fetched.
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)
    # The take: key frames, reps, angles; the comparison: key frame, aligned angles, both
    # takes' reps, timing.
    assert page.count("data:image/png;base64,") == 7
    for text in ("Biggest difference", "Differences per phase", "Reps", "Timing", "bottom"):
        assert text in page
    assert "class='worst'" in page  # the worst cell is marked in the phase table

    again = run_cli_probe(CLI, str(takes["ref"]), str(takes["bad"]), "--report", str(out))
    assert again.returncode == 1
    assert_one_error_line(again.stderr, "--force")
    assert again.heavy_imported == []


def test_recording_against_replay_file(takes: dict[str, Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    code = cli.main([str(takes["ref"]), str(takes["rec"]), "--report", str(out), "--force"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())["comparison"]
    assert summary["attempt"]["label"].endswith("same.coachrec")
    assert summary["mean_abs_diff_deg"] < 2.0  # the same motion (the reference has 2 deg noise)
    assert summary["attempt"]["reps"]["count"] == 3


@pytest.mark.parametrize("case", ["missing", "folder", "suffix", "report_is_file", "model_missing"])
def test_path_errors_before_any_import(case: str, takes: dict[str, Path], tmp_path: Path) -> None:
    ref, att, out = str(takes["ref"]), str(takes["bad"]), tmp_path / "out"
    extra: list[str] = []
    if case == "missing":
        att, named = str(tmp_path / "gone.npz"), "does not exist"
    elif case == "folder":
        att, named = str(tmp_path), "not a file"
    elif case == "suffix":
        (tmp_path / "clip.mp4").write_bytes(b"")
        att, named = str(tmp_path / "clip.mp4"), "expected a replay smpl.npz"
    elif case == "report_is_file":
        out.write_text("keep")
        named = "not a folder"
    elif case == "model_missing":
        extra, named = ["--model", str(tmp_path / "none.npz")], "body model"
    run = run_cli_probe(CLI, ref, att, "--report", str(out), *extra)
    assert run.returncode == 1, run.stderr
    assert_one_error_line(run.stderr, named)
    assert run.heavy_imported == []
    assert case == "report_is_file" or not out.exists()


@pytest.mark.parametrize(
    "case", ["garbage", "not_a_zip", "missing_keys", "nobody_seen", "rec_corrupt", "rec_empty"]
)
def test_unusable_files_are_one_line(
    case: str, takes: dict[str, Path], tmp_path: Path, capsys
) -> None:
    bad = tmp_path / "bad.npz"
    named = "not a usable recording or replay .npz"
    if case == "garbage":
        bad.write_bytes(np.random.default_rng(0).bytes(3000))
    elif case == "not_a_zip":
        bad.write_bytes(b"PK\x03\x04" + bytes(100))
    elif case == "missing_keys":
        np.savez(bad, valid=np.ones(3, bool))
    elif case == "nobody_seen":  # a clip in which the person was never found
        t, go, bp = exercise_take("squat", SET[:1])
        write_replay_npz(bad, t, go, bp, np.zeros(len(t), bool))
        named = "no frame with a person"
    elif case == "rec_corrupt":
        bad = tmp_path / "bad.coachrec"
        bad.write_bytes(np.random.default_rng(0).bytes(3000))
    elif case == "rec_empty":  # a replay killed before its first frame leaves this
        bad = tmp_path / "empty.coachrec"
        SessionRecorder(bad, make_session_info("empty")).close()
        named = "no frames"
    out = tmp_path / "out"
    code = cli.main([str(takes["ref"]), str(bad), "--report", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert_one_error_line(err, "take", named)
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["a.npz", "b.npz"],  # no --report
        ["a.npz", "b.npz", "--report", "o", "--segments", "0"],
        ["a.npz", "b.npz", "--report", "o", "--exercise", "burpee"],
        ["a.npz", "b.npz", "c.npz", "--report", "o"],  # three takes
    ],
)
def test_usage_errors_exit_2_without_traceback(args: list[str]) -> None:
    run = run_cli_probe(CLI, *args)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("python -m coach_backend.compare: error:")
    assert run.heavy_imported == []
