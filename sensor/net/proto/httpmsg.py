"""HTTP/1.x message heads (request line or status line, then header fields) from bytes."""

from __future__ import annotations

METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ",
           b"CONNECT ", b"TRACE ", b"PROPFIND ", b"PROPPATCH ", b"MKCOL ", b"COPY ",
           b"MOVE ", b"LOCK ", b"UNLOCK ", b"SEARCH ", b"REPORT ")
RESPONSE = b"HTTP/1."
WANTED = frozenset({"host", "user-agent", "referer", "content-length", "transfer-encoding",
                    "content-type", "x-forwarded-for", "location", "server"})


SECRET = frozenset({"authorization", "proxy-authorization", "cookie"})
"""Request headers whose values never leave the sensor (``Head.raw`` says [redacted])."""
MAX_RAW = 4096
WANTED_B = frozenset(k.encode() for k in WANTED)  # (compared before decoding the name)
SECRET_B = frozenset(k.encode() for k in SECRET)


class BadHead(ValueError):
    pass


class Head:
    """A parsed head: ``a, b, c`` are method, target, version of a request, or version,
    status and reason of a response; ``headers`` keeps the wanted fields, lower-cased;
    ``raw`` (requests) the header block for rules, secrets redacted, bounded. (A plain
    class: compiled, a NamedTuple's constructor would run as Python code.)"""

    __slots__ = ("a", "b", "c", "headers", "raw")

    def __init__(self, a: str, b: str, c: str, headers: dict[str, str],
                 raw: str = "") -> None:
        self.a, self.b, self.c = a, b, c
        self.headers = headers
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Head) and (self.a, self.b, self.c, self.headers, self.raw) \
            == (other.a, other.b, other.c, other.headers, other.raw)

    def __repr__(self) -> str:
        return f"Head{(self.a, self.b, self.c, self.headers, self.raw)!r}"

    def content_length(self) -> int | None:
        v = self.headers.get("content-length")
        if v is None or not v.isdigit() or len(v) > 15:
            return None
        return int(v)

    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def parse_head(head: bytes, request: bool) -> Head:
    """``head`` is everything before the blank line; raises ``BadHead``."""
    lines = head.split(b"\n")
    first = lines[0].rstrip(b"\r")
    parts = first.split(b" ", 2)
    if request:
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            raise BadHead("bad request line")
        a, b, c = _text(parts[0]), _text(parts[1]), _text(parts[2][5:])
    else:
        if len(parts) < 2 or not parts[0].startswith(RESPONSE) or not parts[1].isdigit() \
                or len(parts[1]) != 3:
            raise BadHead("bad status line")
        a, b = _text(parts[0][5:]), _text(parts[1])
        c = _text(parts[2]) if len(parts) > 2 else ""
    headers: dict[str, str] = {}
    secret = False
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        key = name.strip().lower()
        if key in WANTED_B:
            text = key.decode("latin-1")
            if text not in headers:
                headers[text] = _text(value.strip())
        elif key in SECRET_B:
            secret = True
    raw = ""
    if request:
        block = head[len(lines[0]) + 1:MAX_RAW + len(lines[0]) + 1]
        raw = _text(_redact(block) if secret else block)
    return Head(a, b, c, headers, raw)


def _redact(block: bytes) -> bytes:
    out = []
    for line in block.split(b"\n"):
        name, colon, _ = line.partition(b":")
        if colon and name.strip().lower().decode("latin-1") in SECRET:
            line = name + b": [redacted]" + (b"\r" if line.endswith(b"\r") else b"")
        out.append(line)
    return b"\n".join(out)
