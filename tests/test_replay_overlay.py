"""The replay's overlay video (`run._write_overlay`): every frame of the video at its own size
with the body painted as `viz.draw_mesh` paints it, the report's key frames, and the worker
threads that decode, paint and encode it (`run._ahead`)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Generator
from pathlib import Path

import numpy as np
import pytest
import torch

from coach_backend.body import load_body_model
from coach_backend.perception import Camera
from coach_backend.perception.render import decimate_mesh
from coach_backend.replay import VideoReader, run, write_video
from coach_backend.smoothing import SmplSequence
from coach_backend.viz import draw_mesh, perspective

W, H, T = 320, 240, 8
INVALID = 3  # a frame without a body: left as the video shows it
CODEC_TOLERANCE = 4.0  # mean absolute difference (0-255) that H.264 at the overlay's crf leaves


def _decoded(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as video:
        return [image for image, _ in video]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A textured clip, so that the painted body and the background differ everywhere."""
    y, x = np.mgrid[0:H, 0:W]
    frames = []
    for t in range(T):
        image = np.stack([(x + 3 * t) % 256, (y * 2) % 256, (x + y) // 3 % 256], axis=-1)
        frames.append(image.astype(np.uint8))
    path = tmp_path_factory.mktemp("overlay") / "source.mp4"
    write_video(path, iter(frames), fps=30.0)
    return path


def test_overlay_paints_the_body_on_every_frame_at_the_videos_size(
    source: Path, tmp_path: Path
) -> None:
    body = load_body_model()
    camera = Camera.default_for(W, H)
    valid = np.arange(T) != INVALID
    transl = np.stack([np.linspace(-0.3, 0.3, T), np.zeros(T), np.full(T, 3.0)], axis=1)
    seq = SmplSequence(
        global_orient=np.tile([np.pi, 0.0, 0.0], (T, 1)),  # y up -> the camera's y down
        body_pose=np.zeros((T, 23, 3)),
        betas=np.zeros((T, 10)),
        transl=transl,
        valid=valid,
        timestamp_s=np.arange(T) / 30.0,
    )
    out = tmp_path / "overlay.mp4"
    kept = run._write_overlay(source, out, seq, camera, body, 30.0, keep={0, INVALID})

    # What the overlay should show: the decoded video with the decimated body painted on.
    rest = body.v_template.numpy().astype(np.float64)
    ids, faces = decimate_mesh(rest, np.asarray(body.faces), run.OVERLAY_VOXEL_M)
    params = run._params(seq, np.arange(T))
    with torch.no_grad():
        verts = body(params, torch.as_tensor(ids)).vertices.numpy().astype(np.float64)
    plain = _decoded(source)
    expected = [image.copy() for image in plain]
    projections = {}
    for i in np.flatnonzero(valid):
        projections[i] = perspective(verts[i], *camera.intrinsics)
        draw_mesh(expected[i], projections[i], faces, alpha=0.6)

    overlay = _decoded(out)
    assert len(overlay) == T and overlay[0].shape == (H, W, 3)
    for i in range(T):
        got, want = overlay[i].astype(float), expected[i].astype(float)
        assert np.abs(got - want).mean() < CODEC_TOLERANCE, i
        painted = np.abs(want - plain[i]).max(axis=-1) > 40
        if i == INVALID:
            assert not painted.any()
        else:
            assert painted.mean() > 0.05, i  # the body covers a good part of the frame
            assert np.abs(got - plain[i])[painted].mean() > 20, i  # and shows in the video
    # Key frames: painted ones cropped around the body (exactly what was encoded), the others
    # whole.
    assert np.array_equal(kept[0], run._around(expected[0], projections[0].pixels))
    assert kept[0].shape[0] < H and kept[INVALID].shape == (H, W, 3)


def test_encoder_crops_odd_sizes_to_even_and_keeps_the_colours(tmp_path: Path) -> None:
    frames = [np.full((41, 63, 3), (40 * k, 90, 200), np.uint8) for k in range(3)]
    write_video(tmp_path / "odd.mp4", iter(frames), 30.0)
    decoded = _decoded(tmp_path / "odd.mp4")
    assert len(decoded) == 3 and decoded[0].shape == (40, 62, 3)
    for got, want in zip(decoded, frames, strict=True):
        assert np.abs(got.astype(float) - want[:40, :62]).mean() < CODEC_TOLERANCE


def test_ahead_keeps_order_and_raises_where_the_worker_failed() -> None:
    def items() -> Generator[int, None, None]:
        yield from range(5)
        raise ValueError("broken after 5")

    got = []
    with pytest.raises(ValueError, match="broken after 5"):
        for item in run._ahead(items(), 2):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_ahead_closed_early_closes_its_source_and_stops_the_worker() -> None:
    closed = threading.Event()

    def items() -> Generator[int, None, None]:
        try:
            yield from itertools.count()
        finally:
            closed.set()

    ahead = run._ahead(items(), 2)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "replay-overlay"]
