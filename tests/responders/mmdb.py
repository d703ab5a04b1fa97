"""A tiny MaxMind DB writer for tests (the format: maxmind.github.io/MaxMind-DB).

IPv6 tree, 32-bit records; IPv4 networks live under ``::/96`` as the readers expect.
Enough to build a GeoIP2-City or -Country test database of a few networks.
"""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _ctrl(type_: int, size: int) -> bytes:
    if size < 29:
        head, extra = size, b""
    elif size < 285:
        head, extra = 29, bytes([size - 29])
    elif size < 65821:
        head, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        head, extra = 31, (size - 65821).to_bytes(3, "big")
    if type_ <= 7:
        return bytes([(type_ << 5) | head]) + extra
    return bytes([head, type_ - 7]) + extra


def _uint(type_: int, value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return _ctrl(type_, len(raw)) + raw


def encode(value: Any) -> bytes:
    if isinstance(value, bool):
        return _ctrl(14, int(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _ctrl(2, len(raw)) + raw
    if isinstance(value, float):
        return _ctrl(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        return _uint(6 if value < 2**32 else 9, value)
    if isinstance(value, dict):
        return _ctrl(7, len(value)) + b"".join(encode(str(k)) + encode(v)
                                                for k, v in value.items())
    if isinstance(value, list | tuple):
        return _ctrl(11, len(value)) + b"".join(encode(v) for v in value)
    raise TypeError(f"cannot encode {value!r}")


def write_mmdb(path: Path, networks: dict[str, dict[str, Any]],
               database_type: str = "GeoIP2-City") -> Path:
    """Write ``{cidr: record}`` to ``path``."""
    data = bytearray()
    nodes: list[list[Any]] = [[None, None]]
    for cidr, record in networks.items():
        net = ipaddress.ip_network(cidr)
        bits = net.prefixlen + (96 if net.version == 4 else 0)
        value = int(net.network_address)  # IPv4: ::a.b.c.d, the top 96 bits are zero
        offset = len(data)
        data += encode(record)
        node = 0
        for i in range(bits):
            bit = (value >> (127 - i)) & 1
            if i == bits - 1:
                nodes[node][bit] = ("data", offset)
                break
            child = nodes[node][bit]
            if child is None or child[0] == "data":
                nodes.append([child, child])
                nodes[node][bit] = ("node", len(nodes) - 1)
                child = nodes[node][bit]
            node = child[1]
    count = len(nodes)
    tree = bytearray()
    for pair in nodes:
        for rec in pair:
            if rec is None:
                num = count
            elif rec[0] == "node":
                num = rec[1]
            else:
                num = count + 16 + rec[1]
            tree += num.to_bytes(4, "big")
    meta: dict[str, Any] = {"node_count": count, "record_size": 32, "ip_version": 6,
            "database_type": database_type, "languages": ["en"],
            "binary_format_major_version": 2, "binary_format_minor_version": 0,
            "build_epoch": 1_700_000_000, "description": {"en": "Ronda test database"}}
    meta_bytes = (_ctrl(7, len(meta)) + b"".join(
        encode(k) + (_uint(5, v) if k in ("record_size", "ip_version",
                                           "binary_format_major_version",
                                           "binary_format_minor_version")
                     else _uint(9, v) if k == "build_epoch" else encode(v))
        for k, v in meta.items()))
    path.write_bytes(bytes(tree) + b"\x00" * 16 + bytes(data) + METADATA_MARKER + meta_bytes)
    return path


def city(country: str, country_name: str, city_name: str, lat: float, lon: float,
         region: tuple[str, str] | None = None, continent: str = "Asia") -> dict[str, Any]:
    rec: dict[str, Any] = {
        "continent": {"code": continent[:2].upper(), "names": {"en": continent}},
        "country": {"iso_code": country, "names": {"en": country_name}},
        "city": {"names": {"en": city_name}},
        "location": {"latitude": lat, "longitude": lon},
    }
    if region is not None:
        rec["subdivisions"] = [{"iso_code": region[0], "names": {"en": region[1]}}]
    return rec
