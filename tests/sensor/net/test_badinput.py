"""Bad input never crashes the sensor; every defect is counted by reason."""

from __future__ import annotations

import random
import struct
import subprocess
import sys
from pathlib import Path

from sensor.net.decode import ethernet, ipv6
from sensor.net.engine import PacketEngine
from sensor.net.flows import FlowTable
from sensor.net.pcapfile import CaptureReader
from sensor.net.pcapwrite import PcapWriter, ether, icmp, ipv4, tcp, udp, vlan
from tests.sensor.net.helpers import T0, replay

ROOT = Path(__file__).resolve().parents[3]
A, B = b"\x0a\0\0\1", b"\x0a\0\0\2"


def _capture(path: Path, frames: list[bytes], snaplen: int = 65535,
             wire: dict[int, int] | None = None) -> None:
    with open(path, "wb") as fh:
        w = PcapWriter(fh, snaplen=snaplen)
        for i, f in enumerate(frames):
            w.write(T0 + i, f, (wire or {}).get(i))


def _errors(src: object) -> dict[str, float]:
    m = src.ctx.metrics  # type: ignore[attr-defined]
    out: dict[str, float] = {}
    for fam in m.registry.collect():
        for s in fam.samples:
            if s.name == "ronda_packets_decode_errors_total":
                out[s.labels["reason"]] = s.value
    return out


def test_truncated_file_mid_packet_and_mid_header(tmp_path: Path) -> None:
    frames = [ether(ipv4(A, B, 6, tcp(1000 + i, 80, 0x02))) for i in range(10)]
    _capture(tmp_path / "full.pcap", frames)
    data = (tmp_path / "full.pcap").read_bytes()
    rec = 16 + len(frames[0])
    for name, cut, packets in (("mid_packet", 24 + 3 * rec + 20, 3),
                               ("mid_header", 24 + 5 * rec + 7, 5),
                               ("mid_file_header", 13, 0)):
        path = tmp_path / f"{name}.pcap"
        path.write_bytes(data[:cut])
        events, src = replay(path, tmp_path)
        assert len(events) == packets
        reason = "truncated_file_header" if packets == 0 else "truncated_record"
        assert _errors(src) == {reason: 1.0}


def test_caplen_beyond_snaplen_and_insane_lengths(tmp_path: Path) -> None:
    frame = ether(ipv4(A, B, 17, udp(5, 53, b"q" * 20)))
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 40, 1)  # snaplen 40
    rec = struct.pack("<IIII", int(T0), 0, len(frame), len(frame)) + frame
    bad = struct.pack("<IIII", int(T0), 0, 10_000_000, 10_000_000) + frame
    path = tmp_path / "snap.pcap"
    path.write_bytes(head + rec + bad + rec)
    events, src = replay(path, tmp_path)
    assert len(events) == 1  # the first record decoded; the insane one ends the file
    assert _errors(src) == {"caplen_exceeds_snaplen": 1.0, "bad_record_length": 1.0}


def test_malformed_headers_are_counted_by_reason(tmp_path: Path) -> None:
    good = ipv4(A, B, 6, tcp(1, 80, 0x02))
    ihl4 = bytes([0x44]) + good[1:]
    lying_total = ipv4(A, B, 6, tcp(1, 80, 0x02), total=1400)
    short_total = ipv4(A, B, 6, tcp(1, 80, 0x02), total=10)
    t = bytearray(tcp(1, 80, 0x02))
    t[12] = 15 << 4  # data offset 60 bytes in a 20-byte segment
    tcp_offset = ipv4(A, B, 6, bytes(t))
    t[12] = 2 << 4
    tcp_offset_small = ipv4(A, B, 6, bytes(t))
    udp_len = bytearray(udp(5, 53, b"x"))
    udp_len[4:6] = b"\x03\x00"
    bad_udp = ipv4(A, B, 17, bytes(udp_len))
    version = bytes([0x55]) + good[1:]
    frames = [ether(x) for x in (good, ihl4, lying_total, short_total, tcp_offset,
                                 tcp_offset_small, bad_udp, version)]
    frames += [ether(good)[:20], b"\x01\x02", ether(b"\x00" * 30, etype=0x0806)]  # ARP
    frames.append(ether(ipv4(A, B, 6, tcp(1, 80, 0x02)))[:44])  # captured up to TCP's 10th
    frames.append(ether(ipv4(A, B, 17, udp(9, 9, b"x" * 100), frag=0x2000 | 0)))
    frames.append(ether(ipv4(A, B, 17, b"x" * 100, frag=185)))  # later fragment
    path = tmp_path / "bad.pcap"
    _capture(path, frames, wire={len(frames) - 3: 54})
    events, src = replay(path, tmp_path)
    assert _errors(src) == {
        "bad_ihl": 1.0, "bad_ip_length": 2.0, "bad_tcp_offset": 2.0, "bad_udp_length": 1.0,
        "bad_ip_version": 1.0, "truncated_ip": 1.0, "truncated_link": 1.0,
        "truncated_tcp": 1.0}
    m = src.ctx.metrics
    assert m.value("ronda_packets_skipped_total", component="pcap", reason="not_ip") == 1
    assert m.value("ronda_packets_skipped_total", component="pcap", reason="ip_fragment") == 1
    # the good SYN and the first fragment (its UDP header is in it) made flows
    assert sorted(e.fields["network.transport"] for e in events) == ["tcp", "udp"]
    assert m.value("ronda_received_total", component="pcap") == len(frames)


def test_ipv6_extension_header_chains() -> None:
    src, dst = b"\x20\x01" + b"\0" * 14, b"\x20\x02" + b"\0" * 14
    hop = bytes([0, 0]) + b"\0" * 6  # next header 0: hop-by-hop again, and again...
    looping = struct.pack("!IHBB16s16s", 0x60000000, 8 * 20, 0, 64, src, dst) + hop * 20
    frame = ether(looping, etype=0x86DD)
    assert ethernet(frame, 0, len(frame), len(frame)) == "bad_ipv6_ext"
    long_ext = bytes([6, 200]) + b"\0" * 6  # claims 1608 bytes
    bad = struct.pack("!IHBB16s16s", 0x60000000, 8, 0, 64, src, dst) + long_ext
    assert ipv6(bad, 0, len(bad), len(bad), 0) == "bad_ipv6_ext"
    lying = struct.pack("!IHBB16s16s", 0x60000000, 500, 6, 64, src, dst) + tcp(1, 2, 2)
    assert ipv6(lying, 0, len(lying), len(lying), 0) == "bad_ip_length"


def _samples() -> list[bytes]:
    v6 = struct.pack("!IHBB16s16s", 0x60000000, 8 + 20, 0, 64, b"\x20" * 16, b"\x21" * 16)
    return [
        ether(ipv4(A, B, 6, tcp(1234, 80, 0x18, b"GET / HTTP/1.1\r\n\r\n"))),
        ether(ipv4(B, A, 6, tcp(80, 1234, 0x12))),
        ether(ipv4(A, B, 17, udp(5353, 53, b"\x12\x34" + b"\0" * 30))),
        ether(ipv4(A, B, 1, icmp(8, 0, b"ping" * 8))),
        ether(vlan(ipv4(A, B, 6, tcp(1, 2, 0x10, b"x")), 10), etype=0x8100),
        ether(v6 + bytes([6, 0]) + b"\0" * 6 + tcp(443, 5000, 0x11), etype=0x86DD),
        ether(ipv4(A, B, 47, b"\0" * 24)),
    ]


def test_100k_mutated_packets_never_crash() -> None:
    rng = random.Random(20261122)
    samples = _samples()
    events: list[object] = []
    table = FlowTable(events.append, max_flows=500)
    engine = PacketEngine(table)

    def records():  # type: ignore[no-untyped-def]
        for i in range(100_000):
            frame = bytearray(rng.choice(samples))
            for _ in range(rng.randrange(1, 6)):
                frame[rng.randrange(len(frame))] = rng.randrange(256)
            cut = rng.random()
            if cut < 0.2:
                frame = frame[:rng.randrange(len(frame) + 1)]
            elif cut < 0.3:
                frame += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
            data = b"pad" + bytes(frame) + b"trailing bytes of the next record"
            wire = len(frame) + (rng.randrange(0, 3000) if rng.random() < 0.2 else 0)
            yield T0 + i * 0.001 + rng.random() * 0.01, 1, data, 3, len(frame), wire

    engine.run(records(), lambda ts: True)
    table.flush()
    decoded = engine.packets - sum(engine.errors.values()) - sum(engine.skipped.values())
    assert engine.packets == 100_000
    assert decoded > 10_000 and sum(engine.errors.values()) > 10_000
    assert table.peak <= 500 and len(table) == 0


def test_mutated_capture_files_never_crash(tmp_path: Path) -> None:
    from tests.sensor.net.test_linktypes import pcapng

    rng = random.Random(7)
    frames = _samples()
    _capture(tmp_path / "ok.pcap", frames * 5)
    classic = (tmp_path / "ok.pcap").read_bytes()
    ng = pcapng("<", [(int(T0) * 10**9 + i, f) for i, f in enumerate(frames * 5)])
    for i in range(300):
        data = bytearray(classic if i % 2 else ng)
        for _ in range(rng.randrange(1, 10)):
            data[rng.randrange(4, len(data))] = rng.randrange(256)
        data = data[:rng.randrange(4, len(data) + 1)]
        path = tmp_path / f"m{i}.pcap"
        path.write_bytes(bytes(data))
        replay(path, tmp_path)  # no exception
        list(CaptureReader(path))


def test_replay_cli_rejects_garbage_with_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(4000)))
    cfg = tmp_path / "ronda.yaml"
    cfg.write_text(f"sensor: {{name: t}}\nstate_dir: {tmp_path}\n")
    cmd = [sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg), "--no-store"]
    r = subprocess.run([*cmd, f"pcap:{garbage}"], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip() == f"pcap:{garbage}: not a pcap or pcapng file"
    good = tmp_path / "good.pcap"
    _capture(good, _samples())
    data = good.read_bytes()
    good.write_bytes(data[:len(data) - 10])  # truncated: counted, not fatal
    r = subprocess.run([*cmd, str(good), "--output", "none"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "replayed 6 packets from 1 capture(s): 5 flows, 1 undecodable" in r.stderr
