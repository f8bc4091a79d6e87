"""The layout tells the architecture: imports only point down, and constants exist once.

Read from the source (AST), so that lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import coach_backend
from coach_backend.body import skeleton

PACKAGE = Path(coach_backend.__file__).parent

# Lowest first. A package may import only packages of a LOWER tier (not its own tier's).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("lazy",),  # lazy exports: every package's __init__ may use them
    # foundations: where files live, defaults, drawing, the fits' optimiser
    ("resources", "config", "viz", "optim"),
    ("body",),  # core stages ...
    ("mocap", "smoothing"),
    ("prior", "perception"),
    ("gcssn",),
    ("stream",),  # services
    ("recorder",),
    ("pipeline", "ingest"),  # one session: core stages -> stream + recorder; WebRTC ingest
    ("export",),  # readers of what a session left: recordings and replay results -> motion
    ("analytics",),  # what a coach does with that motion: angles, reps, comparison
    ("compare",),  # the session / comparison report (one writer) and its CLI
    ("replay", "dashboard"),  # apps: both write the session summary and report
    ("serve", "demo", "examples_gen"),
)
# Known exceptions, each with its reason.
ALLOWED_UPWARD = {
    # A training tool that measures MediaPipe on renders; it samples views with GC-SSN's
    # synthetic-data code (lazily, in the measuring function only).
    ("perception/detector_offsets.py", "gcssn"),
    # The export CLI checks its output folder with the replay's own check (standard library
    # only, lazily): one rule for every output folder.
    ("export/__main__.py", "replay"),
}
TIER = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _modules() -> list[Path]:
    skip = {"proto_gen", "node_modules", "web", "models"}
    return [p for p in PACKAGE.rglob("*.py") if not skip & set(p.relative_to(PACKAGE).parts)]


def _package_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) for every import in the file."""
    out: list[tuple[str, list[str]]] = []
    here = path.relative_to(PACKAGE.parent).with_suffix("").parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if node.level:
                base = list(here[: len(here) - node.level])  # (an __init__ counts as a module)
                module = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x: each name is a module
                    out += [(f"{module}.{n}", []) for n in names]
                    continue
            else:
                module = node.module or ""
            out.append((module, names))
    return out


def test_every_package_has_a_tier() -> None:
    packages = {_package_of(p) for p in _modules()} - {"__init__"}
    assert packages <= set(TIER), f"add {sorted(packages - set(TIER))} to LAYERS"


def test_imports_only_point_down() -> None:
    bad = []
    for path in _modules():
        own = _package_of(path)
        if own == "__init__":
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        for module, _ in _imports(path):
            parts = module.split(".")
            if parts[0] != "coach_backend" or len(parts) < 2 or parts[1] == own:
                continue
            target = parts[1]
            if TIER[target] >= TIER[own] and (rel, target) not in ALLOWED_UPWARD:
                bad.append(f"{rel} imports {module} ({own} may not import {target})")
    assert not bad, "\n".join(bad)


def test_only_the_perception_package_reads_mediapipe_tables() -> None:
    """Outside perception, the MediaPipe module offers its detector and nothing else (crop
    rule: perception.crop; detection confidence: perception.detection)."""
    bad = []
    for path in _modules():
        if _package_of(path) == "perception":
            continue
        for module, names in _imports(path):
            if module == "coach_backend.perception.mediapipe_source":
                extra = set(names) - {"MediaPipeDetector"}
                if extra:
                    bad.append(f"{path.relative_to(PACKAGE)}: {sorted(extra)}")
        assert "MEDIAPIPE_TO_SURFACE" not in path.read_text(), path
    assert not bad, "\n".join(bad)


def test_body_constants_are_defined_once() -> None:
    names = {
        "NUM_BETAS",
        "NUM_JOINTS",
        "NUM_BODY_JOINTS",
        "NUM_KEYPOINTS",
        "KEYPOINT_NAMES",
        "SURFACE_KEYPOINT_NAMES",
        "SMPL_JOINT_NAMES",
        "SMPL_PARENTS",
    }
    # The wire layout spells its joint count out (clients hard-code it) and asserts it.
    allowed = {("body/skeleton.py", n) for n in names} | {("stream/codec.py", "NUM_JOINTS")}
    allowed.add(("perception/types.py", "SURFACE_KEYPOINT_NAMES"))  # = tuple(KEYPOINT_NAMES)
    defined = set()
    for path in _modules():
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id in names:
                    defined.add((path.relative_to(PACKAGE).as_posix(), t.id))
    assert defined <= allowed, sorted(defined - allowed)


def test_derived_names_match_the_body() -> None:
    from coach_backend.perception import NUM_KEYPOINTS, SURFACE_KEYPOINT_NAMES
    from coach_backend.smoothing import NUM_BETAS, NUM_JOINTS
    from coach_backend.stream import SMPL24_JOINT_NAMES
    from coach_backend.stream.codec import NUM_JOINTS as WIRE_JOINTS

    body_names = (tuple(skeleton.KEYPOINT_NAMES), tuple(skeleton.SMPL_JOINT_NAMES))
    assert body_names == (SURFACE_KEYPOINT_NAMES, SMPL24_JOINT_NAMES)
    assert NUM_KEYPOINTS == skeleton.NUM_KEYPOINTS == 23
    body_counts = (skeleton.NUM_BETAS, skeleton.NUM_JOINTS, skeleton.NUM_JOINTS)
    assert body_counts == (NUM_BETAS, NUM_JOINTS, WIRE_JOINTS)
