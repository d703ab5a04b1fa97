"""The syslog source over real loopback sockets (UDP and TCP, both RFC 6587 framings)."""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ronda.clock import ManualClock
from ronda.component import Context
from ronda.errors import ConfigError
from ronda.metrics import Metrics
from ronda.schema import Event
from sensor.syslog import BATCH_SIZE, SyslogConfig, SyslogSource, parse_listen

NOW = 1795230000.0
WAIT = 20.0  # generous upper bound for a missing event; never reached when things work
SSH = "<38>Nov 21 10:00:00 bastion sshd[812]: Failed password for root from {ip} port {port} ssh2"
WEB = ('<190>Nov 21 10:00:00 www nginx: 203.0.113.{n} - - [21/Nov/2026:10:00:00 +0700] '
       '"GET /p{n} HTTP/1.1" 200 {n}')  # fmt: skip


class Collector:
    def __init__(self) -> None:
        self.batches: list[list[Event]] = []
        self.positions: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, batch: list[Event], position: Any) -> None:
        with self._cond:
            self.batches.append(list(batch))
            self.positions.append(position)
            self._cond.notify_all()

    @property
    def events(self) -> list[Event]:
        with self._cond:
            return [e for b in self.batches for e in b]

    def wait_for(self, n: int) -> list[Event]:
        with self._cond:
            self._cond.wait_for(lambda: sum(len(b) for b in self.batches) >= n, WAIT)
        return self.events


class Running:
    def __init__(self, source: SyslogSource, collector: Collector, metrics: Metrics) -> None:
        self.source = source
        self.collector = collector
        self.metrics = metrics
        ports = {proto: port for proto, _, port in source.addresses}
        self.udp = ports.get("udp")
        self.tcp = ports.get("tcp")

    def send_udp(self, *messages: str | bytes) -> None:
        assert self.udp is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for m in messages:
                s.sendto(m.encode() if isinstance(m, str) else m, ("127.0.0.1", self.udp))

    def connect(self) -> socket.socket:
        assert self.tcp is not None
        s = socket.create_connection(("127.0.0.1", self.tcp), timeout=WAIT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics.value(name, **labels)


@contextlib.contextmanager
def running(tmp_path: Path, **settings: Any) -> Iterator[Running]:
    settings.setdefault("listen", "127.0.0.1:0")
    config = SyslogConfig(type="syslog", **settings)
    metrics = Metrics()
    ctx = Context(sensor="test", clock=ManualClock(NOW), metrics=metrics, state_dir=tmp_path,
                  log=logging.getLogger("test.syslog"))  # fmt: skip
    source = SyslogSource("rsys", config, ctx)
    collector = Collector()
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            source.run(collector, stop)
        except BaseException as exc:  # surfaced in the test thread
            errors.append(exc)
            source.ready.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert source.ready.wait(WAIT)
    if errors:
        raise errors[0]
    try:
        yield Running(source, collector, metrics)
    finally:
        stop.set()
        thread.join(WAIT)
        assert not thread.is_alive()
    if errors:
        raise errors[0]


def test_udp_rfc3164_and_rfc5424(tmp_path: Path) -> None:
    with running(tmp_path) as r:
        r.send_udp(
            SSH.format(ip="203.0.113.9", port=4444),
            "<165>1 2026-11-21T03:00:00Z app01 evntslog 77 ID47 [x@1 a=\"b\"] \ufeffhello\n",
            WEB.format(n=5),
        )
        events = r.collector.wait_for(3)
    assert len(events) == 3
    by_ds = {e.dataset: e for e in events}
    ssh = by_ds["sshd.auth"]
    assert ssh.fields["source.ip"] == "203.0.113.9" and ssh.fields["source.port"] == 4444
    assert ssh.fields["event.action"] == "ssh_login" and ssh.fields["host.hostname"] == "bastion"
    sys = by_ds["syslog"]
    assert sys.timestamp == NOW
    assert sys.fields["ronda.syslog.message"] == "hello"
    assert sys.fields["log.syslog.structured_data"] == {"x@1": {"a": "b"}}
    web = by_ds["nginx.access"]
    assert web.fields["url.path"] == "/p5" and web.fields["host.hostname"] == "www"
    for e in events:
        assert e.source == "rsys"
        assert e.fields["log.source.address"].startswith("127.0.0.1:")
    assert r.collector.positions == [None] * len(r.collector.positions)
    assert r.metric("ronda_received_total", component="rsys") == 3
    assert r.metric("ronda_emitted_total", component="rsys") == 3
    assert r.metric("ronda_last_event_timestamp_seconds", source="rsys") == NOW


def test_tcp_octet_counting_and_newline_framing(tmp_path: Path) -> None:
    one = SSH.format(ip="198.51.100.1", port=1).encode()
    two = WEB.format(n=2).encode()
    three = b"<13>Nov 21 10:00:00 h app: third"
    with running(tmp_path) as r:
        with r.connect() as c:
            c.sendall(b"%d %s" % (len(one), one))
            c.sendall(two + b"\n" + three[:10])  # a frame split across two sends
            c.sendall(three[10:] + b"\r\n")
            c.sendall(b"%d %s" % (len(two), two[:40]))  # an octet-counted frame in two parts
            c.sendall(two[40:])
            c.sendall(b"<13>Nov 21 10:00:00 h app: unterminated at close")
        events = r.collector.wait_for(5)
    assert [e.dataset for e in events] == ["sshd.auth", "nginx.access", "syslog", "nginx.access",
                                           "syslog"]  # fmt: skip
    assert events[2].fields["ronda.syslog.message"] == "third"
    assert events[4].fields["ronda.syslog.message"] == "unterminated at close"


def test_many_concurrent_clients_and_a_garbage_client(tmp_path: Path) -> None:
    clients, per_client = 8, 150
    with running(tmp_path, max_message_bytes=1024) as r:
        garbage = r.connect()
        rng = random.Random(5)
        garbage.sendall(b"99999 " + rng.randbytes(3000))  # claims a 99,999-byte frame
        garbage.sendall(rng.randbytes(5000).replace(b"\n", b"") + b"\n")

        def client(k: int) -> None:
            with r.connect() as c:
                for i in range(per_client):
                    msg = SSH.format(ip=f"10.{k}.{i // 256}.{i % 256}", port=i + 1).encode()
                    c.sendall(b"%d %s" % (len(msg), msg) if i % 2 else msg + b"\n")

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
        events = r.collector.wait_for(clients * per_client)
        garbage.close()
    ssh = [e for e in events if e.dataset == "sshd.auth"]
    assert len(ssh) == clients * per_client
    seen = {(e.fields["source.ip"], e.fields["source.port"]) for e in ssh}
    assert len(seen) == clients * per_client
    assert r.metric("ronda_truncated_lines_total", source="rsys") >= 1
    assert r.metric("ronda_errors_total", component="rsys") == 0


def test_batches_are_bounded(tmp_path: Path) -> None:
    n = 1200
    with running(tmp_path) as r:
        with r.connect() as c:
            c.sendall(b"".join(WEB.format(n=i % 250).encode() + b"\n" for i in range(n)))
        events = r.collector.wait_for(n)
    assert len(events) == n
    assert max(len(b) for b in r.collector.batches) <= BATCH_SIZE
    assert r.metric("ronda_emitted_total", component="rsys") == n


def test_parse_errors_truncation_and_decode_errors(tmp_path: Path) -> None:
    with running(tmp_path, max_message_bytes=256, protocols=["udp"]) as r:
        assert r.tcp is None
        long = "<13>Nov 21 10:00:00 h app: " + "x" * 1000
        r.send_udp("not syslog at all", b"\xff\xfe<13>", long, b"<13>Nov 21 10:00:00 h a: \xff ok")
        events = r.collector.wait_for(2)
        assert len(events) == 2
    cut = next(e for e in events if e.fields["process.name"] == "app")
    assert len(cut.message) == 256
    ok = next(e for e in events if e.fields["process.name"] == "a")
    assert ok.fields["ronda.syslog.message"] == "\ufffd ok"
    assert r.metric("ronda_received_total", component="rsys") == 4
    assert r.metric("ronda_dropped_total", component="rsys", reason="parse_error") == 2
    assert r.metric("ronda_truncated_lines_total", source="rsys") == 1
    assert r.metric("ronda_decode_errors_total", source="rsys") == 2


def test_connection_limit(tmp_path: Path) -> None:
    with running(tmp_path, max_connections=2, protocols=["tcp"]) as r:
        assert r.udp is None
        first, second, third = r.connect(), r.connect(), r.connect()
        assert third.recv(10) == b""  # closed by the source
        for c in (first, second):
            c.sendall(b"<13>Nov 21 10:00:00 h app: still served\n")
        events = r.collector.wait_for(2)
        assert len(events) == 2
        for c in (first, second, third):
            c.close()
    assert r.metric("ronda_dropped_total", component="rsys", reason="connection_limit") == 1


def test_format_setting(tmp_path: Path) -> None:
    with running(tmp_path, format="syslog", protocols=["udp"]) as r:
        r.send_udp(SSH.format(ip="1.2.3.4", port=5))
        events = r.collector.wait_for(1)
    assert events[0].dataset == "syslog"


def test_stop_closes_sockets(tmp_path: Path) -> None:
    with running(tmp_path) as r:
        tcp_port = r.tcp
        lingering = r.connect()
    assert tcp_port is not None
    assert lingering.recv(10) == b""
    lingering.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", tcp_port), timeout=WAIT).close()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"cannot listen on 127\.0\.0\.1:{port}"), \
                running(tmp_path, listen=f"127.0.0.1:{port}", protocols=["udp"]):  # fmt: skip
            pass


def test_ipv6_listen(tmp_path: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    with running(tmp_path, listen="[::1]:0") as r:
        assert {(p, h) for p, h, _ in r.source.addresses} == {("udp", "::1"), ("tcp", "::1")}
        with socket.create_connection(("::1", r.tcp), timeout=WAIT) as c:
            c.sendall(b"<13>Nov 21 10:00:00 h app: over v6\n")
        events = r.collector.wait_for(1)
    assert events[0].fields["log.source.address"].startswith("[::1]:")


def test_config_validation() -> None:
    cfg = SyslogConfig(type="syslog")
    assert (cfg.listen, cfg.protocols, cfg.format, cfg.max_message_bytes) == (
        "127.0.0.1:5514", ["udp", "tcp"], "auto", 65536)  # fmt: skip
    assert (cfg.max_connections, cfg.overflow) == (256, "drop_newest")
    sized = SyslogConfig.model_validate({"type": "syslog", "max_message_bytes": "8KiB"})
    assert sized.max_message_bytes == 8192
    assert parse_listen("[::1]:5514") == ("::1", 5514)
    assert parse_listen("0.0.0.0:514") == ("0.0.0.0", 514)
    for bad in ("5514", "host:", ":5514", "host:99999", "::1:5514", "[::1]5514", "h:p"):
        with pytest.raises(ValidationError, match="invalid listen address"):
            SyslogConfig(type="syslog", listen=bad)
    with pytest.raises(ValidationError, match=r"unknown format 'x' \(expected one of auto, nginx, "
                                              r"apache, sshd, syslog, json\)"):  # fmt: skip
        SyslogConfig(type="syslog", format="x")
    with pytest.raises(ValidationError):
        SyslogConfig.model_validate({"type": "syslog", "protocols": ["sctp"]})
    with pytest.raises(ValidationError, match="at least one"):
        SyslogConfig(type="syslog", protocols=[])
    with pytest.raises(ValidationError):
        SyslogConfig.model_validate({"type": "syslog", "bogus": 1})
    assert SyslogConfig(type="syslog", protocols=["tcp", "tcp"]).protocols == ["tcp"]
