"""Packages whose public names are imported on first use (PEP 562).

Why: importing one light module of a package (the skeleton's names, a CLI's `--help`) runs the
package's `__init__` first; there, eager imports of torch, MediaPipe or PyAV cost 1-2 s.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


class _Package(ModuleType):
    """A package whose exported names win over its submodules of the same name (`from
    coach_backend.mocap import retarget` is the function, not the module `mocap.retarget`), as
    when the package imported them eagerly. Why: importing a submodule sets it as an attribute
    of its package, which would hide the lazily exported name for good."""

    _shadowing: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._shadowing and isinstance(value, ModuleType):
            return  # the import system binding a submodule: the exported name stays
        super().__setattr__(name, value)


def lazy_exports(
    package: str, homes: dict[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """For a package's `__init__`: `__getattr__, __dir__, names = lazy_exports(__name__,
    {"module": ("Name", ...)})`. A name is imported from its module of the package at its first
    use, then kept in the package's namespace. `"module": ("submodule as alias",)` exports a
    submodule under another name."""
    home_of: dict[str, tuple[str, str]] = {}  # exported name -> (module, attribute)
    for module, names in homes.items():
        for entry in names:
            attribute, _, alias = entry.partition(" as ")
            home_of[alias or attribute] = (module, attribute)

    def __getattr__(name: str) -> Any:
        if name not in home_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        home, attribute = home_of[name]
        module = importlib.import_module(f"{package}.{home}")
        try:
            value = getattr(module, attribute)
        except AttributeError:  # a submodule its package does not import itself
            value = importlib.import_module(f"{package}.{home}.{attribute}")
        vars(sys.modules[package])[name] = value  # once: later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *home_of})

    shadowing = frozenset(name for name, (home, attribute) in home_of.items() if name == home)
    if shadowing:
        module = sys.modules[package]
        module.__class__ = _Package
        vars(module)["_shadowing"] = shadowing
    return __getattr__, __dir__, sorted(home_of)
