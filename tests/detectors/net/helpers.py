"""Hand-made network events and a test context for the network detectors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Event

T0 = 1_700_000_000.0


def make_ctx(tmp_path: Path | None = None) -> Context:
    base = tmp_path or Path(".")
    return Context(sensor="gw-01", clock=ManualClock(T0), metrics=Metrics(),
                   state_dir=base / "state", log=logging.getLogger("test.net"),
                   base_dir=base)


def flow(ts: float, src: str, dst: str, dport: int, *, sport: int = 40000,
         state: str = "S0", hist: str = "S", transport: str = "tcp",
         duration: float = 0.0, sbytes: int = 60, dbytes: int = 0, spkts: int = 1,
         dpkts: int = 0, **extra: Any) -> Event:
    fields: dict[str, Any] = {
        "event.duration": round(duration * 1e9),
        "source.ip": src, "source.port": sport, "source.bytes": sbytes,
        "source.packets": spkts, "destination.ip": dst, "destination.port": dport,
        "destination.bytes": dbytes, "destination.packets": dpkts,
        "network.transport": transport, "network.bytes": sbytes + dbytes,
        "network.packets": spkts + dpkts, "ronda.flow.state": state,
        "ronda.flow.history": hist,
    }
    fields.update(extra)
    msg = f"{transport} {src}:{sport} -> {dst}:{dport} {state} {hist}"
    return Event("network.flow", ts + duration, fields, msg, "lan")


def dns(ts: float, src: str, name: str, *, qtype: str = "A", rcode: str = "NOERROR",
        server: str = "10.0.0.53") -> Event:
    fields = {"source.ip": src, "destination.ip": server, "dns.question.name": name,
              "dns.question.type": qtype, "dns.response_code": rcode}
    return Event("dns", ts, fields, f"{src} -> {server} {qtype} {name}", "lan")


def web_session(ts: float, client: str, server: str, sport: int) -> Event:
    """A normal HTTPS connection: handshake, data both ways, FIN close."""
    return flow(ts, client, server, 443, sport=sport, state="SF", hist="ShADadFf",
                duration=2.0, sbytes=2_000, dbytes=50_000, spkts=12, dpkts=40)


def evicted(ctx: Context, name: str) -> float:
    return ctx.metrics.value("ronda_dropped_total", component=name, reason="group_evicted")
