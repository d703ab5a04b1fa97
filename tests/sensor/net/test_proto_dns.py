"""DNS over UDP and TCP: transactions, record types, compression, bad messages."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from pydantic import ValidationError
from scapy.layers.dns import DNS, DNSQR, DNSRR

from sensor.net.proto.dnsmsg import Malformed, parse, read_name
from sensor.net.proto.registry import make_observers
from sensor.net.source import PcapConfig
from tests.sensor.net.helpers import T0
from tests.sensor.net.test_proto_helpers import (
    CLIENT,
    SERVER,
    errors,
    of,
    run,
    tcp_session,
    udp,
)


def _q(ident: int, name: str, qtype: str = "A") -> bytes:
    return bytes(DNS(id=ident, rd=1, qd=[DNSQR(qname=name, qtype=qtype)]))


def _r(ident: int, name: str, qtype: str, answers: list[DNSRR], rcode: int = 0) -> bytes:
    return bytes(DNS(id=ident, qr=1, rd=1, ra=1, rcode=rcode,
                     qd=[DNSQR(qname=name, qtype=qtype)], an=answers))


def test_udp_transactions_and_record_types(tmp_path: Path) -> None:
    resolver = "192.0.2.53"
    pk = [
        udp(CLIENT, resolver, 40001, 53, _q(1, "www.example.go.id"), T0),
        udp(resolver, CLIENT, 53, 40001, _r(1, "www.example.go.id", "A", [
            DNSRR(rrname="www.example.go.id", type="A", ttl=300, rdata="203.0.113.5"),
            DNSRR(rrname="www.example.go.id", type="A", ttl=300, rdata="203.0.113.6")]),
            T0 + 0.025),
        udp(CLIENT, resolver, 40002, 53, _q(2, "v6.example.org", "AAAA"), T0 + 1),
        udp(resolver, CLIENT, 53, 40002, _r(2, "v6.example.org", "AAAA", [
            DNSRR(rrname="v6.example.org", type="AAAA", ttl=60, rdata="2001:db8::1")]),
            T0 + 1.01),
        udp(CLIENT, resolver, 40003, 53, _q(3, "txt.example.org", "TXT"), T0 + 2),
        udp(resolver, CLIENT, 53, 40003, _r(3, "txt.example.org", "TXT", [
            DNSRR(rrname="txt.example.org", type="TXT", ttl=5, rdata=[b"v=spf1 -all"])]),
            T0 + 2.01),
        udp(CLIENT, resolver, 40004, 53, _q(4, "a.example.net"), T0 + 3),
        udp(resolver, CLIENT, 53, 40004, _r(4, "a.example.net", "A", [
            DNSRR(rrname="a.example.net", type="CNAME", ttl=10, rdata="b.example.net"),
            DNSRR(rrname="b.example.net", type="CNAME", ttl=10, rdata="c.cdn.example"),
            DNSRR(rrname="c.cdn.example", type="A", ttl=10, rdata="198.51.100.7")]),
            T0 + 3.01),
        udp(CLIENT, resolver, 40005, 53, _q(5, "nope.example.go.id"), T0 + 4),
        udp(resolver, CLIENT, 53, 40005, _r(5, "nope.example.go.id", "A", [], rcode=3),
            T0 + 4.01),
        udp(CLIENT, resolver, 40006, 53, _q(6, "lost.example.org"), T0 + 5),
    ]
    events, src = run(tmp_path, pk)
    dns = {e.fields["dns.id"]: e.fields for e in of(events, "dns")}
    assert sorted(dns) == [1, 2, 3, 4, 5, 6]
    a = dns[1]
    assert a["dns.question.name"] == "www.example.go.id"
    assert (a["dns.question.type"], a["dns.question.class"]) == ("A", "IN")
    assert a["dns.response_code"] == "NOERROR" and a["dns.type"] == "answer"
    assert a["dns.resolved_ip"] == ["203.0.113.5", "203.0.113.6"]
    assert a["dns.answers"][0] == {"name": "www.example.go.id", "type": "A", "class": "IN",
                                   "ttl": 300, "data": "203.0.113.5"}
    assert a["event.duration"] == 25_000_000
    assert set(a["dns.header_flags"]) == {"RD", "RA"}
    assert (a["source.ip"], a["source.port"], a["destination.ip"], a["destination.port"]) \
        == (CLIENT, 40001, resolver, 53)
    assert a["network.transport"] == "udp" and a["network.protocol"] == "dns"
    flow = next(e for e in events if e.dataset == "network.flow"
                and e.fields["source.port"] == 40001)
    assert a["network.community_id"] == flow.fields["network.community_id"]
    assert flow.fields["network.protocol"] == "dns"
    assert dns[2]["dns.resolved_ip"] == ["2001:db8::1"]
    assert dns[2]["dns.question.type"] == "AAAA"
    assert dns[3]["dns.answers"][0]["data"] == "v=spf1 -all"
    assert [(x["type"], x["data"]) for x in dns[4]["dns.answers"]] == [
        ("CNAME", "b.example.net"), ("CNAME", "c.cdn.example"), ("A", "198.51.100.7")]
    assert dns[4]["dns.resolved_ip"] == ["198.51.100.7"]
    assert dns[5]["dns.response_code"] == "NXDOMAIN" and "dns.answers" not in dns[5]
    assert dns[5]["event.outcome"] == "failure"
    lost = dns[6]
    assert lost["dns.type"] == "query" and "dns.response_code" not in lost
    assert lost["dns.question.name"] == "lost.example.org"
    assert errors(src) == {}


def _compressed() -> bytes:
    """A response with compression pointers in the answer names and data."""
    head = struct.pack("!HHHHHH", 77, 0x8180, 1, 2, 0, 0)
    q = b"\x03www\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
    # answer 1: name -> the question (offset 12), CNAME data "cdn" + pointer to example.com
    a1 = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, 6) + b"\x03cdn\xc0\x10"
    a1_data_at = 12 + len(q) + 12
    a2 = struct.pack("!H", 0xC000 | a1_data_at) + struct.pack("!HHIH", 1, 1, 60, 4) + \
        bytes([203, 0, 113, 9])
    return head + q + a1 + a2


def test_compression_pointers_and_loops() -> None:
    msg = parse(_compressed())
    assert msg.qname == "www.example.com" and msg.response
    assert [(a["name"], a["type"], a["data"]) for a in msg.answers] == [
        ("www.example.com", "CNAME", "cdn.example.com"), ("cdn.example.com", "A", "203.0.113.9")]
    loop = b"\0" * 12 + b"\xc0\x0c"  # a pointer to itself
    for bad in (loop, b"\0" * 12 + b"\x03ab", b"\0" * 12 + b"\x40x", b"\0" * 12 + b"\xc0"):
        with pytest.raises(Malformed):
            read_name(bad, 12)
    # two pointers pointing at each other (forward then back)
    ping_pong = struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0e\xc0\x0c" + b"\0\1\0\1"
    with pytest.raises(Malformed, match="loop"):
        parse(ping_pong)


def test_malformed_messages_are_counted(tmp_path: Path) -> None:
    looping = bytearray(_q(9, "x.example"))
    looping[12:14] = b"\xc0\x0c"
    pk = [udp(CLIENT, SERVER, 5000, 53, bytes(looping), T0),
          udp(CLIENT, SERVER, 5001, 53, b"\x01\x02\x03", T0 + 1),
          udp(CLIENT, SERVER, 5002, 53, _q(10, "ok.example"), T0 + 2),
          udp(SERVER, CLIENT, 53, 5002, _compressed()[:40], T0 + 2.1)]
    events, src = run(tmp_path, pk)
    dns = of(events, "dns")
    assert [e.fields["dns.question.name"] for e in dns] == ["ok.example"]
    assert dns[0].fields["dns.type"] == "query"
    assert errors(src) == {"dns_malformed": 3.0}


def _framed(*msgs: bytes) -> bytes:
    return b"".join(struct.pack("!H", len(m)) + m for m in msgs)


def test_dns_over_tcp_split_and_joined_segments(tmp_path: Path) -> None:
    q1, q2 = _q(21, "axfr.example.go.id", "TXT"), _q(22, "two.example.go.id")
    r1 = _r(21, "axfr.example.go.id", "TXT", [
        DNSRR(rrname="axfr.example.go.id", type="TXT", ttl=1, rdata=[b"x" * 200])])
    r2 = _r(22, "two.example.go.id", "A", [
        DNSRR(rrname="two.example.go.id", type="A", ttl=1, rdata="192.0.2.99")])
    stream = _framed(r1, r2)
    pk = tcp_session(45000, 53, [(True, _framed(q1, q2)),  # two queries in one segment
                                 (False, stream[:1]),  # split inside the length prefix
                                 (False, stream[1:100]),
                                 (False, stream[100:])])
    events, src = run(tmp_path, pk)
    dns = {e.fields["dns.id"]: e.fields for e in of(events, "dns")}
    assert sorted(dns) == [21, 22]
    assert dns[21]["dns.answers"][0]["data"] == "x" * 200
    assert dns[22]["dns.resolved_ip"] == ["192.0.2.99"]
    assert dns[22]["network.transport"] == "tcp" and dns[22]["dns.type"] == "answer"
    assert errors(src) == {}


def test_unanswered_query_times_out_on_a_busy_flow(tmp_path: Path) -> None:
    pk = [udp(CLIENT, SERVER, 5353, 5353, _q(1, "first.local"), T0),
          udp(CLIENT, SERVER, 5353, 5353, _q(2, "second.local"), T0 + 45),
          udp(SERVER, CLIENT, 5353, 5353, _r(2, "second.local", "A", []), T0 + 45.5)]
    events, _ = run(tmp_path, pk, idle_timeout={"udp": 120})
    dns = of(events, "dns")
    assert [(e.fields["dns.id"], e.fields["dns.type"]) for e in dns] == [
        (1, "query"), (2, "answer")]
    assert dns[0].timestamp == T0


def test_protocols_setting_turns_parsers_off(tmp_path: Path) -> None:
    pk = [udp(CLIENT, SERVER, 5000, 53, _q(1, "x.example"), T0)]
    events, _ = run(tmp_path, pk, protocols=[])
    assert [e.dataset for e in events] == ["network.flow"]
    assert "network.protocol" not in events[0].fields


def test_protocols_setting_is_validated() -> None:
    assert PcapConfig(type="pcap", path="x").protocols == ["dns", "tls", "ssh", "http"]
    with pytest.raises(ValidationError, match="protocols"):
        PcapConfig(type="pcap", path="x", protocols=["dns", "smtp"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="smtp"):
        make_observers(["smtp"])
    assert make_observers([]) == []


def test_retransmitted_query_is_one_transaction(tmp_path: Path) -> None:
    q = _q(31, "slow.example.go.id")
    pk = [udp(CLIENT, SERVER, 6000, 53, q, T0), udp(CLIENT, SERVER, 6000, 53, q, T0 + 2),
          udp(SERVER, CLIENT, 53, 6000, _r(31, "slow.example.go.id", "A", []), T0 + 2.5)]
    events, _ = run(tmp_path, pk)
    (dns,) = of(events, "dns")
    assert dns.fields["event.duration"] == 2_500_000_000 and dns.timestamp == T0
