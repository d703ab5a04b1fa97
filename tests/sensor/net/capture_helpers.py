"""Run a ``capture`` source inside a test namespace, in process, and make traffic."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ronda.schema import Event
from sensor.net.capture import CaptureConfig, CaptureSource
from sensor.net.capture_netns import VethPair, enter_netns, netns_problem
from tests.sensor.net.helpers import context

T = TypeVar("T")


@pytest.fixture
def net() -> Iterator[VethPair]:
    problem = netns_problem()
    if problem:
        pytest.skip(f"live capture tests need network namespaces: {problem}")
    with VethPair() as pair:
        yield pair


def in_ns(ns: str, fn: Callable[[], T]) -> T:
    """``fn()`` in a thread moved into namespace ``ns`` (sockets it opens stay there)."""
    box: list[Any] = []

    def go() -> None:
        try:
            enter_netns(ns)
            box.append(fn())
        except BaseException as exc:  # handed to the caller
            box.append(exc)

    t = threading.Thread(target=go)
    t.start()
    t.join(30)
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]  # type: ignore[no-any-return]


class Running:
    """A capture source prepared in namespace A and running in its own thread."""

    def __init__(self, net: VethPair, tmp: Path, start: bool = True, **settings: Any) -> None:
        cfg = CaptureConfig(type="capture", interface=settings.pop("interface", net.if_a),
                            **settings)
        self.src = CaptureSource("lan", cfg, context(tmp))
        self.events: list[Event] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        in_ns(net.a, self.src.prepare)
        self.thread = threading.Thread(target=self._run)
        if start:
            self.thread.start()

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        self.src.run(self._emit, self.stop)

    def _emit(self, batch: list[Event], pos: Any) -> None:
        with self._lock:
            self.events.extend(batch)

    def finish(self) -> float:
        """Stop; return how long the source took to return."""
        t0 = time.monotonic()
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "capture source did not stop"
        return time.monotonic() - t0

    def metric(self, name: str, **labels: str) -> float:
        return self.src.ctx.metrics.value(name, component="lan", **labels)


class Server:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.sock.close()


def tcp_server(net: VethPair, port: int) -> Server:
    """A TCP server on A's address: answers each connection with a line and closes it.
    Closing the returned socket ends it."""
    def make() -> socket.socket:
        s = socket.socket()
        s.bind((net.ip_a, port))
        s.listen(8)
        return s
    srv = in_ns(net.a, make)

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nok\n")
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return Server(srv)


def traffic_from_b(net: VethPair, code: str) -> str:
    """Run Python ``code`` in namespace B (``A`` is A's address there)."""
    r = net.run(net.b, [sys.executable, "-c", f"A = {net.ip_a!r}\n{code}"])
    return r.stdout


MIXED = """
import socket, struct
c = socket.create_connection((A, 8080), timeout=5)
c.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
while c.recv(4096):
    pass
c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("", 40053))
q = struct.pack("!6H", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"\\x07example\\x03com\\x00\\x00\\x01\\x00\\x01"
u.sendto(q, (A, 53))
i = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
body = b"ronda-ping" * 4
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
hdr = struct.pack("!BBHHH", 8, 0, 0, 0x77, 1)
i.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + body), 0x77, 1) + body, (A, 0))
i.settimeout(2)
i.recv(2048)
"""


def wait_events(run: Running, cond: Callable[[list[Event]], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with run._lock:
            if cond(list(run.events)):
                return
        time.sleep(0.05)
