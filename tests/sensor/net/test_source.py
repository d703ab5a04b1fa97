"""The ``pcap`` source as the daemon builds it from config, and ``ronda replay``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ronda.config import load_config
from ronda.daemon.build import build, make_context
from ronda.daemon.common import setup_logging
from ronda.errors import ConfigError
from sensor.net.pcapwrite import SYN, PcapWriter, ether, ipv4, tcp
from sensor.net.source import PcapSource
from tests.sensor.net.helpers import T0, replay

ROOT = Path(__file__).resolve().parents[3]


def _capture(path: Path, n: int = 3) -> None:
    with open(path, "wb") as fh:
        w = PcapWriter(fh)
        for i in range(n):
            w.write(T0 + i, ether(ipv4(b"\x0a\0\0\1", bytes((10, 0, 1, i)), 6,
                                       tcp(1000, 22, SYN))))


def _load(tmp: Path, body: str) -> PcapSource:
    cfg = tmp / "ronda.yaml"
    cfg.write_text(f"sensor: {{name: t}}\nstate_dir: {tmp}\nsources:\n{body}")
    loaded = load_config(cfg, display=str(cfg), env={})
    ctx = make_context(loaded, __import__("ronda.clock").clock.EventClock(),
                       setup_logging("warning"))
    comps = build(loaded, ctx, with_responders=False)
    src = comps.sources[0]
    assert isinstance(src, PcapSource)
    return src


def test_config_settings_reach_the_flow_table(tmp_path: Path) -> None:
    _capture(tmp_path / "c.pcap")
    src = _load(tmp_path, "  lan:\n    type: pcap\n    path: c.pcap\n    max_flows: 2\n"
                          "    idle_timeout: {tcp: 30s, udp: 10s}\n    active_timeout: 10m\n")
    src.prepare()
    cfg = src.config
    assert (cfg.max_flows, cfg.idle_timeout.tcp, cfg.idle_timeout.udp, cfg.idle_timeout.icmp,
            cfg.active_timeout, cfg.realtime) == (2, 30.0, 10.0, 60.0, 600.0, False)
    events: list[object] = []
    src.run(lambda batch, pos: events.extend(batch), __import__("threading").Event())
    m = src.ctx.metrics
    assert len(events) == 3
    assert m.value("ronda_flow_evictions_total", component="lan", reason="table_full") == 1
    assert m.value("ronda_flows_total", component="lan", reason="evicted") == 1
    assert m.value("ronda_flows_total", component="lan", reason="shutdown") == 2
    assert m.value("ronda_received_total", component="lan") == 3
    assert m.value("ronda_emitted_total", component="lan") == 3
    assert m.value("ronda_flows_active", component="lan") == 0


def test_config_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max_flows"):
        _load(tmp_path, "  lan: {type: pcap, path: x.pcap, max_flows: 0}\n")
    with pytest.raises(ConfigError, match="bogus"):
        _load(tmp_path, "  lan: {type: pcap, path: x.pcap, idle_timeout: {bogus: 1s}}\n")
    src = _load(tmp_path, "  lan: {type: pcap, path: missing.pcap}\n")
    with pytest.raises(ConfigError, match="no such file"):
        src.prepare()
    (tmp_path / "text.pcap").write_text("not a capture\n")
    src = _load(tmp_path, "  lan: {type: pcap, path: text.pcap}\n")
    with pytest.raises(ConfigError, match="not a pcap or pcapng file"):
        src.prepare()


def test_realtime_replays_at_capture_pace(tmp_path: Path) -> None:
    path = tmp_path / "rt.pcap"
    with open(path, "wb") as fh:
        w = PcapWriter(fh)
        for i in range(3):
            w.write(T0 + i * 0.2, ether(ipv4(b"\x0a\0\0\1", b"\x0a\0\0\2", 6,
                                             tcp(1000 + i, 22, SYN))))
    import time

    t0 = time.monotonic()
    events, _ = replay(path, tmp_path, realtime=True)
    assert time.monotonic() - t0 >= 0.35 and len(events) == 3


def test_replay_command_guesses_captures(tmp_path: Path) -> None:
    _capture(tmp_path / "noext")
    cfg = tmp_path / "ronda.yaml"
    cfg.write_text(f"sensor: {{name: t}}\nstate_dir: {tmp_path}\n")
    r = subprocess.run([sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg),
                        "--no-store", "--output", "none", str(tmp_path / "noext"),
                        f"pcap:{tmp_path / 'noext'}"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert ("replayed 6 packets from 2 capture(s): 6 flows, 0 undecodable, "
            "0 malformed protocol messages, 0 alerts") in r.stderr


def test_protocol_buffer_budget_is_configured_and_exported(tmp_path: Path) -> None:
    """``proto_buffer_bytes`` bounds the parsers' buffers; a head split over segments is
    held meanwhile (the gauge shows it), a head beyond the budget is dropped and counted."""
    from sensor.net.pcapwrite import ACK, PSH

    a, w = b"\x0a\0\0\1", b"\x0a\0\0\2"
    with open(tmp_path / "h.pcap", "wb") as fh:
        pw = PcapWriter(fh)
        pw.write(T0, ether(ipv4(a, w, 6, tcp(40000, 80, SYN, seq=1))))
        pw.write(T0 + 0.1, ether(ipv4(a, w, 6, tcp(40000, 80, PSH | ACK,
                                                   b"GET /" + b"a" * 1500, seq=2))))
    src = _load(tmp_path, "  lan: {type: pcap, path: h.pcap, proto_buffer_bytes: 1KiB}\n")
    src.prepare()
    assert src.config.proto_buffer_bytes == 1024
    m = src.ctx.metrics
    assert m.value("ronda_proto_buffer_bytes", component="lan") == 0
    src.run(lambda batch, pos: None, __import__("threading").Event())
    assert m.value("ronda_packets_decode_errors_total", component="lan",
                   reason="proto_buffer_budget") == 1
    assert m.value("ronda_proto_buffer_bytes", component="lan") == 0
    with pytest.raises(ConfigError, match="proto_buffer_bytes"):
        _load(tmp_path, "  lan: {type: pcap, path: h.pcap, proto_buffer_bytes: lots}\n")
