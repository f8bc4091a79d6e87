"""Packages whose public names are imported on first use (PEP 562).

Why: importing one light module of a package (the skeleton's names, a CLI's `--help`) runs the
package's `__init__` first; there, eager imports of torch, MediaPipe or PyAV cost 1-2 s.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, homes: dict[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """For a package's `__init__`: `__getattr__, __dir__, names = lazy_exports(__name__,
    {"module": ("Name", ...)})`. A name is imported from its module of the package at its first
    use, then kept in the package's namespace."""
    home_of = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> Any:
        home = home_of.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        vars(sys.modules[package])[name] = value  # once: later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *home_of})

    return __getattr__, __dir__, sorted(home_of)
