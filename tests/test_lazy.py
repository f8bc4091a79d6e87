"""Lazy package exports (`coach_backend.lazy`): a package's public names import on first use,
and behave as the eager imports they replaced. Each case runs in a fresh interpreter, so that
what an earlier test imported cannot hide the order that matters."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_support import ENV, REPO


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, env=ENV, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# Exported names that are also the name of the submodule they live in.
SHADOWED = [("mocap", "retarget"), ("analytics", "dtw"), ("recorder", "replay")]


@pytest.mark.parametrize(("package", "name"), SHADOWED)
def test_an_exported_name_wins_over_its_submodule_imported_first(package: str, name: str) -> None:
    out = run_python(
        f"import coach_backend.{package}.{name}\n"  # binds the submodule on the package
        f"from coach_backend.{package} import {name}\n"
        f"print(type({name}).__name__)"
    )
    assert out == "function"


def test_a_name_loads_only_its_own_module_on_first_use() -> None:
    out = run_python(
        "import sys\n"
        "import coach_backend.stream as stream\n"
        "before = 'coach_backend.stream.server' in sys.modules\n"
        "stream.encode_pose\n"
        "print(before, 'coach_backend.stream.codec' in sys.modules,\n"
        "      'coach_backend.stream.server' in sys.modules, stream.pb.__name__)"
    )
    assert out == "False True False coach_backend.stream.proto_gen.coach_pb2"


def test_an_unknown_name_is_an_attribute_error() -> None:
    import coach_backend.smoothing as smoothing

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = smoothing.nothing_here  # type: ignore[attr-defined]
    assert "SmoothingConfig" in dir(smoothing)
