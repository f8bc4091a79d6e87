"""``python -m coach_backend.serve`` as a process: SIGTERM shuts down cleanly (recordings closed),
start-up problems are one line on stderr and a non-zero exit, ``--help`` loads nothing heavy.

Each test starts a real server process on loopback (ports picked by the OS unless a test takes
one on purpose); every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_support import ADMIN, http

from coach_backend.recorder import read_recording

SERVE = [sys.executable, "-m", "coach_backend.serve"]
TIMEOUT = 120.0  # a cold start imports torch, MediaPipe and aiortc on a loaded 2-core box


def serve_args(tmp_path: Path, *extra: str) -> list[str]:
    return [*SERVE, "--http-port", "0", "--grpc-port", "0", "--admin-token", ADMIN,
            "--recordings", str(tmp_path / "recordings"), *extra]  # fmt: skip


def run_failing(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run a server that must refuse to start (TimeoutExpired if it starts after all)."""
    return subprocess.run(
        serve_args(tmp_path, *extra), cwd=tmp_path, capture_output=True, text=True,
        timeout=TIMEOUT,
    )  # fmt: skip


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode not in (0, None), proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    assert lines[0].startswith("python -m coach_backend.serve: error: "), lines[0]
    assert all(word in lines[0] for word in words), lines[0]


@contextlib.contextmanager
def taken_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


@pytest.mark.parametrize("which", ["--http-port", "--grpc-port"])
def test_port_in_use(tmp_path: Path, which: str) -> None:
    with taken_port() as port:
        proc = run_failing(tmp_path, which, str(port))
    assert_one_line_error(proc, f"127.0.0.1:{port}", "in use")


def test_missing_tls_files(tmp_path: Path) -> None:
    cert = tmp_path / "missing-cert.pem"
    proc = run_failing(tmp_path, "--tls-cert", str(cert), "--tls-key", str(tmp_path / "k.pem"))
    assert_one_line_error(proc, "TLS", str(cert))


def test_bad_ice_server(tmp_path: Path) -> None:
    proc = run_failing(tmp_path, "--ice-server", "http://turn.example.org")
    assert_one_line_error(proc, "--ice-server", "stun:")
    assert proc.returncode == 2  # a usage error, as argparse's own


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[None]:
    """``path`` made unwritable, even for root (immutable attribute) where chattr works."""
    path.mkdir()
    path.chmod(0o555)
    immutable = os.geteuid() == 0 and shutil.which("chattr") is not None
    if immutable:
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    try:
        try:
            (path / "probe").touch()
        except OSError:
            yield
            return
        (path / "probe").unlink()
        pytest.skip("cannot make a folder read-only here")
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o755)


def test_read_only_recordings_folder(tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    with read_only_dir(folder):
        proc = subprocess.run(
            [*SERVE, "--http-port", "0", "--grpc-port", "0", "--recordings", str(folder)],
            cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
    assert_one_line_error(proc, "recordings folder", str(folder), "not writable")


def test_help_is_quick_to_load(tmp_path: Path) -> None:
    """``--help`` must not import the heavy libraries (it took seconds for torch & co.)."""
    heavy = ("torch", "mediapipe", "aiortc", "av", "cv2", "grpc", "aiohttp")
    code = (
        "import sys\n"
        "from coach_backend.serve import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('loaded:', sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=TIMEOUT, cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0 and "--waiting-timeout" in out.stdout, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "loaded: []"


def wait_for_line(path: Path, prefix: str, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines():
            if line.startswith(prefix):
                return line
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {path.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"no {prefix!r} line from the server")


def test_sigterm_closes_recordings_like_ctrl_c(tmp_path: Path) -> None:
    """systemd, Docker and Kubernetes stop a server with SIGTERM: it used to die at once,
    leaving open recordings without their StreamEnd."""
    stdout = tmp_path / "stdout.txt"
    with stdout.open("w") as out:
        proc = subprocess.Popen(serve_args(tmp_path), cwd=tmp_path, stdout=out,
                                stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        line = wait_for_line(stdout, "dashboard: ", proc)
        base = line.removeprefix("dashboard: ").split("/?token=")[0]
        status, body = http("POST", f"{base}/api/sessions", ADMIN)
        assert status == 201, body
        path = tmp_path / "recordings" / f"{body['session_id']}.coachrec"
        assert path.is_file() and read_recording(path).end is None  # open
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rec = read_recording(path)
    assert rec.complete and rec.end.reason == "server shutting down"
