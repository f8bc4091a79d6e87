"""Live glass-to-pose latency over loopback and concurrent sessions (640x480 by default).

Usage (repo root): ``python benchmarks/bench_live.py [--sessions 1 2 3] [--seconds 12]
[--size 1280x720] [--publisher pre-encoded] [--weights models/X.pt]
[--out benchmarks/results/live.md]``;
first pose of fresh sessions: ``python benchmarks/bench_live.py --first-pose 5
[--first-pose-sessions 3] [--join-after 0] [--clip examples/walk_shot.mp4] [--out ...]``

Two processes, so the measured server is not sharing its interpreter with the clients:
- server (``--serve``, spawned): ``LiveServer`` (aiohttp + aiortc + gRPC) with the real
  ``SessionPipeline``; a thin wrapper around each pipeline reads the frame number that the
  publisher painted into the frame (16 black/white 16x16 blocks, top-left) and logs
  capture_time_us -> frame number. Nothing else is changed.
- clients (this process): per session one aiortc publisher sending the rendered squat clip at
  30 fps (pts = frame number x 3000 at 90 kHz) and one gRPC ``PoseStreamClient``.

glass-to-pose = time the gRPC subscriber receives a pose - time the publisher handed that
frame's picture to aiortc (before VP8 encoding; a camera's "glass" moment). Same host, same
clock. Session throughput = poses received per second per session over the measurement window
(after a warm-up). ``--publisher encode`` (the default) has each publisher VP8-encode its frames
live, on the same 2 cores as the server, which makes the session count pessimistic compared
with phones doing their own encoding; ``--publisher pre-encoded`` encodes the stamped clip once
before the run (libvpx, aiortc's default 500 kbit/s, a key frame a second) and sends those
packets at 30 fps through the same aiortc sender, so the cores hold only what the server does
(on 2026-12-07 two sessions were no faster that way: the publishers are not what is missing).

``--first-pose RUNS``: the wait for a session's first pose instead, on the real server
(``python -m coach_backend.serve``, one per run) with the example clip: fresh sessions one after
the other, the first created as soon as the server listens; the server's own figure
(``first_pose_ms`` in the session's status: first video frame received -> first pose published)
and the client's (see ``first_pose_session``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BITS = 16
BLOCK = 16
WARMUP_S = 4.0


# -- frame stamping (client) and reading (server) --
def stamp(image: np.ndarray, k: int) -> np.ndarray:
    out = image.copy()
    for b in range(BITS):
        out[:BLOCK, b * BLOCK : (b + 1) * BLOCK] = 255 if (k >> b) & 1 else 0
    return out


def read_stamp(image: np.ndarray) -> int:
    k = 0
    for b in range(BITS):
        c = image[4 : BLOCK - 4, b * BLOCK + 4 : (b + 1) * BLOCK - 4]
        if c.mean() > 128:
            k |= 1 << b
    return k


# -- server process --
def serve(workdir: Path, weights: Path | None, perception_side: int | None) -> None:
    import torch

    from coach_backend.dashboard.sessions import default_pipeline_factory
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS
    from coach_backend.ingest import IngestConfig
    from coach_backend.perception import PerceptionConfig
    from coach_backend.pipeline import PipelineConfig
    from coach_backend.serve import LiveServer, ServeConfig

    perception = PerceptionConfig(max_input_side=perception_side)
    if weights is not None:
        weights_note, cfg = str(weights), PipelineConfig(perception=perception, weights=weights)
    elif DEFAULT_WEIGHTS.is_file():
        weights_note = f"trained ({DEFAULT_WEIGHTS.name})"
        cfg = PipelineConfig(perception=perception)
    else:  # same architecture and cost, untrained (weights not exported yet)
        from coach_backend.gcssn.network import GCSSN

        torch.manual_seed(0)
        weights_note, cfg = (
            f"untrained (no {DEFAULT_WEIGHTS.name})",
            PipelineConfig(perception=perception, weights=GCSSN().eval()),
        )
    inner = default_pipeline_factory(cfg)
    logs: dict[str, dict[int, int]] = {}

    class Stamped:  # reads the frame number; the real pipeline does all the work
        def __init__(self, sid: str, hub: Any, rec: Any) -> None:
            self.pipeline = inner(sid, hub, rec)
            self.log = logs.setdefault(sid, {})

        def submit(self, frame_bgr: np.ndarray, t_us: int, on_result: Any = None) -> None:
            self.log[t_us] = read_stamp(frame_bgr)
            self.pipeline.submit(frame_bgr, t_us, on_result=on_result)

        def close(self, reason: str) -> None:
            self.pipeline.close(reason)

    async def main() -> None:
        server = LiveServer(
            ServeConfig(http_port=0, grpc_port=0, recordings_dir=workdir / "recordings",
                        admin_token="bench", ingest=IngestConfig(frame_timeout_s=10.0)),
            pipeline_factory=Stamped,
        )  # fmt: skip
        await server.start()
        print(json.dumps({"base": server.base_url, "grpc": server.grpc.port,
                          "weights": weights_note}), flush=True)  # fmt: skip
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        (workdir / "server_log.json").write_text(
            json.dumps({sid: {str(t): k for t, k in m.items()} for sid, m in logs.items()})
        )
        await server.stop()

    asyncio.run(main())


# -- client side --
PRE_ENCODED_BITRATE = 500_000  # aiortc's own VP8 starting bitrate
PRE_ENCODED_GOP = 30  # a key frame a second: no encoder to answer a picture-loss request


def post(url: str, token: str, body: Any = None) -> Any:
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {token}",
                                                         "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def get_json(url: str, token: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def load_clip(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def start_server(workdir: Path, admin: str) -> tuple[subprocess.Popen[str], str, str]:
    """``python -m coach_backend.serve`` on free loopback ports: (process, base URL, gRPC
    target). Its log goes to ``workdir/server.log``."""
    cmd = [sys.executable, "-m", "coach_backend.serve", "--host", "127.0.0.1", "--http-port", "0",
           "--grpc-port", "0", "--recordings", str(workdir / "recordings"),
           "--admin-token", admin]  # fmt: skip
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
    assert proc.stdout is not None
    base = grpc_target = ""
    while not (base and grpc_target):
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the server did not start; see {workdir / 'server.log'}")
        if line.startswith("dashboard: "):
            base = line.split()[1].split("/?")[0]
        elif line.startswith("gRPC pose stream: "):
            grpc_target = line.split()[-1]
    return proc, base, grpc_target


class ClipTrack:
    """A 30 fps camera stand-in: loops the clip, stamps the frame number, logs send times."""

    def __init__(self, frames: list[np.ndarray], fps: int = 30) -> None:
        from aiortc import VideoStreamTrack

        outer = self
        self.frames, self.fps = frames, fps
        self.sent: dict[int, float] = {}
        self._t0: float | None = None
        self._k = 0

        class _Track(VideoStreamTrack):
            async def recv(self):  # noqa: ANN202
                return await outer._next()

        self.track = _Track()

    async def _next(self) -> Any:
        if self._t0 is None:
            self._t0 = time.time()
        k = self._k
        self._k += 1
        wait = self._t0 + k / self.fps - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        item = await self._item(k)
        item.pts, item.time_base = k * 3000, Fraction(1, 90000)
        self.sent[k] = time.time()
        return item

    async def _item(self, k: int) -> Any:
        """What the sender gets for frame k: a stamped picture, which aiortc encodes."""
        import av

        return av.VideoFrame.from_ndarray(
            stamp(self.frames[k % len(self.frames)], k), format="bgr24"
        )


class PreEncodedTrack(ClipTrack):
    """ClipTrack whose frames were VP8-encoded before the run (`encode_stamped`): it hands
    aiortc packets, which the sender packetizes without encoding (as a phone's hardware
    encoder would leave the server's cores alone)."""

    def __init__(self, packets: list[bytes], fps: int = 30) -> None:
        super().__init__([], fps)
        self.packets = packets

    async def _item(self, k: int) -> Any:
        import av

        if k >= len(self.packets):  # past the encoded clip (the run is over): the camera stops
            await asyncio.Event().wait()
        return av.Packet(self.packets[k])


def encode_stamped(frames: list[np.ndarray], count: int, fps: int = 30) -> list[bytes]:
    """VP8 packets of `count` stamped frames (frame k carries stamp k), one per frame."""
    import av

    height, width = frames[0].shape[:2]
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, fps)
    codec.bit_rate, codec.gop_size = PRE_ENCODED_BITRATE, PRE_ENCODED_GOP
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets: list[bytes] = []
    for k in range(count):
        frame = av.VideoFrame.from_ndarray(stamp(frames[k % len(frames)], k), format="bgr24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = k
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    if len(packets) != count:
        raise RuntimeError(f"libvpx gave {len(packets)} packets for {count} frames")
    return packets


async def run_sessions(
    base: str,
    grpc_port: int,
    n: int,
    seconds: float,
    frames: list,
    packets: list[bytes] | None = None,
) -> list[dict]:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from coach_backend.stream import PoseStreamClient

    sessions = []
    for _ in range(n):
        s = await asyncio.to_thread(post, f"{base}/api/sessions", "bench")
        recv: list[tuple[int, float]] = []
        client = PoseStreamClient(f"127.0.0.1:{grpc_port}", s["tokens"]["viewer"])
        call = client.subscribe(s["session_id"])

        def pump(call=call, recv=recv) -> None:
            try:
                for msg in call:
                    if msg.WhichOneof("kind") == "frame":
                        recv.append((msg.frame.capture_time_us, time.time()))
            except Exception:
                pass

        threading.Thread(target=pump, daemon=True).start()
        sessions.append({"id": s["session_id"], "tokens": s["tokens"], "recv": recv,
                         "client": client, "call": call})  # fmt: skip
    for s in sessions:  # start all publishers together
        clip = ClipTrack(frames) if packets is None else PreEncodedTrack(packets)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(clip.track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        ans = await asyncio.to_thread(post, f"{base}/api/sessions/{s['id']}/offer",
                                      s["tokens"]["athlete"], {"sdp": pc.localDescription.sdp,
                                                               "type": "offer"})  # fmt: skip
        await pc.setRemoteDescription(RTCSessionDescription(ans["sdp"], "answer"))
        s.update(pc=pc, clip=clip)
    t_start = time.time()
    await asyncio.sleep(WARMUP_S + seconds)
    window = (t_start + WARMUP_S, t_start + WARMUP_S + seconds)
    for s in sessions:  # the server's own view: pipeline time per frame (moving average)
        url = f"{base}/api/sessions/{s['id']}"
        req = urllib.request.Request(url, headers={"Authorization": "Bearer bench"})
        summary = await asyncio.to_thread(
            lambda r=req: json.loads(urllib.request.urlopen(r).read())
        )
        s["pipeline_ms"] = summary.get("latency_ms", {}).get("total", float("nan"))
    for s in sessions:
        await s["pc"].close()
        s["call"].cancel()
        s["client"].close()
        s["window"] = window
    return sessions


def analyse(sessions: list[dict], server_log: dict[str, dict[str, int]]) -> dict[str, Any]:
    lat, fps = [], []
    for s in sessions:
        log = server_log.get(s["id"], {})
        lo, hi = s["window"]
        n = 0
        for cap_us, t_recv in s["recv"]:
            if not lo <= t_recv < hi:
                continue
            n += 1
            k = log.get(str(cap_us))
            sent = s["clip"].sent.get(k) if k is not None else None
            if sent is not None:
                lat.append((t_recv - sent) * 1e3)
        fps.append(n / (hi - lo))
    a = np.array(lat) if lat else np.array([np.nan])
    return {
        "sessions": len(sessions),
        "fps_per_session": [round(f, 1) for f in fps],
        "min_fps": round(min(fps), 1),
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        "matched": len(lat),
        "pipeline_ms": round(float(np.mean([s["pipeline_ms"] for s in sessions])), 1),
    }


# -- first pose: fresh sessions on the real server (``--first-pose``) --
FIRST_POSE_ADMIN = "bench-first-pose"
FIRST_POSE_TIMEOUT_S = 60.0  # a session with no pose by then fails the run
AFTER_FIRST_POSE_S = 2.0  # each session streams this long past its first pose, then ends
CLIP = REPO / "examples" / "walk_shot.mp4"


async def first_pose_session(
    base: str, grpc_target: str, frames: list[np.ndarray], join_after_s: float
) -> dict:
    """One fresh session on a running server, as an athlete meets it: create it, publish the
    clip (aiortc) ``join_after_s`` later, poll the session's status until the server reports
    ``first_pose_ms`` (its first video frame received -> its first pose published), stream a
    little longer, end it. Also from this side: ``client_ms``, the clip's first frame handed to
    aiortc -> the first pose received by a gRPC viewer (adds VP8, the network path and the first
    frame's decoding); ``offer_ms``, the offer's round trip (it waits for the session's pipeline
    to be built); ``join_ms``, the offer sent -> the first pose at the viewer (the athlete's whole
    wait: offer, ICE and DTLS, first frame, first pose)."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from coach_backend.stream import PoseStreamClient

    created = await asyncio.to_thread(post, f"{base}/api/sessions", FIRST_POSE_ADMIN)
    sid, tokens = created["session_id"], created["tokens"]
    first_pose: list[float] = []
    client = PoseStreamClient(grpc_target, tokens["viewer"])
    call = client.subscribe(sid)

    def pump() -> None:
        with contextlib.suppress(Exception):  # cancelled at the end
            for msg in call:
                if msg.WhichOneof("kind") == "frame":
                    first_pose.append(time.time())
                    return

    threading.Thread(target=pump, daemon=True).start()
    await asyncio.sleep(join_after_s)
    clip = ClipTrack(frames)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(clip.track, direction="sendonly")
    try:
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
        t0, t0_wall = time.monotonic(), time.time()
        answer = await asyncio.to_thread(
            post, f"{base}/api/sessions/{sid}/offer", tokens["athlete"], offer
        )
        offer_ms = (time.monotonic() - t0) * 1e3
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        url, deadline = f"{base}/api/sessions/{sid}", time.monotonic() + FIRST_POSE_TIMEOUT_S
        while (status := await asyncio.to_thread(get_json, url, FIRST_POSE_ADMIN))[
            "first_pose_ms"
        ] is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no first pose in {sid} within {FIRST_POSE_TIMEOUT_S:g} s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(AFTER_FIRST_POSE_S)
        await asyncio.to_thread(post, f"{base}/api/sessions/{sid}/end", tokens["coach"])
    finally:
        await pc.close()
        call.cancel()
        client.close()
    sent = clip.sent.get(0)
    client_ms = (first_pose[0] - sent) * 1e3 if first_pose and sent is not None else np.nan
    join_ms = (first_pose[0] - t0_wall) * 1e3 if first_pose else np.nan
    return {"session": sid, "first_pose_ms": status["first_pose_ms"],
            "client_ms": round(client_ms, 1), "offer_ms": round(offer_ms, 1),
            "join_ms": round(join_ms, 1)}  # fmt: skip


def first_pose_runs(
    runs: int, sessions: int, workdir: Path, clip: Path, join_after_s: float
) -> list[dict]:
    """``runs`` fresh servers (``python -m coach_backend.serve``), each serving ``sessions``
    sessions one after the other, the first created as soon as the server listens."""
    frames = load_clip(clip)
    rows = []
    for run in range(1, runs + 1):
        rundir = workdir / f"first_pose_{run}"
        rundir.mkdir(parents=True, exist_ok=True)
        proc, base, grpc_target = start_server(rundir, FIRST_POSE_ADMIN)
        try:
            for k in range(1, sessions + 1):
                row = {"run": run, "nth": k,
                       **asyncio.run(first_pose_session(base, grpc_target, frames,
                                                 join_after_s))}  # fmt: skip
                print(json.dumps(row), flush=True)
                rows.append(row)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    return rows


def first_pose_table(rows: list[dict], clip: Path, join_after_s: float) -> str:
    def med(key: str, group: list[dict]) -> str:
        v = np.array([r[key] for r in group], dtype=float)
        return f"{np.nanmedian(v):.0f} ({np.nanmin(v):.0f}-{np.nanmax(v):.0f})"

    lines = [
        f"First pose of fresh sessions on `python -m coach_backend.serve` (loopback), the athlete "
        f"an aiortc publisher sending `{clip.name}` (looped, 30 fps, VP8). server: the session's "
        "first video frame received -> its first pose published (`first_pose_ms` of GET "
        "/api/sessions/{id}); client: the clip's first frame handed to aiortc -> the first pose "
        f"at a gRPC viewer; offer: the offer's round trip; join: the offer sent -> the first pose "
        f"at the viewer. The athlete offers {join_after_s:g} s after the session is created. "
        "Median (min-max) over the servers started; session 1 is created as soon as the server "
        "listens.",
        "",
        "| session after server start | sessions | server first pose ms | client first pose ms "
        "| offer ms | join ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for nth in sorted({r["nth"] for r in rows}):
        group = [r for r in rows if r["nth"] == nth]
        lines.append(f"| {nth} | {len(group)} | {med('first_pose_ms', group)} "
                     f"| {med('client_ms', group)} | {med('offer_ms', group)} "
                     f"| {med('join_ms', group)} |")  # fmt: skip
    later = [r for r in rows if r["nth"] > 1]
    if later:
        lines.append(f"| 2 and later | {len(later)} | {med('first_pose_ms', later)} "
                     f"| {med('client_ms', later)} | {med('offer_ms', later)} "
                     f"| {med('join_ms', later)} |")  # fmt: skip
    return "\n".join(lines)


def mediapipe_alone_fps(frames: list[np.ndarray], side: int | None, count: int = 90) -> float:
    """MediaPipe alone (one graph, keypoints only, this thread) on the clip's frames, shrunk to
    `side` first when larger (None: native): the same-run baseline of a session's rate."""
    from coach_backend.perception import PerceptionConfig
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    config = PerceptionConfig(max_input_side=side, segmentation=False)
    with MediaPipeDetector(config) as detector:
        detector.detect(frames[0])  # warm-up: the first inference allocates
        t0 = time.perf_counter()
        for i in range(count):
            detector.detect(frames[i % len(frames)])
        return count / (time.perf_counter() - t0)


def main() -> None:
    from coach_backend.config import LIVE_PERCEPTION_MAX_SIDE

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--seconds", type=float, default=12.0, help="measurement window per run")
    p.add_argument("--out", type=Path, default=None, help="write a markdown table here")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/bench_live"))
    p.add_argument("--size", default="640x480", help="camera frame size WxH (e.g. 1280x720)")
    p.add_argument(
        "--weights", type=Path, default=None, help="GC-SSN weights (default: the shipped ones)"
    )
    p.add_argument(
        "--perception-max-side",
        type=int,
        default=LIVE_PERCEPTION_MAX_SIDE or 0,
        help="the server shrinks frames with a longer side to this before MediaPipe "
        f"(default {LIVE_PERCEPTION_MAX_SIDE or 0}, the product's; 0 = native)",
    )
    p.add_argument(
        "--first-pose",
        type=int,
        default=0,
        metavar="RUNS",
        help="measure the first pose of fresh sessions instead, on RUNS fresh servers",
    )
    p.add_argument("--first-pose-sessions", type=int, default=3, help="sessions per server")
    p.add_argument(
        "--join-after",
        type=float,
        default=0.0,
        help="seconds from a session's creation to its athlete's offer (--first-pose; default "
        "0: at once, the offer then waits for the session's pipeline)",
    )
    p.add_argument("--clip", type=Path, default=CLIP, help="the athlete's video (--first-pose)")
    p.add_argument(
        "--publisher",
        choices=("encode", "pre-encoded"),
        default="encode",
        help="encode: each publisher VP8-encodes live on these cores; pre-encoded: the clip is "
        "encoded before the run and its packets sent (the athletes' phones encode, not the "
        "server's cores)",
    )
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    side = a.perception_max_side or None
    if a.serve:
        serve(a.workdir, a.weights, side)
        return
    if a.first_pose:
        load = os.getloadavg()
        rows = first_pose_runs(a.first_pose, a.first_pose_sessions, a.workdir, a.clip,
                               a.join_after)  # fmt: skip
        table = first_pose_table(rows, a.clip, a.join_after)
        machine = (f"{platform.platform()}, {os.cpu_count()} CPUs visible, python "
                   f"{platform.python_version()}, load average (1/5/15 min) before the run "
                   f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after "
                   f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        print(table)
        print(machine)
        if a.out:
            a.out.write_text(f"{table}\n\n{machine}\n")
        return
    try:
        width, height = (int(v) for v in a.size.lower().split("x"))
    except ValueError:
        p.error(f"--size must be WxH, got {a.size!r}")

    from coach_backend.ingest.testclip import render_clip

    frames = render_clip(30, (width, height))
    packets = None
    if a.publisher == "pre-encoded":  # enough for the warm-up, the window and the hand-shake
        packets = encode_stamped(frames, int((WARMUP_S + a.seconds + 5) * 30))
    mp_native = mediapipe_alone_fps(frames, None)
    mp_side = mediapipe_alone_fps(frames, side)
    print(f"MediaPipe alone: {mp_native:.1f} fps native, {mp_side:.1f} fps at side {side}")
    rows, weights = [], "?"
    for n in a.sessions:
        workdir = a.workdir / f"n{n}"
        workdir.mkdir(parents=True, exist_ok=True)
        weights_args = [] if a.weights is None else ["--weights", str(a.weights)]
        weights_args += ["--perception-max-side", str(a.perception_max_side)]
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--workdir", str(workdir), *weights_args],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        hello = json.loads(proc.stdout.readline())
        weights = hello["weights"]
        sessions = asyncio.run(
            run_sessions(hello["base"], hello["grpc"], n, a.seconds, frames, packets)
        )
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log = json.loads((workdir / "server_log.json").read_text())
        row = analyse(sessions, log)
        print(json.dumps(row), flush=True)
        rows.append(row)

    machine = (f"{platform.platform()}, {os.cpu_count()} CPUs visible, python "
               f"{platform.python_version()}, load average before run {os.getloadavg()[0]:.1f}")  # fmt: skip
    lines = [
        f"Camera frames {width}x{height} at 30 fps, publishers: {a.publisher} "
        f"({'VP8 encoded live on these cores' if packets is None else 'VP8 packets encoded before the run'}); "
        "the server's perception input: long side at "
        f"most {side or 'native'}. Same-run baseline, MediaPipe alone (one graph, keypoints "
        f"only, no server): {mp_native:.1f} fps at native size, {mp_side:.1f} fps at the "
        "perception input.",
        "",
        "| live sessions | poses/s per session (min) | glass-to-pose p50 ms | p95 ms "
        "| server pipeline ms/frame | poses matched |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['sessions']} | {r['min_fps']} ({', '.join(map(str, r['fps_per_session']))}) "
                     f"| {r['p50_ms']} | {r['p95_ms']} | {r['pipeline_ms']} | {r['matched']} |")  # fmt: skip
    table = "\n".join(lines)
    print(table)
    print(f"GC-SSN weights: {weights}; {machine}")
    if a.out:
        a.out.write_text(table + f"\n\nGC-SSN weights: {weights}. {machine}\n")


if __name__ == "__main__":
    main()
