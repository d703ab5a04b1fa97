"""Flows from captures written with scapy: conn_state and history as Zeek's conn.log has
them (states and letters per Zeek's base/protocols/conn/main.zeek documentation)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.all import ICMP, IP, TCP, UDP, Raw, wrpcap
from scapy.all import Ether as _Ether

from tests.sensor.net.helpers import T0, replay

C, S = "192.0.2.10", "198.51.100.20"


def Ether() -> _Ether:
    return _Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


CP, SP = 40000, 80

# (direction, flags, payload): ">" client to server, "<" server to client
Script = list[tuple[str, str, bytes]]
HANDSHAKE: Script = [(">", "S", b""), ("<", "SA", b""), (">", "A", b"")]
CASES: dict[str, tuple[Script, str, str, str]] = {
    # name: (packets, conn_state, history, event.reason)
    "normal": ([*HANDSHAKE, (">", "PA", b"GET / HTTP/1.1\r\n\r\n"), ("<", "A", b""),
                ("<", "PA", b"HTTP/1.1 200 OK\r\n\r\n"), (">", "A", b""),
                (">", "FA", b""), ("<", "FA", b""), (">", "A", b"")],
               "SF", "ShADadFf", "end"),
    "rejected": ([(">", "S", b""), ("<", "RA", b"")], "REJ", "Sr", "end"),
    "no_reply": ([(">", "S", b""), (">", "S", b"")], "S0", "S", "shutdown"),
    "orig_abort": ([*HANDSHAKE, (">", "PA", b"hello"), ("<", "A", b""), (">", "R", b"")],
                   "RSTO", "ShADaR", "end"),
    "resp_abort": ([*HANDSHAKE, ("<", "R", b"")], "RSTR", "ShAr", "end"),
    "syn_then_rst": ([(">", "S", b""), (">", "R", b"")], "RSTOS0", "SR", "end"),
    "syn_then_fin": ([(">", "S", b""), (">", "F", b"")], "SH", "SF", "end"),
    "synack_then_rst": ([("<", "SA", b""), ("<", "R", b"")], "RSTRH", "^hr", "end"),
    "synack_then_fin": ([("<", "SA", b""), ("<", "F", b"")], "SHR", "^hf", "end"),
    "midstream": ([(">", "PA", b"data"), ("<", "PA", b"more")], "OTH", "Dd", "shutdown"),
    "established": ([*HANDSHAKE, (">", "PA", b"x")], "S1", "ShAD", "shutdown"),
    "orig_close_only": ([*HANDSHAKE, (">", "FA", b"")], "S2", "ShAF", "shutdown"),
    "resp_close_only": ([*HANDSHAKE, ("<", "FA", b"")], "S3", "ShAf", "shutdown"),
    "rst_after_fins": ([*HANDSHAKE, (">", "FA", b""), ("<", "FA", b""), (">", "R", b"")],
                       "SF", "ShAFfR", "end"),
}


def write_tcp(path: Path, script: Script) -> None:
    pkts = []
    for i, (way, flags, data) in enumerate(script):
        if way == ">":
            p = Ether() / IP(src=C, dst=S) / TCP(sport=CP, dport=SP, flags=flags)
        else:
            p = Ether() / IP(src=S, dst=C) / TCP(sport=SP, dport=CP, flags=flags)
        if data:
            p = p / Raw(data)
        p.time = T0 + i * 0.01
        pkts.append(p)
    wrpcap(str(path), pkts)


@pytest.mark.parametrize("name", sorted(CASES))
def test_tcp_conn_state_and_history(name: str, tmp_path: Path) -> None:
    script, state, history, reason = CASES[name]
    path = tmp_path / f"{name}.pcap"
    write_tcp(path, script)
    events, _ = replay(path, tmp_path)
    assert len(events) == 1, [e.message for e in events]
    f = events[0].fields
    assert (f["ronda.flow.state"], f["ronda.flow.history"], f["event.reason"]) == (
        state, history, reason)
    # the originator is the client, even when the server spoke first
    assert (f["source.ip"], f["source.port"], f["destination.ip"], f["destination.port"]) == (
        C, CP, S, SP)
    assert f["network.transport"] == "tcp" and f["network.type"] == "ipv4"
    assert f["network.packets"] == len(script)


def test_flow_counts_and_ecs_fields(tmp_path: Path) -> None:
    path = tmp_path / "sf.pcap"
    write_tcp(path, CASES["normal"][0])
    events, _ = replay(path, tmp_path)
    ev = events[0]
    f = ev.fields
    assert ev.dataset == "network.flow"
    assert f["source.packets"] == 6 and f["destination.packets"] == 4
    assert f["source.bytes"] == 5 * 40 + 40 + 18 and f["destination.bytes"] == 3 * 40 + 40 + 19
    assert f["network.bytes"] == f["source.bytes"] + f["destination.bytes"]
    assert f["event.duration"] == 90_000_000  # 9 gaps of 10 ms, in nanoseconds
    assert f["event.start"] == "2026-01-01T00:00:00.000Z"
    assert f["event.end"] == "2026-01-01T00:00:00.090Z"
    assert ev.timestamp == pytest.approx(T0 + 0.09)
    assert f["network.community_id"].startswith("1:") and len(f["network.community_id"]) == 30
    doc = ev.to_ecs()
    assert doc["source"]["ip"] == C and doc["ronda"]["flow"]["history"] == "ShADadFf"


def test_port_reuse_after_close_starts_a_new_flow(tmp_path: Path) -> None:
    script = CASES["rejected"][0] * 2
    path = tmp_path / "reuse.pcap"
    write_tcp(path, script)
    events, _ = replay(path, tmp_path)
    assert [e.fields["ronda.flow.state"] for e in events] == ["REJ", "REJ"]


def _udp_icmp_capture(path: Path) -> None:
    pkts = [
        Ether() / IP(src=C, dst="192.0.2.53") / UDP(sport=33333, dport=53) / Raw(b"q" * 30),
        Ether() / IP(src="192.0.2.53", dst=C) / UDP(sport=53, dport=33333) / Raw(b"a" * 90),
        Ether() / IP(src=C, dst="192.0.2.53") / UDP(sport=33334, dport=53) / Raw(b"q" * 30),
        # an answer whose query was not captured: the server spoke first
        Ether() / IP(src="192.0.2.53", dst=C) / UDP(sport=53, dport=33335) / Raw(b"a" * 90),
        Ether() / IP(src=C, dst=S) / ICMP(type=8, id=7, seq=1),
        Ether() / IP(src=S, dst=C) / ICMP(type=0, id=7, seq=1),
        Ether() / IP(src=S, dst=C) / ICMP(type=0, id=9, seq=1),  # same flow: ids not keyed
        Ether() / IP(src=S, dst=C) / ICMP(type=3, code=3),
    ]
    for i, p in enumerate(pkts):
        p.time = T0 + i
    wrpcap(str(path), pkts)


def test_udp_and_icmp_flows(tmp_path: Path) -> None:
    path = tmp_path / "udp.pcap"
    _udp_icmp_capture(path)
    events, _ = replay(path, tmp_path)
    udp = [e.fields for e in events if e.fields["network.transport"] == "udp"]
    by_sport = {f["source.port"]: f for f in udp}
    assert (by_sport[33333]["ronda.flow.state"], by_sport[33333]["ronda.flow.history"]) == (
        "SF", "Dd")
    assert by_sport[33333]["network.packets"] == 2
    assert (by_sport[33334]["ronda.flow.state"], by_sport[33334]["ronda.flow.history"]) == (
        "S0", "D")
    assert (by_sport[33335]["ronda.flow.state"], by_sport[33335]["ronda.flow.history"]) == (
        "SHR", "^d")
    icmp = [e.fields for e in events if e.fields["network.transport"] == "icmp"]
    assert len(icmp) == 2  # echo (request, reply, reply), unreachable
    pair = [f for f in icmp if f["network.packets"] == 3]
    assert len(pair) == 1 and pair[0]["source.ip"] == C and pair[0]["ronda.icmp.type"] == 8
    unreachable = [f for f in icmp if f["ronda.icmp.type"] == 3]
    assert unreachable and unreachable[0]["ronda.icmp.code"] == 3
    assert unreachable[0]["source.ip"] == S
    assert all(f["ronda.flow.state"] == "OTH" for f in icmp)


def test_icmp_reply_seen_first_is_flipped(tmp_path: Path) -> None:
    pkts = [Ether() / IP(src=S, dst=C) / ICMP(type=0, id=9, seq=1)]
    pkts[0].time = T0
    wrpcap(str(tmp_path / "r.pcap"), pkts)
    events, _ = replay(tmp_path / "r.pcap", tmp_path)
    f = events[0].fields
    assert (f["source.ip"], f["destination.ip"], f["ronda.flow.history"]) == (C, S, "^")
    assert f["source.packets"] == 0 and f["destination.packets"] == 1
