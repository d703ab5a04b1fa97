"""The ``capture`` source: live packets from a network interface into flows.

``backend: packet`` (the default) reads a Linux packet socket through a memory-mapped
TPACKET_V3 ring (``capture_ring``): the BPF filter is compiled by libpcap through scapy
and runs in the kernel, packets carry the kernel's timestamps, and they go through the
same engine as the ``pcap`` source (decoder, flow table, and the protocol parsers named in
``protocols``, which add ``dns``, ``http``, ``tls`` and ``ssh`` events). Flows are
swept on wall time when the link is quiet, and flushed with ``event.reason: shutdown``
when the source stops. Packets the kernel dropped because the ring was full are exported
as ``ronda_capture_kernel_drops_total``.

``backend: pyshark`` lets tshark capture (through the optional ``pyshark`` package, and
tshark on the PATH; a config error names what is missing) and feeds each frame to the
same engine: much slower, and without kernel drop counts (``capture_pyshark``).
"""

from __future__ import annotations

import importlib.util
import shutil
import threading
import time
from collections import Counter
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from ronda.component import Context, Emit, Source
from ronda.durations import Duration, Size
from ronda.errors import ConfigError
from ronda.schema import Event
from sensor.net.capture_metrics import CaptureMetrics, PacketReader
from sensor.net.capture_pyshark import PysharkReader
from sensor.net.capture_ring import CaptureOpenError, PacketRing
from sensor.net.engine import PacketEngine
from sensor.net.source import PacketSourceConfig, make_parsers, make_table

METRICS_EVERY = 1.0  # seconds between moves of the counters into Prometheus


class CaptureConfig(PacketSourceConfig):
    type: Literal["capture"] = "capture"
    interface: str = Field(min_length=1)
    bpf: str = ""
    snaplen: int = Field(default=65535, ge=64, le=262_144)
    promiscuous: bool = True
    buffer_size: Size = Field(default=64 << 20, ge=1 << 16)
    backend: Literal["packet", "pyshark"] = "packet"
    # pyshark backend: tshark layers (smb2, sip, rdp...) whose dissection becomes events
    dissect: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]+$")]] = Field(
        default_factory=list)
    # longest a flow event may wait in a partial batch before it is passed on
    flush_interval: Duration = Field(default=0.5, gt=0)

    @model_validator(mode="after")
    def _dissect_needs_tshark(self) -> CaptureConfig:
        if self.dissect and self.backend != "pyshark":
            raise ValueError("dissect needs backend: pyshark (tshark dissects)")
        return self


class CaptureSource(Source):
    config_model = CaptureConfig

    def __init__(self, name: str, config: CaptureConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self.proto_errors: Counter[str] = Counter()  # malformed protocol data, by reason
        self.observers = make_parsers(name, config, ctx, self.proto_errors)
        self.engine: PacketEngine | None = None
        self.ring: PacketReader | None = None  # the reader of the current (or last) run
        self._prepared: PacketReader | None = None

    def _open(self) -> PacketReader:
        cfg: CaptureConfig = self.config
        if cfg.backend == "pyshark":
            if importlib.util.find_spec("pyshark") is None:
                raise ConfigError("backend pyshark needs the Python package 'pyshark' "
                                  "(pip install pyshark); or use backend: packet")
            if shutil.which("tshark") is None:
                raise ConfigError("backend pyshark needs tshark (apt-get install tshark)")
        try:
            ring = PacketRing(cfg.interface, bpf=cfg.bpf, snaplen=cfg.snaplen,
                              promiscuous=cfg.promiscuous,
                              buffer_size=cfg.buffer_size if cfg.backend == "packet"
                              else 1 << 20)
        except CaptureOpenError as exc:
            raise ConfigError(str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"interface {cfg.interface}: {exc.strerror or exc}") from None
        if cfg.backend == "packet":
            return ring
        ring.close()  # it checked the interface, the filter and the permission for tshark
        try:
            return PysharkReader(cfg.interface, bpf=cfg.bpf, snaplen=cfg.snaplen,
                                 buffer_size=cfg.buffer_size, linktype=ring.linktype,
                                 dissect=frozenset(cfg.dissect), source=self.name)
        except OSError as exc:
            raise ConfigError(str(exc)) from None

    def prepare(self) -> None:
        if self._prepared is None:
            self._prepared = self._open()

    def run(self, emit: Emit, stop: threading.Event) -> None:
        cfg: CaptureConfig = self.config
        ring = self._prepared if self._prepared is not None else self._open()
        self._prepared = None  # a restart after a failure opens a fresh socket
        self.ring = ring
        pending: list[Event] = []
        table = make_table(self.name, cfg, pending.append, self.observers)
        if isinstance(ring, PysharkReader):
            ring.on_events = pending.extend
        engine = self.engine = PacketEngine(table)
        metrics = CaptureMetrics(self.ctx.metrics, self.name, engine, ring, self.proto_errors)
        metrics()  # the series exist from the start (0), so increase() sees the first drop
        batch, every = cfg.batch_events, cfg.flush_interval
        last_emit = last_metrics = time.monotonic()

        def send() -> None:
            nonlocal last_emit
            for i in range(0, len(pending), batch):
                emit(pending[i:i + batch], None)
            metrics.emitted += len(pending)
            pending.clear()
            last_emit = time.monotonic()

        def idle() -> bool:
            nonlocal last_metrics
            now = time.monotonic()
            wall = time.time()
            if wall >= table.next_sweep:  # quiet link: idle flows still end on time
                table.sweep(wall)
            if len(pending) >= batch or (pending and now - last_emit >= every):
                send()
            if now - last_metrics >= METRICS_EVERY:
                metrics()
                last_metrics = now
            return not stop.is_set()

        def tick(ts: float) -> bool:
            if len(pending) >= batch:
                send()
            return not stop.is_set()

        try:
            engine.run(ring.records(idle), tick, tick_every=1024)
        finally:  # stopped, or the interface went away: the open flows end either way
            try:
                table.flush()
                send()
                metrics()
            finally:
                ring.close()
