"""An ended session leaves nothing of itself alive: pipeline, hub, recorder and session object
are garbage once it is over (the live server runs for weeks, one session after another); the
sessions share one GC-SSN network instead of loading one each; the C-heap helpers are safe
where there is no glibc."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import pytest

from coach_backend.dashboard import (
    ManagerConfig,
    SessionManager,
    default_pipeline_factory,
    native_heap,
)
from coach_backend.pipeline import PipelineConfig, SessionPipeline
from coach_backend.stream import PoseStreamServer, SessionHub, make_session_info

REPO = Path(__file__).resolve().parents[1]

# A fresh interpreter, as the live server is when its first session starts: there the first
# `import mediapipe` happens inside the session's pipeline, and mediapipe kept that import's
# traceback, so the first session's objects outlived it.
FIRST_SESSION_IN_A_FRESH_PROCESS = textwrap.dedent(
    """
    import gc, sys, tempfile, weakref
    from pathlib import Path
    import numpy as np
    import torch
    from coach_backend.gcssn.network import GCSSN
    from coach_backend.pipeline import PipelineConfig, SessionPipeline
    from coach_backend.recorder import SessionRecorder
    from coach_backend.stream import SessionHub, make_session_info

    assert "mediapipe" not in sys.modules  # (else this would not test the first import)
    torch.manual_seed(0)
    info = make_session_info("first", fps=30.0)
    recorder = SessionRecorder(Path(tempfile.mkdtemp()) / "first.coachrec", info)
    hub = SessionHub(info)
    pipeline = SessionPipeline("first", PipelineConfig(weights=GCSSN()), hub=hub,
                               recorder=recorder)
    for k in range(3):  # perception builds the MediaPipe graph: mediapipe is imported here
        pipeline.submit(np.full((240, 320, 3), 128, np.uint8), k * 33_333)
    pipeline.close("ended")
    alive = [weakref.ref(o) for o in (pipeline, hub, recorder)]
    del pipeline, hub, recorder
    gc.collect()
    print("alive:", [type(r()).__name__ for r in alive if r() is not None])
    """
)


def test_the_first_session_of_a_process_is_freed_once_closed() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", FIRST_SESSION_IN_A_FRESH_PROCESS],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "alive: []" in out.stdout, out.stdout + out.stderr[-3000:]


def test_an_ended_session_is_forgotten_by_the_manager(tmp_path: Path) -> None:
    """Through the live server's own manager and pipeline factory (no publisher: ending a
    session whose pipeline was built but never fed)."""
    config = ManagerConfig(
        recordings_dir=tmp_path, admin_token="admin", token_ttl_s=60.0, pause_timeout_s=60.0,
        waiting_timeout_s=60.0, max_sessions=2,
    )  # fmt: skip
    grpc = PoseStreamServer()  # (never started: the manager only hosts hubs in it)
    manager = SessionManager(config, grpc, default_pipeline_factory())

    async def create_and_end() -> list[weakref.ref[object]]:
        session, _ = await manager.create()
        assert session.pipeline_ready is not None
        pipeline = await session.pipeline_ready
        held = [weakref.ref(o) for o in (session, pipeline, session.hub, session.recorder)]
        await manager.end(session.id)
        return held

    held = asyncio.run(create_and_end())
    gc.collect()
    assert manager.live_sessions() == [] and grpc.session_ids() == []
    assert [r() for r in held] == [None] * len(held)


def test_sessions_share_one_network() -> None:
    make = default_pipeline_factory(PipelineConfig())  # (the shipped weights, from their file)
    hubs = [SessionHub(make_session_info(sid, fps=30.0)) for sid in ("a", "b")]
    pipelines = [make(hub.session_id, hub, None) for hub in hubs]  # type: ignore[arg-type]
    try:
        assert all(isinstance(p, SessionPipeline) for p in pipelines)
        first, second = (p.reconstructor.net for p in pipelines)  # type: ignore[attr-defined]
        assert first is second and not first.training
    finally:
        for p in pipelines:
            p.close("ended")


def test_heap_helpers_do_nothing_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native_heap, "_glibc", lambda: None)
    assert native_heap.limit_malloc_arenas() is False
    assert native_heap.release_free_heap() is False


def test_an_arena_limit_from_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert native_heap.limit_malloc_arenas() is False  # (mallopt not called: 4 stays)
    assert isinstance(native_heap.release_free_heap(), bool)
