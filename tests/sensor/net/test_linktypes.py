"""Link types, VLAN tags, IPv6 extension headers, pcap variants and pcapng."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from scapy.all import (
    IP,
    TCP,
    UDP,
    CookedLinux,
    CookedLinuxV2,
    Dot1AD,
    Dot1Q,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    Loopback,
    Raw,
    wrpcap,
)
from scapy.all import Ether as _Ether

from sensor.net.pcapfile import CaptureReader, capture_format
from sensor.net.pcapwrite import PcapWriter, ether, ipv4, tcp
from tests.sensor.net.helpers import T0, replay


def Ether() -> _Ether:
    return _Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def _one_flow(path: Path, tmp: Path) -> dict[str, object]:
    events, src = replay(path, tmp)
    assert len(events) == 1, [e.message for e in events]
    assert src.engine is not None and not src.engine.errors
    return events[0].fields


def _write(path: Path, pkts: list[object], **kw: object) -> None:
    for i, p in enumerate(pkts):
        p.time = T0 + i  # type: ignore[attr-defined]
    wrpcap(str(path), pkts, **kw)


def test_vlan_and_qinq(tmp_path: Path) -> None:
    l4 = IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80, flags="S")
    _write(tmp_path / "v.pcap", [Ether() / Dot1Q(vlan=42) / l4,
                                 Ether() / Dot1AD(vlan=7) / Dot1Q(vlan=42) / l4])
    f = _one_flow(tmp_path / "v.pcap", tmp_path)
    assert f["network.vlan.id"] == "42"  # the first packet's outermost tag
    assert (f["destination.port"], f["network.packets"]) == (80, 2)


def test_ipv6_with_extension_headers(tmp_path: Path) -> None:
    a, b = "2001:db8::1", "2001:db8::2"
    pkts = [
        Ether() / IPv6(src=a, dst=b) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrRouting() / TCP(sport=5555, dport=443, flags="S"),
        Ether() / IPv6(src=b, dst=a) / TCP(sport=443, dport=5555, flags="SA"),
        Ether() / IPv6(src=a, dst=b) / IPv6ExtHdrFragment(offset=0, m=0)
        / TCP(sport=5555, dport=443, flags="A"),
    ]
    _write(tmp_path / "v6.pcap", pkts)
    f = _one_flow(tmp_path / "v6.pcap", tmp_path)
    assert (f["source.ip"], f["destination.ip"], f["destination.port"]) == (a, b, 443)
    assert f["network.type"] == "ipv6" and f["ronda.flow.history"] == "ShA"


@pytest.mark.parametrize("kind", ["sll", "sll2", "raw", "null"])
def test_link_types(kind: str, tmp_path: Path) -> None:
    l3 = IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=4000, dport=53) / Raw(b"x" * 12)
    if kind == "sll":
        pkts, kw = [CookedLinux(proto=0x0800) / l3], {}
    elif kind == "sll2":
        pkts, kw = [CookedLinuxV2(proto=0x0800) / l3], {}
    elif kind == "raw":
        pkts, kw = [l3], {"linktype": 101}
    else:
        pkts, kw = [Loopback(type=2) / l3], {}
    _write(tmp_path / "l.pcap", pkts, **kw)
    f = _one_flow(tmp_path / "l.pcap", tmp_path)
    assert (f["source.ip"], f["destination.port"], f["source.bytes"]) == ("10.1.1.1", 53, 40)


def test_classic_pcap_byte_orders_and_nanoseconds(tmp_path: Path) -> None:
    frame = ether(ipv4(b"\x0a\0\0\1", b"\x0a\0\0\2", 6, tcp(1, 2, 0x02)))
    for endian, magic, units in (("<", 0xA1B2C3D4, 10**6), (">", 0xA1B2C3D4, 10**6),
                                 ("<", 0xA1B23C4D, 10**9), (">", 0xA1B23C4D, 10**9)):
        path = tmp_path / f"{endian}{units}.pcap"
        head = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
        rec = struct.pack(endian + "IIII", int(T0), units // 4, len(frame), len(frame))
        path.write_bytes(head + rec + frame)
        assert capture_format(path) == "pcap"
        (ts, lt, buf, off, cap, _wire), = list(CaptureReader(path))
        assert ts == pytest.approx(T0 + 0.25) and lt == 1 and buf[off:off + cap] == frame


def _block(endian: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def pcapng(endian: str, frames: list[tuple[int, bytes]], tsresol: int = 9) -> bytes:
    """A pcapng file: section header, an unknown block, an interface with if_tsresol,
    enhanced packet blocks (timestamps in interface units) and a simple packet block."""
    out = _block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += _block(endian, 0x0BAD, b"custom block to skip")
    opts = struct.pack(endian + "HH", 9, 1) + bytes([tsresol]) + b"\0\0\0"
    opts += struct.pack(endian + "HH", 0, 0)
    out += _block(endian, 1, struct.pack(endian + "HHI", 1, 0, 0) + opts)
    for units, frame in frames:
        out += _block(endian, 6, struct.pack(endian + "IIIII", 0, units >> 32,
                                              units & 0xFFFFFFFF, len(frame), len(frame))
                      + frame)
    out += _block(endian, 3, struct.pack(endian + "I", len(frames[-1][1])) + frames[-1][1])
    return out


@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_nanosecond_resolution(endian: str, tmp_path: Path) -> None:
    a, b = b"\x0a\0\0\1", b"\x0a\0\0\2"
    start_ns = int(T0) * 10**9 + 123_456_789
    frames = [(start_ns, ether(ipv4(a, b, 6, tcp(999, 22, 0x02)))),
              (start_ns + 1_500_250_000, ether(ipv4(b, a, 6, tcp(22, 999, 0x12)))),
              (start_ns + 2_000_000_000, ether(ipv4(a, b, 6, tcp(999, 22, 0x10))))]
    path = tmp_path / "ns.pcapng"
    path.write_bytes(pcapng(endian, frames))
    assert capture_format(path) == "pcapng"
    reader = CaptureReader(path)
    stamps = [r[0] for r in reader]
    assert len(stamps) == 4 and not reader.errors  # three EPBs and the SPB
    assert stamps[0] == pytest.approx(T0 + 0.123456789, abs=1e-6)
    f = _one_flow(path, tmp_path)
    assert f["event.start"] == "2026-01-01T00:00:00.123Z"
    assert f["event.duration"] == 2_000_000_000
    assert f["ronda.flow.history"] == "ShA" and f["network.packets"] == 4


def test_pcapng_microsecond_default_and_power_of_two(tmp_path: Path) -> None:
    frame = ether(ipv4(b"\x0a\0\0\1", b"\x0a\0\0\2", 17, b"\0\1\0\2\0\x08\0\0"))
    path = tmp_path / "p2.pcapng"
    path.write_bytes(pcapng("<", [(int(T0) << 10, frame)], tsresol=0x80 | 10))
    assert [r[0] for r in CaptureReader(path)] == [pytest.approx(T0)] * 2


def test_writer_round_trip_and_snaplen(tmp_path: Path) -> None:
    path = tmp_path / "w.pcap"
    frame = ether(ipv4(b"\x0a\0\0\1", b"\x0a\0\0\2", 6, tcp(1, 2, 0x18, b"p" * 500)))
    with open(path, "wb") as fh:
        PcapWriter(fh, snaplen=96).write(T0, frame)
    (_ts, _, _buf, _off, cap, wire), = list(CaptureReader(path))
    assert (cap, wire) == (96, len(frame))
    f = _one_flow(path, tmp_path)
    assert f["source.bytes"] == 540  # the IP length on the wire, not the captured part


def test_gzip_compressed_captures(tmp_path: Path) -> None:
    import gzip

    frame = ether(ipv4(b"\x0a\0\0\1", b"\x0a\0\0\2", 6, tcp(1, 2, 0x02)))
    plain = tmp_path / "p.pcap"
    with open(plain, "wb") as fh:
        PcapWriter(fh).write(T0, frame)
    gz = tmp_path / "p.pcap.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert capture_format(gz) == "pcap"
    assert _one_flow(gz, tmp_path)["destination.port"] == 2
    broken = tmp_path / "b.pcap.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 20)
    assert capture_format(broken) is None
