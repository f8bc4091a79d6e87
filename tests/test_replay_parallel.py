"""Replay perception on several threads: chunk planning, exact-once range reading of a file, and
that chunked perception gives the sequential result (identical in the first chunk)."""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from coach_backend.gcssn.network import GCSSN, NetworkConfig
from coach_backend.perception import PerceptionConfig
from coach_backend.replay import ReplayOptions, VideoReader, run_replay, write_video
from coach_backend.replay.parallel import CHUNK_MAX_S, perceive_file, plan_chunks
from coach_backend.replay.preflight import available_cores

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "walk_shot.mp4"
N_FRAMES = 24


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    with VideoReader(EXAMPLE) as video:
        return [image for (image, _), _ in zip(video, range(N_FRAMES), strict=False)]


@pytest.fixture(scope="module")
def clips(frames, tmp_path_factory) -> dict[str, Path]:
    """The same frames as plain H.264 (with B-frames: presentation != decode order) and as a
    phone-style portrait file (stored sideways + display matrix)."""
    folder = tmp_path_factory.mktemp("clips")
    plain, portrait = folder / "plain.mp4", folder / "portrait.mp4"
    write_video(plain, iter(frames), 30.0)
    sideways = [cv2.rotate(f, cv2.ROTATE_90_COUNTERCLOCKWISE) for f in frames]
    write_video(portrait, iter(sideways), 30.0, rotation_ccw=-90)
    return {"plain": plain, "portrait": portrait}


def test_plan_chunks() -> None:
    assert plan_chunks(None, 2) == plan_chunks(10**6, 1) == plan_chunks(0, 2)
    (whole,) = plan_chunks(None, 2)
    assert (whole.start_us, whole.end_us) == (0, None)
    chunks = plan_chunks(10_000_000, 2)
    assert [(c.start_us, c.end_us) for c in chunks] == [(0, 5_000_000), (5_000_000, None)]
    long = plan_chunks(int(95 * 1e6), 2)  # no chunk longer than CHUNK_MAX_S
    assert len(long) == 4 and long[1].start_us - long[0].start_us <= CHUNK_MAX_S * 1e6
    assert all(a.end_us == b.start_us for a, b in zip(long, long[1:], strict=False))
    limited = plan_chunks(10**9, 2, max_duration_us=2_000_000)  # only the part to be read
    assert [c.start_us for c in limited] == [0, 1_000_000]


@pytest.mark.parametrize("name", ["plain", "portrait"])
@pytest.mark.parametrize("cuts_ms", [(400,), (100, 401, 700), (0,)])
def test_read_range_covers_the_file_exactly_once(clips, name: str, cuts_ms) -> None:
    path = clips[name]
    with VideoReader(path) as video:
        assert video.seekable and video.duration_us == pytest.approx(N_FRAMES / 30 * 1e6, rel=0.1)
        whole = list(video)
    bounds = [0, *[c * 1000 for c in cuts_ms if c > 0], None]
    parts: list[tuple[np.ndarray, int]] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        with VideoReader(path) as video:
            parts.extend(video.read_range(start, end))
    assert [t for _, t in parts] == [t for _, t in whole]
    for (a, _), (b, _) in zip(parts, whole, strict=True):
        np.testing.assert_array_equal(a, b)
    assert parts[0][0].shape == (480, 640, 3)  # upright


def test_chunked_perception_matches_sequential(clips) -> None:
    config = PerceptionConfig(resolution=64)
    path = clips["plain"]
    sequential = list(perceive_file(path, config, workers=1))
    before = {t.name for t in threading.enumerate()}
    chunked = list(perceive_file(path, config, workers=2))
    assert {t.name for t in threading.enumerate()} <= before  # workers joined
    assert len(chunked) == len(sequential) == N_FRAMES
    assert [p.capture_time_us for p in chunked] == [p.capture_time_us for p in sequential]
    assert all(p.representation.has_person for p in chunked)
    half = N_FRAMES // 2  # chunk 0 is exactly the sequential run: same graph, same frames
    for a, b in zip(chunked[:half], sequential[:half], strict=True):
        np.testing.assert_array_equal(a.representation.keypoints, b.representation.keypoints)
    # Chunk 1 restarts tracking (fresh graph, landmark filter reset): close, not identical.
    diff = [
        np.abs(a.representation.keypoints - b.representation.keypoints).mean()
        for a, b in zip(chunked[half:], sequential[half:], strict=True)
    ]
    assert np.median(diff) < 2.0  # crop pixels (64 px crop)


def test_max_frames_stops_the_workers(clips) -> None:
    got = list(perceive_file(clips["plain"], PerceptionConfig(resolution=64), 2, max_frames=5))
    assert [round(p.capture_time_us / 33_333) for p in got] == list(range(5))
    assert not [t for t in threading.enumerate() if t.name.startswith("replay-perception")]


def test_replay_workers_agree(clips, tmp_path: Path) -> None:
    torch.manual_seed(0)
    weights = tmp_path / "untrained.pt"
    torch.save({"state_dict": GCSSN().state_dict(), "card": {"network": asdict(NetworkConfig())}},
               weights)  # fmt: skip
    outs = {}
    for workers in (1, 2):
        options = ReplayOptions(out_dir=tmp_path / f"w{workers}", weights=weights, workers=workers)
        result = run_replay(clips["plain"], options)
        assert result.workers == min(workers, available_cores()) and result.frames == N_FRAMES
        outs[workers] = np.load(result.npz)
    one, two = outs[1], outs[2]
    np.testing.assert_array_equal(one["timestamps"], two["timestamps"])
    np.testing.assert_array_equal(one["valid"], two["valid"])
    with pytest.raises(ValueError, match="workers"):
        next(perceive_file(clips["plain"], PerceptionConfig(), workers=0))
