"""Syslog receiver: RFC 5424 / RFC 3164 over UDP and TCP (RFC 6587 framing).

One thread, non-blocking sockets and a selector. UDP carries one message per datagram;
TCP connections are framed by octet counting or LF/NUL/CRLF, detected per message.
Messages are parsed by format (``auto`` dispatches on the application name) and
handed on in batches of up to 500 events or every 0.2 s.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from typing import Annotated, Literal

from pydantic import Field, field_validator

from ronda.component import Context, Emit, Source, SourceConfig
from ronda.durations import Size
from ronda.errors import ConfigError
from ronda.schema import Event
from sensor.parsers import SYSLOG_FORMATS, make_syslog_message_parser
from sensor.parsers.framing import FrameDecoder

BATCH_SIZE = 500
BATCH_SECONDS = 0.2
POLL_SECONDS = 0.1
_RECV_BYTES = 65536
_UDP_PER_WAKEUP = 256


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` or ``[ipv6]:port`` → (host, port)."""
    error = ValueError(
        f"invalid listen address {value!r} (expected host:port or [ipv6]:port, port 0-65535)"
    )
    if value.startswith("["):
        host, sep, port = value[1:].partition("]:")
        if not sep or ":" not in host:
            raise error
    else:
        host, sep, port = value.rpartition(":")
        if not sep or ":" in host:
            raise error
    if not host or not port.isdigit() or not port.isascii() or int(port) > 65535:
        raise error
    return host, int(port)


class SyslogConfig(SourceConfig):
    type: Literal["syslog"] = "syslog"
    listen: str = "127.0.0.1:5514"
    protocols: list[Literal["udp", "tcp"]] = ["udp", "tcp"]
    format: str = "auto"
    max_message_bytes: Annotated[Size, Field(ge=64, le=16 * 1024 * 1024)] = 65536
    max_connections: Annotated[int, Field(ge=1)] = 256
    overflow: Literal["block", "drop_newest"] = "drop_newest"

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("protocols")
    @classmethod
    def _check_protocols(cls, value: list[Literal["udp", "tcp"]]) -> list[Literal["udp", "tcp"]]:
        if not value:
            raise ValueError("protocols must name at least one of udp, tcp")
        return list(dict.fromkeys(value))

    @field_validator("format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        if value not in SYSLOG_FORMATS:
            names = ", ".join(SYSLOG_FORMATS)
            raise ValueError(f"unknown format {value!r} (expected one of {names})")
        return value


class _Conn:
    __slots__ = ("decoder", "peer", "sock")

    def __init__(self, sock: socket.socket, peer: str, max_bytes: int) -> None:
        self.sock = sock
        self.peer = peer
        self.decoder = FrameDecoder(max_bytes)


class SyslogSource(Source):
    config_model = SyslogConfig

    def __init__(self, name: str, config: SyslogConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self.config: SyslogConfig = config
        self.ready = threading.Event()
        self.addresses: list[tuple[str, str, int]] = []
        self._parse = make_syslog_message_parser(config.format, ctx.clock)
        self._batch: list[Event] = []
        self._batch_start = 0.0
        self._conns: dict[int, _Conn] = {}
        self._listeners: list[socket.socket] = []
        self._prebound: list[tuple[str, socket.socket]] = []
        self._limit_warned = False
        m, lbl = ctx.metrics, {"component": name}
        self._received = m.received.labels(**lbl)
        self._emitted = m.emitted.labels(**lbl)
        self._parse_errors = m.dropped.labels(reason="parse_error", **lbl)
        self._refused = m.dropped.labels(reason="connection_limit", **lbl)
        self._errors = m.errors.labels(**lbl)
        self._truncated = m.truncated.labels(source=name)
        self._decode_errors = m.decode_errors.labels(source=name)
        self._last_event = m.last_event.labels(source=name)

    # -- lifecycle -----------------------------------------------------------------------

    def prepare(self) -> None:
        self._prebound = self._bind()

    def run(self, emit: Emit, stop: threading.Event) -> None:
        sel = selectors.DefaultSelector()
        bound, self._prebound = (self._prebound or self._bind()), []
        try:
            for proto, sock in bound:
                sel.register(sock, selectors.EVENT_READ, proto)
            self.ready.set()
            while not stop.is_set():
                timeout = POLL_SECONDS
                if self._batch:
                    left = self._batch_start + BATCH_SECONDS - time.monotonic()
                    timeout = max(0.0, min(timeout, left))
                for key, _ in sel.select(timeout):
                    self._on_ready(sel, key, emit)
                if self._batch and (
                    time.monotonic() - self._batch_start >= BATCH_SECONDS
                    or len(self._batch) >= BATCH_SIZE
                ):
                    self._flush(emit)
            self._flush(emit)
        finally:
            for conn in list(self._conns.values()):
                self._close(sel, conn)
            for sock in self._listeners:
                sock.close()
            self._listeners.clear()
            sel.close()

    def _bind(self) -> list[tuple[str, socket.socket]]:
        host, port = parse_listen(self.config.listen)
        protocols = self.config.protocols
        for attempt in range(10):
            bound: list[tuple[str, socket.socket]] = []
            try:
                for proto in protocols:
                    sock = _listen_socket(proto, host, port if not bound else self._port(bound))
                    bound.append((proto, sock))
            except OSError as exc:
                for _, sock in bound:
                    sock.close()
                retry = port == 0 and bound and attempt < 9
                if retry:
                    continue
                self._errors.inc()
                raise ConfigError(
                    f"syslog source {self.name!r}: cannot listen on {self.config.listen}: "
                    f"{exc.strerror or exc}"
                ) from None
            self._listeners = [sock for _, sock in bound]
            self.addresses = [(p, *_addr(s)) for p, s in bound]
            return bound
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _port(bound: list[tuple[str, socket.socket]]) -> int:
        return _addr(bound[0][1])[1]

    # -- sockets -------------------------------------------------------------------------

    def _on_ready(
        self, sel: selectors.BaseSelector, key: selectors.SelectorKey, emit: Emit
    ) -> None:
        data = key.data
        if data == "udp":
            self._read_udp(key.fileobj, emit)  # type: ignore[arg-type]
        elif data == "tcp":
            self._accept(sel, key.fileobj)  # type: ignore[arg-type]
        elif isinstance(data, _Conn):
            self._read_tcp(sel, data, emit)

    def _read_udp(self, sock: socket.socket, emit: Emit) -> None:
        limit = self.config.max_message_bytes
        for _ in range(_UDP_PER_WAKEUP):
            try:
                data, peer = sock.recvfrom(_RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._errors.inc()
                self.ctx.log.warning("syslog %s: UDP receive failed: %s", self.name, exc)
                return
            truncated = len(data) > limit
            self._message(data[:limit] if truncated else data, truncated, _peer(peer), emit)

    def _accept(self, sel: selectors.BaseSelector, listener: socket.socket) -> None:
        while True:
            try:
                sock, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._errors.inc()
                self.ctx.log.warning("syslog %s: accept failed: %s", self.name, exc)
                return
            if len(self._conns) >= self.config.max_connections:
                sock.close()
                self._refused.inc()
                if not self._limit_warned:
                    self._limit_warned = True
                    self.ctx.log.warning(
                        "syslog %s: connection limit %d reached, refusing new senders",
                        self.name, self.config.max_connections)  # fmt: skip
                continue
            sock.setblocking(False)
            conn = _Conn(sock, _peer(peer), self.config.max_message_bytes)
            self._conns[sock.fileno()] = conn
            sel.register(sock, selectors.EVENT_READ, conn)

    def _read_tcp(self, sel: selectors.BaseSelector, conn: _Conn, emit: Emit) -> None:
        try:
            data = conn.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._errors.inc()
            self.ctx.log.debug("syslog %s: connection %s failed: %s", self.name, conn.peer, exc)
            self._close(sel, conn)
            return
        try:
            frames = conn.decoder.feed(data) if data else conn.decoder.finish()
            for payload, truncated in frames:
                self._message(payload, truncated, conn.peer, emit)
        except Exception:  # a bad client is dropped, the others carry on
            self._errors.inc()
            self.ctx.log.exception("syslog %s: dropping connection from %s", self.name, conn.peer)
            data = b""
        if not data:
            self._close(sel, conn)

    def _close(self, sel: selectors.BaseSelector, conn: _Conn) -> None:
        fd = conn.sock.fileno()
        if fd >= 0:
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(conn.sock)
        self._conns.pop(fd, None)
        conn.sock.close()
        if len(self._conns) < self.config.max_connections:
            self._limit_warned = False

    # -- messages ------------------------------------------------------------------------

    def _message(self, payload: bytes, truncated: bool, peer: str, emit: Emit) -> None:
        self._received.inc()
        if truncated:
            self._truncated.inc()
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = payload.decode("utf-8", "replace")
            self._decode_errors.inc()
        text = text.rstrip("\r\n\x00")
        event = self._parse(text) if text else None
        if event is None:
            self._parse_errors.inc()
            return
        event.source = self.name
        if peer:
            event.fields["log.source.address"] = peer
        if not self._batch:
            self._batch_start = time.monotonic()
        self._batch.append(event)
        if len(self._batch) >= BATCH_SIZE:
            self._flush(emit)

    def _flush(self, emit: Emit) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        emit(batch, None)
        self._emitted.inc(len(batch))
        self._last_event.set(self.ctx.clock.now())


def _listen_socket(proto: str, host: str, port: int) -> socket.socket:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    family, _, _, _, addr = socket.getaddrinfo(host, port, type=kind, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind)
    try:
        if proto == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        if proto == "tcp":
            sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _addr(sock: socket.socket) -> tuple[str, int]:
    name = sock.getsockname()
    return str(name[0]), int(name[1])


def _peer(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = str(peer[0])
        return f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"
    return ""

