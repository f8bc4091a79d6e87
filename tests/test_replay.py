"""Replay CLI end to end on a tiny clip (first frames of the shipped example), bad inputs,
phone rotation metadata, and --serve to a real gRPC subscriber."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from coach_backend.gcssn.network import GCSSN, NetworkConfig
from coach_backend.recorder import read_recording
from coach_backend.replay import VideoError, VideoReader, rotation_cw_degrees, write_video
from coach_backend.replay.cli import main
from coach_backend.stream import FLAG_VALID, PoseStreamClient, pb

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "walk_shot.mp4"
N_FRAMES = 6
TIMEOUT = 60.0
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def upright_frames() -> list[np.ndarray]:
    frames = []
    with VideoReader(EXAMPLE) as video:
        for image, _ in video:
            frames.append(image)
            if len(frames) == N_FRAMES:
                break
    return frames


@pytest.fixture(scope="module")
def clip(upright_frames, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "tiny.mp4"
    write_video(path, iter(upright_frames), fps=30.0)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """An untrained GC-SSN in the exported format (the real network, random weights)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "untrained.pt"
    card = {"network": asdict(NetworkConfig())}
    torch.save({"state_dict": GCSSN().state_dict(), "card": card}, path)
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach_backend.replay", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=REPO,
        env=ENV,
    )


def test_cli_end_to_end(clip: Path, weights: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli(str(clip), "--weights", str(weights), "--out", str(out), "--overlay")
    assert proc.returncode == 0, proc.stderr
    for name in ("smpl.npz", "smpl.json", "session.coachrec", "overlay.mp4"):
        assert (out / name).is_file()
        assert str(out / name) in proc.stdout  # says where the outputs are

    npz = np.load(out / "smpl.npz")
    t = N_FRAMES
    shapes = {k: npz[k].shape for k in npz.files}
    assert shapes["global_orient"] == (t, 3) and shapes["body_pose"] == (t, 23, 3)
    assert shapes["betas"] == (t, 10) and shapes["transl"] == (t, 3)
    assert shapes["joints"] == (t, 24, 3) and shapes["valid"] == (t,)
    assert npz["valid"].all()  # the example's first frames show the person
    np.testing.assert_allclose(npz["timestamps"], np.arange(t) / 30.0, atol=1e-3)
    assert npz["transl"][:, 2].min() > 1.0  # in front of the camera
    assert tuple(npz["image_size"]) == (640, 480)

    doc = json.loads((out / "smpl.json").read_text())
    assert doc["format"] == "coach_backend.replay/1" and doc["smoothing"] == "zero_phase"
    assert doc["num_frames"] == t and len(doc["frames"]) == t
    f0 = doc["frames"][0]
    assert len(f0["body_pose"]) == 23 and len(f0["joints"]) == 24 and len(f0["betas"]) == 10
    np.testing.assert_allclose(f0["joints"], npz["joints"][0], atol=1e-4)

    rec = read_recording(out / "session.coachrec")
    assert rec.complete and len(rec.frames) == t
    assert rec.info.state == pb.SESSION_STATE_RECORDED
    assert all(f.flags & FLAG_VALID for f in rec.frames)
    with VideoReader(out / "overlay.mp4") as video:
        assert sum(1 for _ in video) == t

    # A second run refuses to overwrite unless --force.
    proc = run_cli(str(clip), "--weights", str(weights), "--out", str(out), "--max-frames", "2")
    assert proc.returncode == 1 and "--force" in proc.stderr


def test_causal_smoothing_option(clip: Path, weights: Path, tmp_path: Path) -> None:
    out = tmp_path / "causal"
    args = [str(clip), "--weights", str(weights), "--out", str(out), "--smoothing", "causal"]
    assert main([*args, "--max-frames", "3", "--quiet"]) == 0
    assert json.loads((out / "smpl.json").read_text())["smoothing"] == "causal"
    assert np.load(out / "smpl.npz")["valid"].shape == (3,)


@pytest.mark.parametrize("kind", ["missing", "empty", "corrupt", "truncated", "text", "folder"])
def test_bad_inputs_exit_nonzero(kind: str, clip: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / f"{kind}.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(np.random.default_rng(0).bytes(20_000))
    elif kind == "truncated":
        path.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    elif kind == "text":
        path = tmp_path / "notes.txt"
        path.write_text("this is not a video\n" * 50)
    elif kind == "folder":
        path.mkdir()
    assert main([str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(path) in err
    assert not (tmp_path / "out").exists()  # nothing written for bad input


def test_bad_input_subprocess_exit_code(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "missing.mp4"))
    assert proc.returncode == 1
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_weights_exit(clip: Path, tmp_path: Path, capsys) -> None:
    code = main([str(clip), "--weights", str(tmp_path / "none.pt"), "--out", str(tmp_path)])
    assert code == 1 and "gcssn.train" in capsys.readouterr().err


def test_usage_errors() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["x.mp4", "--max-frames", "0"])
    assert exc.value.code == 2


def test_rotation_rule() -> None:
    assert rotation_cw_degrees(None, {}) == 0
    assert rotation_cw_degrees(-90, {}) == 90  # display matrix: counter-clockwise degrees
    assert rotation_cw_degrees(90, {}) == 270
    assert rotation_cw_degrees(180, {}) == 180
    assert rotation_cw_degrees(None, {"rotate": "90"}) == 90  # legacy tag: clockwise
    assert rotation_cw_degrees(0, {"rotate": "270"}) == 270
    assert rotation_cw_degrees(-90, {"rotate": "90"}) == 90  # both: the matrix wins
    assert rotation_cw_degrees(None, {"rotate": "junk"}) == 0


def _sideways(frames: list[np.ndarray]) -> list[np.ndarray]:
    """How a phone held in portrait stores landscape pixels: turned 90 deg counter-clockwise."""
    return [cv2.rotate(f, cv2.ROTATE_90_COUNTERCLOCKWISE) for f in frames]


def _assert_upright(path: Path, upright: list[np.ndarray], rotation_cw: int) -> None:
    with VideoReader(path) as video:
        assert (video.info.width, video.info.height) == (640, 480)
        assert video.info.rotation_cw == rotation_cw
        got = [f for f, _ in video]
    assert len(got) == len(upright)
    for g, u in zip(got, upright, strict=True):
        assert g.shape == u.shape
        assert np.abs(g.astype(int) - u).mean() < 4.0  # codec noise only


def test_display_matrix_rotation_honoured(upright_frames, weights: Path, tmp_path: Path) -> None:
    path = tmp_path / "portrait.mp4"
    write_video(path, iter(_sideways(upright_frames)), 30.0, rotation_ccw=-90)
    _assert_upright(path, upright_frames, 90)
    # And through the CLI: the pipeline sees the upright frame size and finds the person.
    out = tmp_path / "out"
    assert main([str(path), "--weights", str(weights), "--out", str(out), "--quiet"]) == 0
    doc = json.loads((out / "smpl.json").read_text())
    assert doc["image_size"] == [640, 480] and doc["rotation_cw"] == 90
    assert doc["num_valid"] == N_FRAMES


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg CLI not installed")
def test_ffmpeg_rotation_metadata_honoured(upright_frames, tmp_path: Path) -> None:
    """A file rotated by the ffmpeg CLI reads exactly as ffmpeg itself (autorotate) shows it."""
    plain = tmp_path / "plain.mp4"
    write_video(plain, iter(_sideways(upright_frames)), 30.0)
    tagged = tmp_path / "tagged.mp4"
    # ffmpeg >= 6: `-display_rotation` (input option); older: `-metadata:s:v rotate=...`.
    help_text = subprocess.run(["ffmpeg", "-h", "full"], capture_output=True, text=True).stdout
    cmd = ["ffmpeg", "-v", "error", "-y"]
    if "display_rotation" in help_text:
        cmd += ["-display_rotation", "90", "-i", str(plain), "-c", "copy", str(tagged)]
    else:
        cmd += ["-i", str(plain), "-c", "copy", "-metadata:s:v", "rotate=90", str(tagged)]
    subprocess.run(cmd, check=True, timeout=TIMEOUT)
    shown = tmp_path / "shown.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(tagged), "-frames:v", "1", str(shown)],
        check=True,
        timeout=TIMEOUT,
    )
    reference = cv2.imread(str(shown))
    with VideoReader(tagged) as video:
        assert video.info.rotation_cw in (90, 270)
        assert (video.info.width, video.info.height) == (640, 480)
        first = next(iter(video))[0]
    assert first.shape == reference.shape == (480, 640, 3)
    assert np.abs(first.astype(int) - reference).mean() < 2.0


def test_reader_errors_directly(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="no such file"):
        VideoReader(tmp_path / "x.mp4")
    (tmp_path / "e.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        VideoReader(tmp_path / "e.mp4")


def test_serve_streams_to_grpc_subscriber(clip: Path, weights: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "coach_backend.replay", str(clip), "--weights", str(weights)]
    cmd += ["--out", str(tmp_path / "o"), "--serve", "--port", "0", "--quiet"]
    cmd += ["--wait-for-subscriber", str(TIMEOUT), "--token", "secret"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=REPO, env=ENV)  # fmt: skip
    timer = threading.Timer(2 * TIMEOUT, proc.kill)
    timer.start()
    try:
        address = token = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("serving session"):
                address = line.rsplit(" on ", 1)[1].strip()
            if line.startswith("token: "):
                token = line.split(": ", 1)[1].strip()
                break
        assert address and token == "secret", proc.stderr.read() if proc.stderr else ""
        with PoseStreamClient(address, token) as client:
            msgs = list(client.subscribe("tiny", timeout=TIMEOUT))
        rest, err = proc.communicate(timeout=TIMEOUT)
    finally:
        timer.cancel()
        proc.kill()
    assert proc.returncode == 0, err
    assert [m.WhichOneof("kind") for m in msgs] == ["info"] + ["frame"] * N_FRAMES + ["end"]
    assert msgs[0].info.state == pb.SESSION_STATE_RECORDED
    assert [m.frame.sequence for m in msgs[1:-1]] == list(range(N_FRAMES))
    assert "streamed 6 frames" in rest
