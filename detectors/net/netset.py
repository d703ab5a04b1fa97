"""Address lookups: exact addresses and CIDRs, IPv4 and IPv6, in O(prefix lengths).

Each family keeps one dict per prefix length, mapping the network's integer (the address
shifted right by the host bits) to a value. A lookup tries each prefix length present,
longest first, so a million CIDRs of a few lengths cost a few dict probes per address.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable
from typing import Generic, TypeVar

V = TypeVar("V")


@functools.lru_cache(maxsize=65_536)
def parse_ip(text: str) -> tuple[int, int] | None:
    """(bits, integer) of an IPv4 / IPv6 address in text, or None when it is not one.
    Cached: every flow event asks for its two addresses, and a network's addresses repeat."""
    try:
        if ":" in text:
            if "%" in text:
                text = text.split("%", 1)[0]
            return 128, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        return 32, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError, TypeError):
        return None


class NetMap(Generic[V]):
    """Networks (CIDRs; a plain address is a /32 or /128) to values."""

    def __init__(self) -> None:
        self._tables: dict[int, dict[int, dict[int, V]]] = {32: {}, 128: {}}
        self._lengths: dict[int, tuple[int, ...]] = {32: (), 128: ()}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, cidr: str, value: V, replace: bool = True) -> None:
        """Add ``cidr`` (host bits are ignored). Raises ValueError when it is not one.
        With ``replace=False`` a network already present keeps its value."""
        net = ipaddress.ip_network(cidr.strip(), strict=False)
        bits = net.max_prefixlen
        plen = net.prefixlen
        table = self._tables[bits].setdefault(plen, {})
        key = int(net.network_address) >> (bits - plen)
        if key not in table:
            self._count += 1
        elif not replace:
            return
        table[key] = value
        self._lengths[bits] = tuple(sorted(self._tables[bits], reverse=True))

    def lookup(self, text: str) -> V | None:
        """The value of the most specific network holding the address ``text``."""
        parsed = parse_ip(text)
        if parsed is None:
            return None
        bits, num = parsed
        tables = self._tables[bits]
        for plen in self._lengths[bits]:
            got = tables[plen].get(num >> (bits - plen))
            if got is not None:
                return got
        return None


class NetSet:
    """A set of networks: ``contains_text("10.1.2.3")``."""

    def __init__(self) -> None:
        self._map: NetMap[bool] = NetMap()

    def __len__(self) -> int:
        return len(self._map)

    @classmethod
    def parse(cls, cidrs: Iterable[str]) -> NetSet:
        out = cls()
        for cidr in cidrs:
            out._map.add(cidr, True)
        return out

    def contains_text(self, text: object) -> bool:
        if not len(self._map) or not isinstance(text, str):
            return False
        return self._map.lookup(text) is not None


def validate_cidrs(values: list[str]) -> list[str]:
    """A pydantic validator body: every entry must be an address or CIDR."""
    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or CIDR: {value!r}") from None
    return values
