"""Every command's `--help` answers at once (issue 13: <= 0.3 s): before its arguments are
parsed, no command imports torch, MediaPipe, numpy or the like. The commands are found, not
listed, so a new tool is held to the same rule."""

from __future__ import annotations

import re

import pytest
from cli_support import REPO, run_cli_probe

PACKAGE = REPO / "coach_backend"


def commands() -> list[str]:
    """The module holding `main` of every `python -m` target of the package: modules with a
    main block, and packages' `__main__` (or the module it takes `main` from)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        if path.name == "__main__.py":
            taken = re.search(r"^from (\S+) import main$", text, re.MULTILINE)
            found.append(taken.group(1) if taken else module)
        elif 'if __name__ == "__main__"' in text:
            found.append(module)
    return found


def test_the_commands_are_found() -> None:
    found = commands()
    assert "coach_backend.gcssn.train_lifter" in found and "coach_backend.replay.cli" in found
    assert len(found) >= 20


@pytest.mark.parametrize("module", commands())
def test_help_imports_nothing_heavy(module: str) -> None:
    run = run_cli_probe(module, "--help")
    assert run.returncode == 0, run.stderr
    assert run.stdout.lstrip().startswith("usage:"), run.stdout
    assert run.heavy_imported == []  # what makes --help answer at once
