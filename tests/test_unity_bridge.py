"""Unity bridge: cross-language pose vectors and the C# core's NUnit suite (mono)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coach_backend.recorder import read_recording
from coach_backend.recorder import reference_recording as rec_vectors
from coach_backend.recorder.make_test_recording import DEFAULT_DIR as RECORDING_DIR
from coach_backend.stream.codec import POSE_BYTES, SMPL24_JOINT_NAMES, decode_pose
from coach_backend.stream.make_test_vectors import DEFAULT_PATH
from coach_backend.stream.pose_vectors import build_vectors, dumps

REPO = Path(__file__).resolve().parents[1]
RUN_TESTS = REPO / "unity_bridge" / "run_tests.sh"


def _assert_same(committed: Any, fresh: Any, where: str) -> None:
    """Exact for strings/ints/bools, 1e-9 for floats (libm may differ in the last bits)."""
    if isinstance(fresh, dict):
        assert isinstance(committed, dict), where
        assert sorted(committed) == sorted(fresh), f"{where}: keys differ"
        for k in fresh:
            _assert_same(committed[k], fresh[k], f"{where}.{k}")
    elif isinstance(fresh, list):
        assert isinstance(committed, list) and len(committed) == len(fresh), f"{where}: length"
        for i, (c, f) in enumerate(zip(committed, fresh, strict=True)):
            _assert_same(c, f, f"{where}[{i}]")
    elif isinstance(fresh, float) and not isinstance(committed, bool):
        assert committed == pytest.approx(fresh, abs=1e-9), where
    else:
        assert committed == fresh, where


def test_committed_vectors_match_python_codec() -> None:
    """A change to the Python codec/layout must be followed by regenerating the C# vectors."""
    assert DEFAULT_PATH.is_file(), "run: python -m coach_backend.stream.make_test_vectors"
    committed = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    fresh = json.loads(dumps(build_vectors()))
    hint = "stale vectors: run `python -m coach_backend.stream.make_test_vectors` and commit"
    assert [c["name"] for c in committed["cases"]] == [c["name"] for c in fresh["cases"]], hint
    for c, f in zip(committed["cases"], fresh["cases"], strict=True):
        assert c["hex"] == f["hex"], f"{hint} (case {f['name']})"
    _assert_same(committed, fresh, "vectors")


def test_vectors_are_self_consistent() -> None:
    vectors = build_vectors()
    assert vectors["joint_names"] == list(SMPL24_JOINT_NAMES)
    groups = {c["group"] for c in vectors["cases"]}
    assert groups == {"identity", "single_axis", "random", "translation", "invalid", "motion"}
    for case in vectors["cases"]:
        blob = bytes.fromhex(case["hex"])
        assert len(blob) == POSE_BYTES
        dec = decode_pose(blob)
        assert dec.valid == case["valid"]
        np.testing.assert_allclose(dec.pelvis_m, case["pelvis_m"], atol=1e-9)
        q = np.array(case["quats_xyzw"])
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-9)
        # Unity frame = mirror z: (x, y, z, w) -> (-x, -y, z, w), (x, y, z) -> (x, y, -z).
        np.testing.assert_allclose(case["unity_quats_xyzw"], q * [-1, -1, 1, 1], atol=1e-9)
        np.testing.assert_allclose(
            case["unity_pelvis_m"], np.array(case["pelvis_m"]) * [1, 1, -1], atol=1e-9
        )
    motion = [c for c in vectors["cases"] if c["group"] == "motion"]
    assert [c["sequence"] for c in motion] == list(range(100, 100 + len(motion)))
    times = [c["capture_time_s"] for c in motion]
    assert times == sorted(set(times))
    for bad in vectors["bad_blobs"]:
        with pytest.raises(ValueError):
            decode_pose(bytes.fromhex(bad["hex"]))


def test_committed_reference_recording_matches_python_recorder() -> None:
    """The C# recording reader is tested on this file and on what the Python reader says about it
    and its damaged copies: both must be what the current recorder and reader produce."""
    hint = "stale fixture: run `python -m coach_backend.recorder.make_test_recording` and commit"
    recording = RECORDING_DIR / rec_vectors.RECORDING_NAME
    expected = RECORDING_DIR / rec_vectors.EXPECTED_NAME
    assert recording.is_file() and expected.is_file(), hint
    fresh = rec_vectors.build_recording()
    assert recording.read_bytes() == fresh, hint
    committed = json.loads(expected.read_text(encoding="utf-8"))
    _assert_same(committed, json.loads(dumps(rec_vectors.build_expected(fresh))), hint)
    assert len(fresh) < 4096 and expected.stat().st_size < 32768, "keep the fixture small"


def test_reference_recording_covers_what_the_csharp_tests_need() -> None:
    rec = read_recording(RECORDING_DIR / rec_vectors.RECORDING_NAME)
    assert rec.complete and len(rec.frames) == rec_vectors.NUM_FRAMES
    firsts = [first for first, _ in rec.infos]
    assert firsts == [0, rec_vectors.SETTLED_SHAPE_AT, rec_vectors.SHAPELESS_INFO_AT]
    assert rec.infos[0][1].betas != rec.infos[1][1].betas, "a mid-file shape update"
    assert not decode_pose(rec.frames[rec_vectors.NO_PERSON_FRAME].pose).valid
    data = rec_vectors.build_recording()
    variants = rec_vectors.build_expected(data)["variants"]
    outcomes = [v["expect"] for v in variants if v["name"] != "complete"]
    assert sum(e["error"] for e in outcomes) >= 6, "rejections"
    assert sum(not e["error"] and e["torn_tail_bytes"] > 0 for e in outcomes) >= 4, "torn tails"
    assert all(rec_vectors.apply_variant(data, v) != data for v in variants[1:]), "damaged copies"


@pytest.mark.slow
def test_csharp_core_nunit_suite() -> None:
    missing = [t for t in ("mcs", "nunit-console") if shutil.which(t) is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed (Debian: apt-get install mono-mcs mono-devel "
            "nunit-console libnunit-cil-dev; `make setup` does this)"
        )
    proc = subprocess.run(
        ["bash", str(RUN_TESTS)], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"C# tests failed (exit {proc.returncode}):\n{out[-6000:]}"
    m = re.search(r"Tests run: (\d+), Errors: (\d+), Failures: (\d+)", out)
    assert m, f"no NUnit summary in output:\n{out[-3000:]}"
    run, errors, failures = (int(g) for g in m.groups())
    assert run >= 30 and errors == 0 and failures == 0, out[-3000:]
