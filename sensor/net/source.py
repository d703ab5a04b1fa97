"""The ``pcap`` source: a pcap or pcapng file replayed into flows (``network.flow`` events).

With ``protocols`` (default all: dns, http, tls, ssh) the protocol parsers of
``sensor.net.proto`` also emit ``dns``, ``http``, ``tls`` and ``ssh`` events; packet
sources build them with ``sensor.net.proto.registry.make_observers``. As fast as possible
by default, or at the pace it was captured (``realtime: true``). Flows
still open at the end of the file are flushed with ``event.reason: shutdown``. Defects in
the file or its packets are counted (``ronda_packets_decode_errors_total``), never fatal;
a file that is not a capture at all is an input error (one line, exit 2 in replay).
"""

from __future__ import annotations

import threading
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ronda.component import Context, Emit, Source, SourceConfig
from ronda.durations import Duration, Size
from ronda.errors import ConfigError, InputError
from ronda.schema import Event
from sensor.net.engine import PacketEngine, paced
from sensor.net.flowmetrics import FlowMetrics
from sensor.net.flows import FlowTable
from sensor.net.hooks import FlowObserver
from sensor.net.payload import PayloadSampler
from sensor.net.pcapfile import CaptureReader, NotACapture, capture_format
from sensor.net.proto.buffers import DEFAULT_BUDGET
from sensor.net.proto.registry import ALL, ProtocolName, buffer_budget, make_observers


class IdleTimeouts(BaseModel):
    """How long a flow may be silent before it ends, by transport (``icmp`` also covers
    every IP protocol other than TCP and UDP)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tcp: Duration = 300.0
    udp: Duration = 60.0
    icmp: Duration = 60.0


class PacketSourceConfig(SourceConfig):
    """Settings shared by the packet sources (pcap now, live capture later)."""

    idle_timeout: IdleTimeouts = IdleTimeouts()
    active_timeout: Duration = 1800.0
    max_flows: int = Field(default=200_000, ge=1)
    batch_events: int = Field(default=1000, ge=1)
    # protocol metadata events (sensor.net.proto): dns, http, tls, ssh; [] for flows only
    protocols: list[ProtocolName] = Field(default_factory=lambda: list(ALL))
    # the first bytes of each direction of a flow, on its event, for payload rules
    payload_bytes: int = Field(default=0, ge=0, le=65536)
    # all the protocol parsers' per-flow buffers together (partial HTTP heads, TLS
    # records, DNS-over-TCP messages); a message that would go beyond is dropped, counted
    proto_buffer_bytes: Size = Field(default=DEFAULT_BUDGET, ge=0)


class PcapConfig(PacketSourceConfig):
    type: Literal["pcap"] = "pcap"
    path: str
    realtime: bool = False


def make_parsers(name: str, cfg: PacketSourceConfig, ctx: Context,
                 errors: Counter[str]) -> list[FlowObserver]:
    """The protocol parsers of a packet source, their buffer budget exported as
    ``ronda_proto_buffer_bytes``."""
    observers = make_observers(cfg.protocols, name, errors, buffer_bytes=cfg.proto_buffer_bytes)
    budget = buffer_budget(observers)
    if budget is not None:
        ctx.metrics.proto_buffer_bytes.labels(component=name).set_function(
            lambda: budget.used)
    return observers


def make_table(name: str, cfg: PacketSourceConfig, emit: Callable[[Event], None],
               observers: list[FlowObserver]) -> FlowTable:
    """A new flow table for one run of a source (a restart makes another)."""
    budget = buffer_budget(observers)
    if budget is not None:
        budget.used = 0  # a new table holds no buffers (a failed run's flows are gone)
    it = cfg.idle_timeout
    return FlowTable(emit, source=name, tcp_idle=it.tcp, udp_idle=it.udp, other_idle=it.icmp,
                     active_timeout=cfg.active_timeout, max_flows=cfg.max_flows,
                     observers=[*observers, *([PayloadSampler(cfg.payload_bytes)]
                                              if cfg.payload_bytes else [])])


class PcapSource(Source):
    config_model = PcapConfig
    finite = True

    def __init__(self, name: str, config: PcapConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self.path = ctx.resolve(config.path)
        self.proto_errors: Counter[str] = Counter()  # malformed protocol data, by reason
        self.observers = make_parsers(name, config, ctx, self.proto_errors)
        self.engine: PacketEngine | None = None

    def prepare(self) -> None:
        if not self.path.is_file():
            raise ConfigError(f"sources.{self.name}.path: {self.path}: no such file")
        if capture_format(self.path) is None:
            raise ConfigError(f"sources.{self.name}.path: {self.path}: "
                              "not a pcap or pcapng file")

    def run(self, emit: Emit, stop: threading.Event) -> None:
        cfg: PcapConfig = self.config
        pending: list[Event] = []
        table = make_table(self.name, cfg, pending.append, self.observers)
        engine = self.engine = PacketEngine(table)
        reader = CaptureReader(self.path)
        flush = FlowMetrics(self.ctx.metrics, self.name, engine, self.proto_errors,
                            reader.errors)
        batch = cfg.batch_events
        realtime = cfg.realtime

        def tick(ts: float) -> bool:
            if len(pending) >= batch or (realtime and pending):
                emit(pending[:], None)
                flush.emitted += len(pending)
                pending.clear()
            flush()
            return not stop.is_set()

        records = paced(reader, stop) if realtime else reader
        failure: InputError | None = None
        try:
            engine.run(records, tick, tick_every=1 if realtime else 4096)
        except NotACapture as exc:
            failure = InputError(str(exc))
        except (OSError, EOFError, zlib.error) as exc:  # unreadable, corrupt .gz
            failure = InputError(f"{self.path}: cannot read: {exc}")
        # what was read before a failure is not lost: its flows end and go out first
        table.flush()
        for i in range(0, len(pending), batch):
            emit(pending[i:i + batch], None)
        flush.emitted += len(pending)
        pending.clear()
        flush()
        if failure is not None:
            raise failure
