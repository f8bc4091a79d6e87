"""PoseStream over real gRPC on loopback: auth, late joiners, end-of-stream, slow subscribers, TLS.

No speed assertions; all waits are event-based with generous timeouts (loaded 2-core CI box).
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest

from coach_backend.stream import (
    PoseStreamClient,
    PoseStreamServer,
    SessionHub,
    StreamConfig,
    make_session_info,
    pb,
)

TIMEOUT = 20.0
# Own connection per client (grpc shares one TCP connection between identical channels otherwise).
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


def wait_until(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def server() -> Iterator[PoseStreamServer]:
    srv = PoseStreamServer(StreamConfig(queue_size=16))
    srv.start()
    srv.add_session(make_session_info("alice"), token="tok-a")
    srv.add_session(make_session_info("bob"), token="tok-b")
    srv.add_session(make_session_info("alice-2"), token="tok-a")
    yield srv
    srv.stop(grace=0.5)


def client(srv: PoseStreamServer, token: str | None, **kw) -> PoseStreamClient:
    return PoseStreamClient(srv.address, token, **kw)


def publish(hub: SessionHub, seq: int) -> None:
    hub.publish_pose(np.zeros((24, 3)), np.array([0.0, 1.0, -2.0]), sequence=seq)


def test_list_and_get_info(server: PoseStreamServer) -> None:
    with client(server, "tok-a") as c:
        assert sorted(s.session_id for s in c.list_sessions()) == ["alice", "alice-2"]
        info = c.get_session_info("alice")
        assert info.layout_version == 1 and info.coordinate_frame == pb.COORDINATE_FRAME_GL_VIEWER
        assert len(info.joint_names) == 24 and len(info.betas) == 10
    with client(server, "nobody") as c:  # a token that unlocks nothing: as HTTP's 403
        with pytest.raises(grpc.RpcError) as err:
            c.list_sessions()
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("token", "session", "code"),
    [
        (None, "alice", grpc.StatusCode.UNAUTHENTICATED),
        ("tok-b", "alice", grpc.StatusCode.PERMISSION_DENIED),
        ("tok-a", "nobody", grpc.StatusCode.NOT_FOUND),
    ],
)
def test_auth_and_unknown_session(
    server: PoseStreamServer, token: str | None, session: str, code: grpc.StatusCode
) -> None:
    with client(server, token) as c:
        with pytest.raises(grpc.RpcError) as err:
            c.get_session_info(session)
        assert err.value.code() == code
        with pytest.raises(grpc.RpcError) as err:
            next(iter(c.subscribe(session, timeout=TIMEOUT)))
        assert err.value.code() == code
        if token is None:
            with pytest.raises(grpc.RpcError) as err:
                c.list_sessions()
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_malformed_authorization_header(server: PoseStreamServer) -> None:
    with client(server, None) as c:
        stub_call = c._stub.GetSessionInfo
        with pytest.raises(grpc.RpcError) as err:
            stub_call(
                pb.GetSessionInfoRequest(session_id="alice"),
                metadata=(("authorization", "Basic tok-a"),),
                timeout=TIMEOUT,
            )
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_late_joiner_info_first_then_clean_end(server: PoseStreamServer) -> None:
    hub = server.hub("alice")
    for i in range(5):  # published before anyone joins: not replayed to the late joiner
        publish(hub, i)
    with client(server, "tok-a") as c:
        call = c.subscribe("alice", timeout=TIMEOUT)
        stream = iter(call)
        first = next(stream)
        assert first.WhichOneof("kind") == "info" and first.info.session_id == "alice"
        assert first.info.state == pb.SESSION_STATE_LIVE
        for i in range(5, 8):
            publish(hub, i)
        hub.end("coach stopped")
        rest = list(stream)  # completes without raising = status OK
        assert call.code() == grpc.StatusCode.OK
    assert [m.frame.sequence for m in rest[:-1]] == [5, 6, 7]
    end = rest[-1].end
    assert (end.reason, end.frames_sent, end.frames_dropped) == ("coach stopped", 3, 0)
    assert server.hub("alice").info.state == pb.SESSION_STATE_ENDED


def test_slow_subscriber_does_not_delay_publisher_or_fast_subscriber(
    server: PoseStreamServer,
) -> None:
    """The slow client stops reading after the info message. To make its back-pressure reach the
    server quickly, its channel gets a small fixed HTTP/2 window (no BDP growth); otherwise
    the transport would first absorb megabytes. The publisher is paced by the fast client's
    progress (like a camera at a fixed rate, made load-independent); if publish() ever waited for
    the stalled client, that pacing wait would time out."""
    hub = server.hub("bob")
    total = 2000
    fast_count = 0
    progress = threading.Condition()
    slow_resume = threading.Event()
    results: dict[str, tuple[list[int], pb.StreamEnd]] = {}
    errors: list[BaseException] = []
    joined = threading.Barrier(3, timeout=TIMEOUT)

    def reader(name: str, options: list, gate: threading.Event | None) -> None:
        nonlocal fast_count
        try:
            with client(server, "tok-b", options=options) as c:
                stream = iter(c.subscribe("bob", timeout=60))
                assert next(stream).WhichOneof("kind") == "info"
                joined.wait()
                if gate is not None:
                    assert gate.wait(TIMEOUT * 3)
                seqs: list[int] = []
                for msg in stream:
                    if msg.HasField("frame"):
                        seqs.append(msg.frame.sequence)
                        if gate is None:
                            with progress:
                                fast_count += 1
                                progress.notify_all()
                    else:
                        results[name] = (seqs, msg.end)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
            with progress:
                progress.notify_all()

    slow_opts = [*OWN_CONNECTION, ("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 8192)]
    threads = [
        threading.Thread(target=reader, args=("fast", OWN_CONNECTION, None)),
        threading.Thread(target=reader, args=("slow", slow_opts, slow_resume)),
    ]
    for t in threads:
        t.start()
    joined.wait()  # both subscribed and got their info

    for seq in range(total):
        publish(hub, seq)
        if seq % 10 == 9:
            with progress:
                assert progress.wait_for(lambda s=seq: fast_count > s or errors, TIMEOUT), (
                    f"fast subscriber stalled at {fast_count}/{seq + 1}"
                )
            assert not errors, errors
    stats = {s.peer: s for s in hub.stats().subscribers}
    assert len(stats) == 2
    hub.end()
    slow_resume.set()
    for t in threads:
        t.join(TIMEOUT * 2)
    assert not errors, errors

    fast_seqs, fast_end = results["fast"]
    assert fast_seqs == list(range(total))
    assert (fast_end.frames_sent, fast_end.frames_dropped) == (total, 0)

    slow_seqs, slow_end = results["slow"]
    assert slow_end.frames_dropped > 0
    assert slow_end.frames_sent == len(slow_seqs)
    assert slow_end.frames_sent + slow_end.frames_dropped == total  # every frame accounted for
    assert slow_seqs == sorted(slow_seqs) and slow_seqs[-1] == total - 1  # newest kept
    # The stats accessor shows the same counts.
    by_dropped = sorted(hub.stats().subscribers, key=lambda s: s.dropped)
    assert [s.dropped for s in by_dropped] == [0, slow_end.frames_dropped]


def test_client_cancel_releases_subscription(server: PoseStreamServer) -> None:
    hub = server.hub("alice")
    with client(server, "tok-a") as c:
        call = c.subscribe("alice", timeout=TIMEOUT)
        assert next(call).WhichOneof("kind") == "info"
        wait_until(lambda: any(s.active for s in hub.stats().subscribers))
        call.cancel()
        wait_until(lambda: not any(s.active for s in hub.stats().subscribers))
    assert hub.publish(pb.PoseFrame(sequence=1))  # publishing continues unaffected


def open_streams(c: PoseStreamClient, session: str, n: int) -> tuple[list, list[grpc.RpcError]]:
    """Open ``n`` Subscribe streams; each is live once its SessionInfo arrived."""
    live, refused = [], []
    for _ in range(n):
        call = c.subscribe(session, timeout=TIMEOUT)
        try:
            assert next(call).WhichOneof("kind") == "info"
            live.append(call)
        except grpc.RpcError as err:
            refused.append(err)
    return live, refused


def test_one_token_cannot_starve_the_server(server: PoseStreamServer) -> None:
    """A client opening as many streams as the server has threads is refused past its own
    limit (RESOURCE_EXHAUSTED); every other client, and its own unary calls, still get through.
    (It used to take every thread: then all calls on the server failed.)"""
    cfg = server.config
    with client(server, "tok-b") as greedy, client(server, "tok-a", options=OWN_CONNECTION) as c:
        live, refused = open_streams(greedy, "bob", cfg.max_workers)
        try:
            assert len(live) == cfg.max_streams_per_token
            assert {err.code() for err in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
            assert "this token" in refused[0].details()
            assert greedy.get_session_info("bob").session_id == "bob"
            assert sorted(s.session_id for s in c.list_sessions()) == ["alice", "alice-2"]
            other = c.subscribe("alice", timeout=TIMEOUT)
            assert next(other).WhichOneof("kind") == "info"
            other.cancel()
        finally:
            for call in live:
                call.cancel()
        # Closed streams give their slots back.
        wait_until(lambda: not any(s.active for s in server.hub("bob").stats().subscribers))
        live, refused = open_streams(greedy, "bob", 1)
        assert len(live) == 1 and not refused
        live[0].cancel()


def test_per_session_and_server_stream_limits() -> None:
    srv = PoseStreamServer(StreamConfig(max_workers=8, max_streams=3, max_streams_per_session=2))
    srv.start()
    try:
        srv.add_session(make_session_info("s1"), ("t1", "t2", "t3"))
        srv.add_session(make_session_info("s2"), "t4")
        with client(srv, "t1") as c1, client(srv, "t2") as c2, client(srv, "t4") as c4:
            a, _ = open_streams(c1, "s1", 1)
            b, _ = open_streams(c2, "s1", 1)
            _, refused = open_streams(client(srv, "t3"), "s1", 1)  # session full
            assert "this session" in refused[0].details()
            c, _ = open_streams(c4, "s2", 1)
            _, refused = open_streams(c4, "s2", 1)  # server full (3 streams)
            assert refused[0].code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "the server" in refused[0].details()
            for call in (*a, *b, *c):
                call.cancel()
    finally:
        srv.stop(grace=0.5)


class FreezableProxy:
    """A TCP relay in front of the server that can stop relaying while both connections stay
    open: to the server the client vanished (a headset switched off or out of Wi-Fi range)
    without a FIN or RST."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [downstream, upstream]
            for src, dst in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._relay, args=(src, dst), daemon=True).start()

    def _relay(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
                if not data or self.frozen.is_set():
                    return  # frozen: stop reading, nothing reaches the other side any more
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        for sock in self._sockets:
            sock.close()


def test_vanished_client_frees_its_stream_slot_by_keepalive() -> None:
    srv = PoseStreamServer(
        StreamConfig(max_streams_per_token=1, keepalive_time_s=1.0, keepalive_timeout_s=1.0)
    )
    srv.start()
    proxy = FreezableProxy(srv.port)
    try:
        hub = srv.add_session(make_session_info("s"), "headset")
        with PoseStreamClient(f"127.0.0.1:{proxy.port}", "headset") as gone:
            call = gone.subscribe("s", timeout=TIMEOUT * 2)
            assert next(call).WhichOneof("kind") == "info"
            proxy.frozen.set()  # the headset vanishes: no FIN, no RST, just silence
            # Unanswered keepalive pings make the server drop the connection and the stream.
            wait_until(lambda: not any(s.active for s in hub.stats().subscribers))
            with client(srv, "headset") as back:  # ... so the same token can subscribe again
                live, refused = open_streams(back, "s", 1)
                assert len(live) == 1 and not refused
                live[0].cancel()
            call.cancel()
    finally:
        proxy.close()
        srv.stop(grace=0.5)


def test_admin_token_unlocks_every_session() -> None:
    srv = PoseStreamServer(StreamConfig(admin_token="root"))
    srv.start()
    try:
        srv.add_session(make_session_info("s1"), "t1")
        srv.add_session(make_session_info("s2"), "t2")
        with client(srv, "root") as admin:
            assert sorted(s.session_id for s in admin.list_sessions()) == ["s1", "s2"]
            assert admin.get_session_info("s2").session_id == "s2"
            live, refused = open_streams(admin, "s1", 1)
            assert len(live) == 1 and not refused
            live[0].cancel()
        with client(srv, "t1") as viewer:  # a session token still unlocks only its session
            with pytest.raises(grpc.RpcError) as err:
                viewer.get_session_info("s2")
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        srv.stop(grace=0.5)
    assert "root" not in repr(srv.config)  # the key stays out of logs


def test_server_stop_ends_streams_cleanly() -> None:
    srv = PoseStreamServer()
    srv.start()
    srv.add_session(make_session_info("s"), "t")
    with client(srv, "t") as c:
        call = c.subscribe("s", timeout=TIMEOUT)
        assert next(call).WhichOneof("kind") == "info"
        stopper = threading.Thread(target=srv.stop, kwargs={"grace": 5.0})
        stopper.start()
        rest = list(call)
        stopper.join(TIMEOUT)
    assert rest[-1].end.reason == "server shutting down"
    assert call.code() == grpc.StatusCode.OK


def test_remove_session(server: PoseStreamServer) -> None:
    server.remove_session("alice-2")
    with client(server, "tok-a") as c:
        assert [s.session_id for s in c.list_sessions()] == ["alice"]
        with pytest.raises(grpc.RpcError) as err:
            c.get_session_info("alice-2")
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(ValueError, match="already exists"):
        server.add_session(make_session_info("alice"), "x")
    with pytest.raises(ValueError, match="token"):
        server.add_session(make_session_info("carol"), "")


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="together"):
        StreamConfig(tls_cert=Path("c.pem"))
    with pytest.raises(ValueError):
        StreamConfig(queue_size=0)
    with pytest.raises(ValueError, match="unary"):
        StreamConfig(max_workers=8, max_streams=8)


def _self_signed_cert(tmp_path: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())  # fast to generate, supported by gRPC
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_roundtrip(tmp_path: Path) -> None:
    cert, key = _self_signed_cert(tmp_path)
    srv = PoseStreamServer(StreamConfig(tls_cert=cert, tls_key=key))
    port = srv.start()
    hub = srv.add_session(make_session_info("secure"), "tls-token")
    try:
        with PoseStreamClient(f"localhost:{port}", "tls-token", root_cert=cert) as c:
            assert c.get_session_info("secure").session_id == "secure"
            call = c.subscribe("secure", timeout=TIMEOUT)
            assert next(call).WhichOneof("kind") == "info"
            publish(hub, 0)
            hub.end()
            rest = list(call)
            assert rest[0].frame.sequence == 0 and rest[-1].HasField("end")
        # A plaintext client cannot talk to the TLS port.
        with PoseStreamClient(f"localhost:{port}", "tls-token") as plain:
            with pytest.raises(grpc.RpcError) as err:
                plain.get_session_info("secure", timeout=5.0)
            assert err.value.code() in (
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.DEADLINE_EXCEEDED,
            )
    finally:
        srv.stop(grace=0.5)
