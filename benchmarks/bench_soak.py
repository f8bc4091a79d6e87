"""Soak: the live server's memory, threads and open files under session churn.

Usage (repo root): ``python benchmarks/bench_soak.py [--minutes 2] [--sessions 2]
[--session-seconds 30] [--reconnect-seconds 5] [--sample-seconds 3] [--clip examples/walk_shot.mp4]
[--note "..."] [--out benchmarks/results/soak.md]``

The server is the real one, ``python -m coach_backend.serve`` in a subprocess on loopback
(real pipeline: MediaPipe + GC-SSN + smoothing + hub + recorder), so its resources are its own:
RSS, threads and open file descriptors are read from ``/proc/<pid>`` every few seconds.
This process drives it like users would:

- ``--sessions`` slots, each a loop until the time is up: create a session (HTTP), publish the
  clip with a real aiortc peer (looped at 30 fps, VP8), attach one gRPC Subscribe viewer and one
  WebSocket viewer that both drop and reconnect every ``--reconnect-seconds``, end the session
  after ``--session-seconds`` (HTTP, coach token), then watch its recording through the
  WebSocket replay for a few seconds (with a seek). Slots start staggered, so sessions are
  created and ended while others stream.
- Baselines from the same run: the idle server (before any session), and "warm" (after one
  warm-up session ended: models loaded once stay loaded). After the soak every session has
  ended; the end values are read after a settle pause and compared with the warm baseline.

Loopback only: HTTP, WebSocket and gRPC on 127.0.0.1; the WebRTC media goes to the host's
own address (aioice skips 127.0.0.1), so nothing leaves the machine. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench_live import (  # (also puts the repo root on sys.path)
    ClipTrack,
    get_json,
    load_clip,
    post,
    start_server,
)

REPO = Path(__file__).resolve().parents[1]
ADMIN = "bench-soak-admin"
WARMUP_SESSION_S = 10.0  # the warm-up session streams this long (models load on its build)
SETTLE_S = 15.0  # after sessions end: their threads and buffers go before "warm" / "end"
REPLAY_VIEW_S = 3.0  # each ended session's recording is watched this long over the WebSocket
NEAR_BASELINE_FRACTION = 0.10  # "memory returned": end RSS within 10% of the warm baseline
SAMPLES_SHOWN = 24  # rows of the sample table in the results file


# -- the server and its resources --
@dataclass(frozen=True)
class Sample:
    t_s: float  # since the server started
    phase: str
    live_sessions: int
    rss_mib: float
    threads: int
    fds: int


def read_resources(pid: int) -> tuple[float, int, int]:
    """(RSS MiB, threads, open file descriptors) of a process."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    rss_kib = int(status["VmRSS"].split()[0])
    return rss_kib / 1024, int(status["Threads"]), len(os.listdir(f"/proc/{pid}/fd"))


class Sampler:
    """Reads the server's resources every ``every_s`` in a thread, labelled with the phase."""

    def __init__(self, pid: int, every_s: float) -> None:
        self.pid, self.every_s = pid, every_s
        self.phase = "idle"
        self.live_sessions = 0
        self.samples: list[Sample] = []
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def take(self) -> Sample:
        rss, threads, fds = read_resources(self.pid)
        sample = Sample(time.monotonic() - self._t0, self.phase, self.live_sessions, rss,
                        threads, fds)  # fmt: skip
        self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.take()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# -- the clients --
async def messages_for(ws: Any, seconds: float) -> AsyncIterator[Any]:
    """A client WebSocket's messages for ``seconds`` (fewer if it closes first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            yield await ws.receive(timeout=left)
        except TimeoutError:
            return


class Traffic:
    """Counts what the clients did and saw (thread-safe: gRPC viewers run in threads)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.error_examples: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def error(self, kind: str, exc: BaseException | str) -> None:
        with self._lock:
            self.errors[kind] += 1
            self.error_examples.setdefault(kind, str(exc)[:200])


class Soak:
    def __init__(
        self, base: str, grpc_target: str, clip: list[np.ndarray], args: argparse.Namespace,
        sampler: Sampler,
    ) -> None:  # fmt: skip
        self.base, self.grpc_target, self.clip = base, grpc_target, clip
        self.session_s: float = args.session_seconds
        self.reconnect_s: float = args.reconnect_seconds
        self.sampler = sampler
        self.traffic = Traffic()

    def grpc_viewer(self, sid: str, token: str, over: threading.Event) -> None:
        """Subscribe, drop the call after reconnect_s (its deadline), subscribe again; until
        the session's StreamEnd."""
        import grpc

        from coach_backend.stream import PoseStreamClient

        while not over.is_set():
            client = PoseStreamClient(self.grpc_target, token)
            try:
                self.traffic.add("gRPC subscribes")
                for msg in client.subscribe(sid, timeout=self.reconnect_s):
                    kind = msg.WhichOneof("kind")
                    if kind == "frame":
                        self.traffic.add("gRPC frames")
                    elif kind == "end":
                        return
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED and not over.is_set():
                    self.traffic.error(f"gRPC {exc.code().name}", exc.details() or exc)
            finally:
                client.close()

    def poses_url(self, sid: str, token: str) -> str:
        return f"{self.base.replace('http', 'ws', 1)}/api/sessions/{sid}/poses?token={token}"

    async def ws_viewer(self, http: Any, sid: str, token: str, over: asyncio.Event) -> None:
        """The live WebSocket, dropped and reopened every reconnect_s; until the session ends."""
        import aiohttp

        while not over.is_set():
            try:
                self.traffic.add("WebSocket connects")
                async with http.ws_connect(self.poses_url(sid, token)) as ws:
                    async for msg in messages_for(ws, self.reconnect_s):
                        if msg.type == aiohttp.WSMsgType.BINARY:
                            self.traffic.add("WebSocket live frames")
                        elif msg.type == aiohttp.WSMsgType.TEXT:
                            if json.loads(msg.data)["type"] == "end":
                                return
                        else:  # closed by the server
                            if not over.is_set():
                                self.traffic.error("WebSocket closed", str(msg.type))
                            return
            except (aiohttp.ClientError, TimeoutError) as exc:
                if not over.is_set():
                    self.traffic.error("WebSocket connect", exc)
                return

    async def replay_viewer(self, http: Any, sid: str, token: str) -> None:
        """The ended session's recording over the WebSocket replay, with a seek to its middle."""
        import aiohttp

        try:
            async with http.ws_connect(self.poses_url(sid, token)) as ws:
                self.traffic.add("WebSocket replays")
                async for msg in messages_for(ws, REPLAY_VIEW_S):
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        self.traffic.add("WebSocket replay frames")
                    elif msg.type == aiohttp.WSMsgType.TEXT:
                        text = json.loads(msg.data)
                        if text["type"] == "timeline":
                            middle_s = (text["end_us"] - text["start_us"]) / 2e6
                            await ws.send_json({"type": "seek", "t_s": middle_s})
                        elif text["type"] == "error":
                            self.traffic.error("WebSocket replay", text["error"])
                    else:
                        self.traffic.error("WebSocket replay closed", str(msg.type))
                        return
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.traffic.error("WebSocket replay connect", exc)

    async def publish(self, sid: str, token: str) -> Any:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(ClipTrack(self.clip).track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
        answer = await asyncio.to_thread(post, f"{self.base}/api/sessions/{sid}/offer", token,
                                         offer)  # fmt: skip
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return pc

    async def session_cycle(self, http: Any, stream_s: float) -> None:
        """One session from creation to its replay being watched."""
        try:
            created = await asyncio.to_thread(post, f"{self.base}/api/sessions", ADMIN)
        except OSError as exc:  # (urllib's HTTPError included)
            self.traffic.error("create session", exc)
            return
        sid, tokens = created["session_id"], created["tokens"]
        self.traffic.add("sessions created")
        self.sampler.live_sessions += 1
        over_thread, over = threading.Event(), asyncio.Event()
        grpc_thread = threading.Thread(
            target=self.grpc_viewer, args=(sid, tokens["viewer"], over_thread), daemon=True
        )
        grpc_thread.start()
        ws_task = asyncio.ensure_future(self.ws_viewer(http, sid, tokens["coach"], over))
        pc = None
        try:
            pc = await self.publish(sid, tokens["athlete"])
            await asyncio.sleep(stream_s)
            summary = await asyncio.to_thread(get_json, f"{self.base}/api/sessions/{sid}", ADMIN)
            self.traffic.add("frames published by the server", summary.get("frames", 0))
        except OSError as exc:
            self.traffic.error("publish", exc)
        finally:
            over_thread.set()
            over.set()
            try:
                await asyncio.to_thread(post, f"{self.base}/api/sessions/{sid}/end",
                                        tokens["coach"])  # fmt: skip
                self.traffic.add("sessions ended")
            except OSError as exc:
                self.traffic.error("end session", exc)
            if pc is not None:
                await pc.close()
            try:
                await asyncio.wait_for(ws_task, 30)
            except TimeoutError as exc:
                self.traffic.error("WebSocket viewer did not stop", exc)
            await asyncio.to_thread(grpc_thread.join, 30)
            self.sampler.live_sessions -= 1
        await self.replay_viewer(http, sid, tokens["viewer"])

    async def slot(self, http: Any, start_delay_s: float, deadline: float) -> None:
        await asyncio.sleep(start_delay_s)
        while time.monotonic() < deadline:
            await self.session_cycle(http, self.session_s)

    async def run(self, sessions: int, soak_s: float) -> tuple[Sample, Sample]:
        """Warm-up, then the soak; returns the (warm, end) samples, each after a settle."""
        import aiohttp

        async with aiohttp.ClientSession() as http:
            self.sampler.phase = "warm-up"
            await self.session_cycle(http, min(WARMUP_SESSION_S, self.session_s))
            self.sampler.phase = "warm-up settle"
            await asyncio.sleep(SETTLE_S)
            warm = self.sampler.take()

            self.sampler.phase = "soak"
            deadline = time.monotonic() + soak_s
            stagger_s = self.session_s / sessions
            await asyncio.gather(
                *(self.slot(http, i * stagger_s, deadline) for i in range(sessions))
            )
            self.sampler.phase = "settle"
            await asyncio.sleep(SETTLE_S)
            return warm, self.sampler.take()


# -- the report --
def report(
    args: argparse.Namespace, baselines: tuple[Sample, Sample, Sample], traffic: Traffic,
    samples: list[Sample], machine: str, wall_s: float,
) -> str:  # fmt: skip
    idle, warm, end = baselines
    during = [s for s in samples if s.phase == "soak"] or [end]
    peak = max(during, key=lambda s: s.rss_mib)
    peak_threads = max(s.threads for s in during)
    peak_fds = max(s.fds for s in during)
    rss_back = end.rss_mib <= warm.rss_mib * (1 + NEAR_BASELINE_FRACTION)
    soak_t = np.array([s.t_s for s in during])
    slope = (
        float(np.polyfit(soak_t / 60, [s.rss_mib for s in during], 1)[0])
        if len(during) >= 3 else float("nan")
    )  # fmt: skip
    t = traffic.counts
    soak_sessions = t["sessions ended"] - 1  # (the first was the warm-up)
    errors = traffic.errors
    lines = [
        "# Soak: the live server under session churn and reconnecting viewers",
        "",
        "Command (repo root):",
        "",
        f"    .venv/bin/python benchmarks/bench_soak.py {shlex.join(sys.argv[1:])}",
        "",
        f"Machine: {machine}.",
        *([f"Note: {args.note}"] if args.note else []),
        "",
        f"Set-up: the real server (`python -m coach_backend.serve`, loopback, real pipeline) "
        f"in its own process; {args.sessions} session slots for {args.minutes:g} min, each "
        f"session streaming `{args.clip.name}` (looped, 30 fps, aiortc/VP8) for "
        f"{args.session_seconds:g} s with one gRPC and one WebSocket viewer reconnecting every "
        f"{args.reconnect_seconds:g} s, then ended and its recording watched over the "
        f"WebSocket replay for {REPLAY_VIEW_S:g} s (with a seek). Resources of the server "
        f"process from /proc every {args.sample_seconds:g} s. Wall time {wall_s / 60:.1f} min.",
        "",
        "| server process | RSS MiB | threads | open fds |",
        "|---|---:|---:|---:|",
        f"| idle baseline (before any session) | {idle.rss_mib:.0f} | {idle.threads} | "
        f"{idle.fds} |",
        f"| warm baseline (warm-up session ended, {SETTLE_S:g} s later) | {warm.rss_mib:.0f} | "
        f"{warm.threads} | {warm.fds} |",
        f"| peak during the soak | {peak.rss_mib:.0f} | {peak_threads} | {peak_fds} |",
        f"| end (all sessions ended, {SETTLE_S:g} s later) | {end.rss_mib:.0f} | {end.threads} "
        f"| {end.fds} |",
        "",
        f"- Memory {'returned' if rss_back else 'did NOT return'} near the warm baseline: end "
        f"{end.rss_mib - warm.rss_mib:+.0f} MiB vs warm (tolerance "
        f"{NEAR_BASELINE_FRACTION:.0%}), {end.rss_mib - idle.rss_mib:+.0f} MiB vs idle (the "
        f"models a session loads stay loaded); "
        f"{(end.rss_mib - warm.rss_mib) / max(soak_sessions, 1):+.0f} MiB per session of the "
        f"soak ({soak_sessions} sessions). Linear fit of RSS over the soak samples {slope:+.1f} MiB/min.",
        f"- Threads end {end.threads - warm.threads:+d} vs warm, open fds end "
        f"{end.fds - warm.fds:+d} vs warm.",
        f"- Sessions created {t['sessions created']}, ended {t['sessions ended']}; gRPC "
        f"subscribes {t['gRPC subscribes']}, WebSocket connects {t['WebSocket connects']}, "
        f"WebSocket replays {t['WebSocket replays']}.",
        f"- Frames: published by the server {t['frames published by the server']} (read just "
        f"before each end), delivered "
        f"to gRPC viewers {t['gRPC frames']}, to live WebSocket viewers "
        f"{t['WebSocket live frames']}, to replay viewers {t['WebSocket replay frames']}.",
        f"- Errors: {sum(errors.values())}"
        + "".join(
            f"; {k}: {n} (e.g. {traffic.error_examples[k]!r})" for k, n in errors.items()
        ),  # fmt: skip
        "",
        "Samples (every few; t from the server's start):",
        "",
        "| t s | phase | live sessions | RSS MiB | threads | fds |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    step = max(1, len(samples) // SAMPLES_SHOWN)
    shown = samples[::step] if samples[-1] in samples[::step] else [*samples[::step], samples[-1]]
    lines += [f"| {s.t_s:.0f} | {s.phase} | {s.live_sessions} | {s.rss_mib:.0f} | {s.threads} "
              f"| {s.fds} |" for s in shown]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=2.0, help="length of the soak phase")
    p.add_argument("--sessions", type=int, default=2, help="sessions at once")
    p.add_argument("--session-seconds", type=float, default=30.0)
    p.add_argument("--reconnect-seconds", type=float, default=5.0)
    p.add_argument("--sample-seconds", type=float, default=3.0)
    p.add_argument("--clip", type=Path, default=REPO / "examples" / "walk_shot.mp4")
    p.add_argument("--note", default="", help="a line for the results (e.g. other load)")
    p.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    a = p.parse_args()
    if a.sessions < 1 or min(a.minutes, a.session_seconds, a.reconnect_seconds,
                             a.sample_seconds) <= 0:  # fmt: skip
        p.error("--sessions must be >= 1 and the durations > 0")

    workdir = Path(tempfile.mkdtemp(prefix="bench_soak_", dir=a.workdir))
    clip = load_clip(a.clip)
    load_before = os.getloadavg()[0]
    t_start = time.monotonic()
    proc, base, grpc_target = start_server(workdir, ADMIN)
    sampler = Sampler(proc.pid, a.sample_seconds)
    try:
        time.sleep(2 * a.sample_seconds)  # idle: nothing but the started server
        idle = sampler.take()
        sampler.start()
        soak = Soak(base, grpc_target, clip, a, sampler)
        warm, end = asyncio.run(soak.run(a.sessions, a.minutes * 60))
    finally:
        sampler.stop()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    machine = (
        f"{platform.platform()}, {os.cpu_count()} CPUs, no GPU use, python "
        f"{platform.python_version()}; load average {load_before:.1f} before the run, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    wall_s = time.monotonic() - t_start
    text = report(a, (idle, warm, end), soak.traffic, sampler.samples, machine, wall_s)
    print(text)
    print(f"server log and recordings: {workdir}")
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
