"""TLS handshake messages: the ClientHello and ServerHello fields fingerprints need.

``handshake`` joins the handshake bytes of the TLS records at the start of a buffer (a
ClientHello may span records and TCP segments) and returns the first handshake message
once it is complete. Every read is bounded; defects raise ``BadHello``.
"""

from __future__ import annotations

CLIENT_HELLO, SERVER_HELLO = 1, 2
EXT_SNI, EXT_GROUPS, EXT_POINTS, EXT_SIGALGS, EXT_ALPN, EXT_VERSIONS = 0, 10, 11, 13, 16, 43
MAX_HELLO = 65_536


class BadHello(ValueError):
    pass


def is_grease(v: int) -> bool:
    """RFC 8701 GREASE values: 0x0a0a, 0x1a1a, ... 0xfafa."""
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


class Hello:
    """A parsed ClientHello or ServerHello (a plain class: compiled, a dataclass would
    run its generated ``__init__`` as Python code)."""

    __slots__ = ("alpn", "ciphers", "extensions", "groups", "kind", "point_formats",
                 "sig_algs", "sni", "version", "versions")

    def __init__(self, kind: int, version: int) -> None:
        self.kind = kind
        self.version = version  # legacy_version of the hello
        self.ciphers: list[int] = []  # ServerHello: the chosen one
        self.extensions: list[int] = []
        self.groups: list[int] = []
        self.point_formats: list[int] = []
        self.sig_algs: list[int] = []
        self.alpn: list[bytes] = []
        self.versions: list[int] = []  # supported_versions
        self.sni: str | None = None


def handshake(buf: bytes | bytearray | memoryview) -> tuple[int, bytes] | None:
    """``(type, body)`` of the first handshake message in the records of ``buf``, or
    None while incomplete. Raises ``BadHello`` when ``buf`` is not TLS handshake records."""
    hs = bytearray()
    p, n = 0, len(buf)
    while p + 5 <= n:
        if buf[p] != 0x16 or buf[p + 1] != 3:
            raise BadHello("not a handshake record")
        rlen = (buf[p + 3] << 8) | buf[p + 4]
        if rlen == 0 or rlen > 18_432:
            raise BadHello("bad record length")
        hs += buf[p + 5:p + 5 + rlen]
        p += 5 + rlen
        if len(hs) >= 4:
            mlen = (hs[1] << 16) | (hs[2] << 8) | hs[3]
            if mlen > MAX_HELLO:
                raise BadHello("handshake message too long")
            if len(hs) >= 4 + mlen:
                return hs[0], bytes(hs[4:4 + mlen])
    return None


def _u16s(data: bytes, p: int, end: int) -> list[int]:
    return [(data[i] << 8) | data[i + 1] for i in range(p, end - 1, 2)]


def parse_hello(kind: int, body: bytes) -> Hello:
    n = len(body)
    if n < 38:
        raise BadHello("short hello")
    hello = Hello(kind, (body[0] << 8) | body[1])
    p = 34
    sid = body[p]
    p += 1 + sid
    if kind == CLIENT_HELLO:
        if p + 2 > n:
            raise BadHello("truncated cipher list")
        clen = (body[p] << 8) | body[p + 1]
        p += 2
        if p + clen > n or clen & 1:
            raise BadHello("bad cipher list")
        hello.ciphers = _u16s(body, p, p + clen)
        p += clen
        if p + 1 > n:
            raise BadHello("truncated compression methods")
        p += 1 + body[p]
    else:
        if p + 3 > n:
            raise BadHello("truncated server hello")
        hello.ciphers = [(body[p] << 8) | body[p + 1]]
        p += 3
    if p + 2 > n:
        if p > n:
            raise BadHello("truncated hello")
        return hello  # no extensions (old clients)
    elen = (body[p] << 8) | body[p + 1]
    p += 2
    end = p + elen
    if end > n:
        raise BadHello("bad extensions length")
    while p + 4 <= end:
        et = (body[p] << 8) | body[p + 1]
        ln = (body[p + 2] << 8) | body[p + 3]
        p += 4
        if p + ln > end:
            raise BadHello("bad extension length")
        hello.extensions.append(et)
        _extension(hello, et, body[p:p + ln])
        p += ln
    return hello


def _extension(h: Hello, et: int, d: bytes) -> None:
    n = len(d)
    if et == EXT_SNI and n >= 5 and d[2] == 0:
        ln = (d[3] << 8) | d[4]
        h.sni = d[5:5 + ln].decode("ascii", "backslashreplace")
    elif et == EXT_GROUPS and n >= 2:
        h.groups = _u16s(d, 2, min(n, 2 + ((d[0] << 8) | d[1])))
    elif et == EXT_POINTS and n >= 1:
        h.point_formats = list(d[1:1 + d[0]])
    elif et == EXT_SIGALGS and n >= 2:
        h.sig_algs = _u16s(d, 2, min(n, 2 + ((d[0] << 8) | d[1])))
    elif et == EXT_ALPN and n >= 2:
        i, end = 2, min(n, 2 + ((d[0] << 8) | d[1]))
        while i < end:
            ln = d[i]
            h.alpn.append(d[i + 1:i + 1 + ln])
            i += 1 + ln
    elif et == EXT_VERSIONS:
        if h.kind == CLIENT_HELLO and n >= 1:
            h.versions = _u16s(d, 1, min(n, 1 + d[0]))
        elif n >= 2:
            h.versions = [(d[0] << 8) | d[1]]
