"""Events from tshark's dissection (the pyshark backend's ``dissect``), checked on tshark's
real JSON for packets the test writes."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sensor.net.dissect import MAX_FIELDS, dissected_events, endpoints, layer_fields
from sensor.net.pcapwrite import PcapWriter, ether, ipv4, udp

T0 = 1_767_225_600.0


def _dns_query(name: str) -> bytes:
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return struct.pack("!6H", 0x4242, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 16, 1)


def _tshark_layers(path: Path) -> list[list[tuple[str, Any]]]:
    """Each packet's layers as pyshark's JSON mode sees them (``-T json``; ``-x``: with
    the raw bytes of every field, as the backend's ``include_raw`` asks)."""
    out = subprocess.run(["tshark", "-n", "-x", "-r", str(path), "-T", "json"], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return [list(p["_source"]["layers"].items()) for p in json.loads(out)]


@pytest.mark.skipif(not shutil.which("tshark"), reason="needs tshark (scripts/test.sh)")
def test_dns_dissected_by_tshark_becomes_an_event(tmp_path: Path) -> None:
    cap = tmp_path / "q.pcap"
    with open(cap, "wb") as fh:
        PcapWriter(fh).write(T0, ether(ipv4(b"\x0a\0\0\5", b"\x0a\0\0\x35", 17,
                                            udp(40000, 53, _dns_query("x.pemkab.go.id")))))
    (layers,) = _tshark_layers(cap)
    events = dissected_events(T0, layers, frozenset({"dns", "smb2"}), "lan")
    assert [e.dataset for e in events] == ["tshark.dns"]
    f = events[0].fields
    assert f["tshark.dns.qry.name"] == "x.pemkab.go.id"
    assert f["tshark.dns.qry.type"] == "16"  # TXT, tshark's value as text
    assert (f["source.ip"], f["source.port"], f["destination.ip"], f["destination.port"],
            f["network.transport"], f["network.protocol"]) == (
        "10.0.0.5", 40000, "10.0.0.53", 53, "udp", "dns")
    assert events[0].source == "lan" and events[0].timestamp == T0
    assert not [k for k in f if k.endswith("_raw")]  # tshark's hex twins are left out
    assert dissected_events(T0, layers, frozenset({"sip"})) == []


def test_repeated_fields_become_lists_and_everything_is_bounded() -> None:
    tree = {"x.a": "1", "Group": {"x.a": "2", "x.b_tree": {"x.b": "3"}},
            "x.long": "v" * 5000, "label without dot": "skip"}
    f = layer_fields(tree)
    assert f["x.a"] == ["1", "2"] and f["x.b"] == "3" and "label without dot" not in f
    assert len(f["x.long"]) == 1024
    many = layer_fields({f"x.f{i}": str(i) for i in range(1000)})
    assert len(many) == MAX_FIELDS
    twice = dissected_events(T0, [("ip", {"ip.src": "10.0.0.1", "ip.dst": "10.0.0.2"}),
                                  ("smb2", {"smb2.cmd": "5"}), ("smb2", {"smb2.cmd": "6"})],
                             frozenset({"smb2"}))
    assert [e.fields["tshark.smb2.cmd"] for e in twice] == ["5", "6"]
    assert endpoints({"ipv6": {"ipv6.src": "::1", "ipv6.dst": "::2"},
                      "tcp": {"tcp.srcport": "5", "tcp.dstport": "x"}}) == {
        "source.ip": "::1", "destination.ip": "::2", "network.type": "ipv6",
        "network.transport": "tcp", "source.port": 5}
