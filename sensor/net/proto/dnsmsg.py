"""DNS messages (RFC 1035) from bytes: header, first question, answer records.

Every read is bounded by the message; compressed names follow at most ``MAX_JUMPS``
pointers, each strictly backwards, so a pointer loop ends in ``Malformed``.
"""

from __future__ import annotations

import socket
from typing import Any

MAX_JUMPS = 32
MAX_NAME = 255
MAX_ANSWERS = 64
TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
         17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV",
         35: "NAPTR", 36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT", 42: "APL", 43: "DS",
         44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID",
         50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS",
         60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS",
         99: "SPF", 108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG", 251: "IXFR",
         252: "AXFR", 255: "ANY", 256: "URI", 257: "CAA"}
CLASSES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
          6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE"}
FLAGS = ((0x0400, "AA"), (0x0200, "TC"), (0x0100, "RD"), (0x0080, "RA"), (0x0020, "AD"),
         (0x0010, "CD"))
NAME_TYPES = frozenset({2, 5, 12, 39})  # NS, CNAME, PTR, DNAME: the data is a name


class Malformed(ValueError):
    pass


class Message:
    """A parsed DNS message (a plain class: compiled, a NamedTuple's constructor would
    run as Python code)."""

    __slots__ = ("answers", "flags", "id", "opcode", "qclass", "qname", "qtype", "rcode",
                 "response")

    def __init__(self, id: int, response: bool, opcode: int, rcode: int, flags: list[str],
                 qname: str | None, qtype: int, qclass: int,
                 answers: list[dict[str, Any]]) -> None:
        self.id = id
        self.response = response
        self.opcode = opcode
        self.rcode = rcode
        self.flags = flags
        self.qname = qname
        self.qtype = qtype
        self.qclass = qclass
        self.answers = answers

    def astuple(self) -> tuple[Any, ...]:
        return (self.id, self.response, self.opcode, self.rcode, self.flags, self.qname,
                self.qtype, self.qclass, self.answers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and self.astuple() == other.astuple()

    def __repr__(self) -> str:
        return f"Message{self.astuple()!r}"


def type_name(t: int) -> str:
    return TYPES.get(t) or f"TYPE{t}"


def class_name(c: int) -> str:
    return CLASSES.get(c) or f"CLASS{c}"


def rcode_name(r: int) -> str:
    return RCODES.get(r) or f"RCODE{r}"


_PLAIN = bytes(b for b in range(33, 127) if b not in (46, 92))  # kept as is in a label


def _label_text(raw: bytes) -> str:
    """A label as text: printable ASCII as is, the rest (and dots) escaped as ``\\DDD``."""
    if not raw.translate(None, _PLAIN):  # nothing left once the plain bytes are deleted
        return raw.decode("ascii")
    return "".join(chr(b) if 32 < b < 127 and b != 46 and b != 92 else f"\\{b:03d}"
                   for b in raw)


def read_name(msg: bytes, p: int) -> tuple[str, int]:
    """The name at ``msg[p:]`` and the offset after it (after the first pointer)."""
    labels: list[str] = []
    end = -1
    jumps = 0
    size = 0
    n = len(msg)
    while True:
        if p >= n:
            raise Malformed("name runs past the message")
        ln = msg[p]
        if ln == 0:
            if end < 0:
                end = p + 1
            break
        if ln & 0xC0 == 0xC0:
            if p + 1 >= n:
                raise Malformed("truncated pointer")
            target = ((ln & 0x3F) << 8) | msg[p + 1]
            if end < 0:
                end = p + 2
            jumps += 1
            if jumps > MAX_JUMPS or target >= p:
                raise Malformed("compression pointer loop")
            p = target
            continue
        if ln & 0xC0:
            raise Malformed("reserved label type")
        size += ln + 1
        if size > MAX_NAME or p + 1 + ln > n:
            raise Malformed("name too long")
        labels.append(_label_text(msg[p + 1:p + 1 + ln]))
        p += 1 + ln
    return ".".join(labels), end


def _rdata(msg: bytes, rtype: int, p: int, rdlen: int) -> str:
    data = msg[p:p + rdlen]
    if rtype == 1 and rdlen == 4:
        return socket.inet_ntop(socket.AF_INET, data)
    if rtype == 28 and rdlen == 16:
        return socket.inet_ntop(socket.AF_INET6, data)
    if rtype in NAME_TYPES:
        return read_name(msg, p)[0]
    if rtype == 15 and rdlen >= 3:
        return f"{(data[0] << 8) | data[1]} {read_name(msg, p + 2)[0]}"
    if rtype == 6:
        mname, q = read_name(msg, p)
        rname, _ = read_name(msg, q)
        return f"{mname} {rname}"
    if rtype == 33 and rdlen >= 7:
        prio, weight, port = (data[0] << 8) | data[1], (data[2] << 8) | data[3], \
            (data[4] << 8) | data[5]
        return f"{prio} {weight} {port} {read_name(msg, p + 6)[0]}"
    if rtype == 16:
        parts: list[str] = []
        i = 0
        while i < rdlen:
            ln = data[i]
            parts.append(data[i + 1:i + 1 + ln].decode("utf-8", "backslashreplace"))
            i += 1 + ln
        return "".join(parts)[:4096]
    return data[:256].hex()


def parse(msg: bytes) -> Message:
    """One DNS message; raises ``Malformed``."""
    n = len(msg)
    if n < 12:
        raise Malformed("short header")
    ident = (msg[0] << 8) | msg[1]
    flags = (msg[2] << 8) | msg[3]
    qd = (msg[4] << 8) | msg[5]
    an = (msg[6] << 8) | msg[7]
    if qd > 16:
        raise Malformed("too many questions")
    p = 12
    qname: str | None = None
    qtype = qclass = 0
    for i in range(qd):
        name, p = read_name(msg, p)
        if p + 4 > n:
            raise Malformed("truncated question")
        if i == 0:
            qname = name
            qtype = (msg[p] << 8) | msg[p + 1]
            qclass = (msg[p + 2] << 8) | msg[p + 3]
        p += 4
    answers: list[dict[str, Any]] = []
    for _ in range(min(an, MAX_ANSWERS)):
        name, p = read_name(msg, p)
        if p + 10 > n:
            raise Malformed("truncated record")
        rtype = (msg[p] << 8) | msg[p + 1]
        rclass = (msg[p + 2] << 8) | msg[p + 3]
        ttl = int.from_bytes(msg[p + 4:p + 8], "big")
        rdlen = (msg[p + 8] << 8) | msg[p + 9]
        p += 10
        if p + rdlen > n:
            raise Malformed("truncated record data")
        answers.append({"name": name, "type": type_name(rtype), "class": class_name(rclass),
                        "ttl": ttl, "data": _rdata(msg, rtype, p, rdlen)})
        p += rdlen
    return Message(ident, bool(flags & 0x8000), (flags >> 11) & 15, flags & 15,
                   [name for bit, name in FLAGS if flags & bit], qname, qtype, qclass,
                   answers)
