"""Replay CLI end to end on a tiny clip (first frames of the shipped example), bad inputs and
arguments (found before any processing), a killed replay, truncated files, phone rotation
metadata, the progress bar, and --serve to a real gRPC subscriber."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from cli_support import assert_one_error_line, read_only_folder, run_cli_probe

from coach_backend.export import load_motion
from coach_backend.gcssn.network import GCSSN, NetworkConfig
from coach_backend.recorder import read_recording
from coach_backend.replay import VideoError, VideoReader, rotation_cw_degrees, write_video
from coach_backend.replay.cli import main, progress_bar
from coach_backend.replay.preflight import available_cores, capped_workers
from coach_backend.stream import FLAG_VALID, PoseStreamClient, pb

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "walk_shot.mp4"
N_FRAMES = 6
EXAMPLE_FRAMES = 129
TIMEOUT = 60.0
CLI = "coach_backend.replay.cli"
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
    assert doc["expected_frames"] == t
    assert not [x for x in proc.stderr.splitlines() if x.startswith("warning:")], proc.stderr

    # A second run refuses to overwrite unless --force.
    proc = run_cli(str(clip), "--weights", str(weights), "--out", str(out), "--max-frames", "2")
    assert proc.returncode == 1 and "--force" in proc.stderr


def test_timings_file_for_benchmarks(clip: Path, weights: Path, tmp_path: Path) -> None:
    timings = tmp_path / "timings.json"
    before = time.time()
    args = [str(clip), "--weights", str(weights), "--out", str(tmp_path / "out"), "--quiet"]
    assert main([*args, "--timings", str(timings)]) == 0
    doc = json.loads(timings.read_text())
    assert before <= doc["started_at"] <= doc["first_poses_at"] <= doc["outputs_written_at"]
    assert doc["outputs_written_at"] <= time.time()
    assert doc["frames"] == N_FRAMES and doc["processing_s"] > 0
    assert doc["steady_fps"] == pytest.approx(N_FRAMES / doc["processing_s"])
    assert doc["steady_realtime_factor"] == pytest.approx(
        doc["video_duration_s"] / doc["processing_s"]
    )


# -- perception resolution and batching (issue 13) --


@pytest.fixture(scope="module")
def phone_sized_clip(upright_frames, tmp_path_factory) -> Path:
    """The tiny clip at 2x its size (1280x960): bigger than the perception side."""
    path = tmp_path_factory.mktemp("clip") / "tiny_1280.mp4"
    big = [cv2.resize(f, (1280, 960), interpolation=cv2.INTER_CUBIC) for f in upright_frames]
    write_video(path, iter(big), fps=30.0)
    return path


def projected_joints(npz: np.lib.npyio.NpzFile) -> np.ndarray:
    """(T,24,2) the replay's joints in the pixels of its own `image_size` frame."""
    fx, fy, cx, cy = npz["intrinsics"]
    joints = npz["joints"]
    return joints[..., :2] / joints[..., 2:] * (fx, fy) + (cx, cy)


def test_perception_side_keeps_outputs_in_the_videos_pixels(
    phone_sized_clip: Path, tmp_path: Path
) -> None:
    """Frames shrunk to 640 before MediaPipe: the outputs are still those of the 1280x960
    video (size, intrinsics) and the body lands where a native replay puts it."""
    outputs = {}
    for side in ("640", "0"):
        out = tmp_path / side
        args = [str(phone_sized_clip), "--out", str(out), "--quiet", "--perception-max-side", side]
        assert main(args) == 0
        outputs[side] = np.load(out / "smpl.npz")
    shrunk, native = outputs["640"], outputs["0"]
    assert json.loads(str(shrunk["meta"]))["perception_max_side"] == 640
    assert json.loads(str(native["meta"]))["perception_max_side"] is None
    assert tuple(shrunk["image_size"]) == tuple(native["image_size"]) == (1280, 960)
    np.testing.assert_allclose(shrunk["intrinsics"], native["intrinsics"])
    assert shrunk["valid"].all() and native["valid"].all()
    a, b = projected_joints(shrunk), projected_joints(native)
    height = np.ptp(b[..., 1], axis=1).mean()  # the body's extent in the image
    assert height > 200  # (in full-size pixels: half of it would mean 640-frame pixels)
    assert np.median(np.linalg.norm(a - b, axis=-1)) < 0.03 * height


def test_gcssn_batches_start_small() -> None:
    from coach_backend.replay.run import _batches

    sizes = [len(b) for b in _batches(iter(range(75)), 8, 32)]
    assert sizes == [8, 32, 32, 3]
    assert [len(b) for b in _batches(iter(range(5)), 8, 32)] == [5]


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


@pytest.mark.parametrize(
    "args", [["--max-frames", "0"], ["--perception-max-side", "8"], ["--perception-max-side", "-1"]]
)
def test_usage_errors(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["x.mp4", *args])
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


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


# -- arguments are checked before anything is processed (issue 12, fault 8) --


@pytest.mark.parametrize("module", [CLI, "coach_backend.demo"])
def test_help_imports_nothing_heavy(module: str) -> None:
    run = run_cli_probe(module, "--help")
    assert run.returncode == 0 and "--weights" in run.stdout
    assert run.heavy_imported == []  # what makes --help answer at once


@pytest.mark.parametrize(
    "case",
    [
        "input_missing",
        "input_folder",
        "out_is_a_file",
        "out_is_a_file_even_with_force",
        "out_read_only",
        "out_inside_a_file",
        "weights_missing",
        "weights_not_a_pt_file",
        "weights_folder",
        "overlay_read_only",
        "overlay_not_a_video_name",
        "overlay_is_a_folder",
    ],
)
def test_bad_argument_is_one_line_before_any_import(case: str, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    video = str(clip)
    extra: list[str] = []
    if case == "input_missing":
        video, named = str(tmp_path / "gone.mp4"), "no such file"
    elif case == "input_folder":
        video, named = str(tmp_path), "not a file"
    elif case.startswith("out_is_a_file"):
        out.write_text("my notes\n")
        extra, named = (["--force"] if case.endswith("force") else []), "is an existing file"
    elif case == "out_inside_a_file":
        (tmp_path / "notes").write_text("x")
        out, named = tmp_path / "notes" / "out", "is a file, not a folder"
    elif case == "weights_missing":
        extra, named = ["--weights", str(tmp_path / "none.pt")], "gcssn.train"
    elif case == "weights_not_a_pt_file":
        (tmp_path / "w.json").write_text('{"not": "weights"}')
        extra, named = ["--weights", str(tmp_path / "w.json")], "not a PyTorch weights file"
    elif case == "weights_folder":
        extra, named = ["--weights", str(tmp_path)], "not a file"
    elif case == "overlay_not_a_video_name":
        extra, named = ["--overlay", str(tmp_path / "overlay.txt")], ".mp4"
    elif case == "overlay_is_a_folder":
        extra, named = ["--overlay", str(tmp_path)], "is a folder"
    if case in ("out_read_only", "overlay_read_only"):
        with read_only_folder(tmp_path / "read_only") as read_only:
            if case == "out_read_only":
                out = read_only / "out"
            else:
                extra = ["--overlay", str(read_only / "overlay.mp4")]
            run = run_cli_probe(CLI, video, "--out", str(out), *extra)
        named = "cannot write in"
    else:
        run = run_cli_probe(CLI, video, "--out", str(out), *extra)
    assert run.returncode == 1, run.stderr
    assert_one_error_line(run.stderr, named)
    assert run.heavy_imported == []  # found before torch, MediaPipe, PyAV were even loaded
    assert not (out / "session.coachrec").exists()


def test_not_a_video_and_foreign_weights_fail_before_processing(clip: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 100)
    run = run_cli_probe(CLI, str(notes), "--out", str(tmp_path / "o1"))
    assert run.returncode == 1
    assert_one_error_line(run.stderr, str(notes), "not a readable video")
    assert "torch" not in run.heavy_imported  # PyAV looked at it; no model was loaded

    foreign = tmp_path / "foreign.pt"
    torch.save({"something": torch.zeros(3)}, foreign)  # a real .pt, but not GC-SSN weights
    run = run_cli_probe(CLI, str(clip), "--out", str(tmp_path / "o2"), "--weights", str(foreign))
    assert run.returncode == 1
    assert_one_error_line(run.stderr, str(foreign), "not usable")
    assert "mediapipe" not in run.heavy_imported  # no frame was processed
    assert not (tmp_path / "o2").exists()


# -- a killed replay keeps what it processed (issue 12, fault 7) --


def test_killed_replay_keeps_its_recording(weights: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    recording = out / "session.coachrec"
    cmd = [sys.executable, "-m", "coach_backend.replay", str(EXAMPLE), "--weights", str(weights)]
    cmd += ["--out", str(out), "--workers", "1", "--quiet"]  # sequential: the slowest way
    with (tmp_path / "stderr.txt").open("w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, cwd=REPO, env=ENV)
        try:
            header_size = None  # the file starts with its synced SessionInfo
            deadline = time.monotonic() + 4 * TIMEOUT
            while True:
                assert proc.poll() is None, "the replay ended before any frame reached the disk"
                assert time.monotonic() < deadline, "no frame reached the disk"
                size = recording.stat().st_size if recording.exists() else None
                if header_size is None:
                    header_size = size
                elif size is not None and size > header_size:
                    break  # frames were synced to the disk while the replay runs
                time.sleep(0.01)
            proc.kill()  # SIGKILL: no handler runs, nothing more is flushed
            assert proc.wait(timeout=TIMEOUT) == -9
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    rec = read_recording(recording)
    n = len(rec.frames)
    assert 1 <= n < EXAMPLE_FRAMES and rec.end is None  # killed mid-way: no StreamEnd
    assert rec.info.state == pb.SESSION_STATE_RECORDED
    assert [f.sequence for f in rec.frames] == list(range(n))
    times_s = np.array([f.capture_time_us for f in rec.frames]) / 1e6
    np.testing.assert_allclose(times_s, np.arange(n) / 30.0, atol=1e-3)
    assert len(load_motion(recording)) == n  # usable as it is: exports read it
    # A later replay does not overwrite what the killed one kept, unless told to.
    run = run_cli_probe(CLI, str(EXAMPLE), "--weights", str(weights), "--out", str(out))
    assert run.returncode == 1
    assert_one_error_line(run.stderr, "--force")


# -- truncated files and the worker cap (issue 12, fault 11) --


@pytest.fixture(scope="module")
def example_frames() -> list[np.ndarray]:
    with VideoReader(EXAMPLE) as video:
        return [image for (image, _), _ in zip(video, range(16), strict=False)]


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_truncated_video_is_reported(
    container: str, example_frames, weights: Path, tmp_path: Path, capsys
) -> None:
    # mp4 with its index first (as web downloads are): the header counts 16 frames; Matroska
    # stores no count, only the duration. Cut either in half and the rest still decodes.
    whole = tmp_path / f"whole.{container}"
    write_video(whole, iter(example_frames), 30.0, faststart=container == "mp4")
    cut = tmp_path / f"cut.{container}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    out = tmp_path / "out"
    workers = str(available_cores() + 62)
    assert main([str(cut), "--weights", str(weights), "--out", str(out), "--workers", workers,
                 "--quiet"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    warned = warnings_in(captured.err)
    assert len(warned) == 2, captured.err
    assert f"--workers {workers} is more than the {available_cores()} available" in warned[0]
    doc = json.loads((out / "smpl.json").read_text())
    assert doc["expected_frames"] == len(example_frames)
    decoded = doc["num_frames"]
    assert 1 <= decoded < len(example_frames)
    missing = len(example_frames) - decoded
    assert f"only {decoded} of the {len(example_frames)} frames" in warned[1]
    assert str(cut) in warned[1]
    assert f"{decoded} of {len(example_frames)} declared ({missing} MISSING" in captured.out
    cores = available_cores()
    assert f"{cores} perception thread" in captured.out  # capped to the cores


def test_worker_cap() -> None:
    cores = available_cores()
    assert capped_workers(cores) == (cores, None)
    capped, note = capped_workers(cores + 1)
    assert capped == cores and note is not None and f"using {cores}" in note


# -- progress bar (issue 13) --


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("total", [10, None])
def test_progress_bar_shows_fps_and_time_left(total: int | None, monkeypatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = progress_bar(quiet=False)
    tick = bar(total)
    tick(4)
    bar.close()
    last = terminal.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert " fps]" in last
    if total:
        assert "4/10 frames" in last and "<" in last  # time spent < time left
    else:
        assert "4 frames" in last and "<" not in last  # unknown length: no time left


def test_quiet_progress_bar_draws_nothing(monkeypatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = progress_bar(quiet=True)
    bar(10)(4)
    bar.close()
    assert terminal.getvalue() == ""
