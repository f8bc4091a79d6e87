"""Helpers for testing the command-line tools as a user runs them: in a subprocess, with the
modules they imported, and with folders that cannot be written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
# Imports that cost seconds: a command must not pay for them before its arguments are checked.
HEAVY_MODULES = (
    "torch", "mediapipe", "av", "cv2", "smplx", "numpy", "scipy", "matplotlib", "grpc", "aiortc",
    "trimesh",
)  # fmt: skip

# Runs a module's main(argv) and then reports (on the last line of stdout) which heavy modules
# the process had imported, whether main returned or exited (argparse: --help, usage errors).
_PROBE = """
import importlib, sys
heavy = {heavy!r}
code = 0
try:
    code = importlib.import_module(sys.argv[1]).main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
finally:
    print("imported:" + ",".join(m for m in heavy if m in sys.modules), flush=True)
sys.exit(code)
"""


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    heavy_imported: list[str]  # HEAVY_MODULES the process had imported when main was done


def run_cli_probe(module: str, *args: str, timeout: float = 120.0) -> CliRun:
    """`python -m <package>` as a user runs it (`module` is the one holding `main(argv)`),
    plus which heavy modules it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY_MODULES), module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=ENV,
    )
    *out, last = proc.stdout.rstrip("\n").split("\n")
    assert last.startswith("imported:"), proc.stdout + proc.stderr
    heavy = [m for m in last.removeprefix("imported:").split(",") if m]
    return CliRun(proc.returncode, "\n".join(out), proc.stderr, heavy)


def assert_one_error_line(stderr: str, *fragments: str) -> None:
    """The whole of stderr is one `error: ...` line (no traceback) naming `fragments`."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, stderr)


@contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder nothing can be written in, even by root (who ignores permission bits: then the
    immutable attribute, chattr +i). Skips the test where neither works."""
    path.mkdir(parents=True)
    path.chmod(0o555)
    immutable = False
    if os.geteuid() == 0 and shutil.which("chattr"):
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        immutable = done.returncode == 0
    try:
        probe = path / "probe"
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("cannot make a read-only folder here (root, and chattr +i failed)")
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
        path.chmod(0o755)
