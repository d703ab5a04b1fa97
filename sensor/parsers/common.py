"""Small helpers shared by the parsers (addresses, URLs, durations)."""

from __future__ import annotations

import re
from typing import Any

_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}$")
_IPV6 = re.compile(r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*(?:%[\w.-]+)?$")
_ESC = re.compile(r"\\(.)")


def is_ip(s: str) -> bool:
    """Cheap syntactic check (no ipaddress object): dotted quad or something with colons."""
    return (_IPV4.match(s) if ":" not in s else _IPV6.match(s)) is not None


def set_address(fields: dict[str, Any], prefix: str, addr: str) -> None:
    """``source.address`` always; ``source.ip`` when ``addr`` is an IP, else ``.domain``."""
    fields[prefix + ".address"] = addr
    if is_ip(addr):
        fields[prefix + ".ip"] = addr
    elif addr and addr != "-" and addr != "unknown":
        fields[prefix + ".domain"] = addr


def split_host_port(s: str) -> tuple[str, int | None]:
    """``1.2.3.4:80``, ``[::1]:80``, ``host:80`` → (host, port); a bare IPv6 has no port."""
    if s.startswith("["):
        end = s.find("]")
        if end > 0:
            host, rest = s[1:end], s[end + 1 :]
            if rest.startswith(":") and rest[1:].isdigit() and len(rest) <= 6:
                return host, int(rest[1:])
            return host, None
        return s, None
    if s.count(":") == 1:
        host, _, port = s.partition(":")
        if port.isdigit() and port.isascii() and len(port) <= 5:
            return host, int(port)
    return s, None


def unescape(s: str) -> str:
    """Undo the ``\\"`` and ``\\\\`` escapes that web servers write inside quoted fields."""
    if "\\" not in s:
        return s
    return _ESC.sub(lambda m: m.group(1) if m.group(1) in "\"\\" else m.group(0), s)


def set_url(fields: dict[str, Any], url: str) -> None:
    fields["url.original"] = url
    q = url.find("?")
    if q < 0:
        fields["url.path"] = url
    else:
        fields["url.path"] = url[:q]
        if q + 1 < len(url):
            fields["url.query"] = url[q + 1 :]


def seconds_to_ns(text: str) -> int | None:
    """Nanoseconds from ``0.123`` seconds; ``None`` for anything else."""
    try:
        v = float(text)
    except ValueError:
        return None
    if not 0 <= v < 1e9:  # also rejects nan
        return None
    return round(v * 1e9)


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e18 else None
    if isinstance(value, str) and value.isdigit() and value.isascii() and len(value) < 19:
        return int(value)
    return None
