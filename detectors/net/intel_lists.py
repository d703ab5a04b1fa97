"""Threat-intel indicator files: one indicator per line.

A line holds an IPv4 or IPv6 address, a CIDR, or a domain (``evil.example`` also matches
``a.evil.example``; a leading ``*.`` is accepted and means the same). ``#`` starts a
comment; blank lines are skipped. A line that is none of these is reported as
``FILE:LINE: ...`` and skipped; it never stops the other lines from loading.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from detectors.net.domains import normalize
from detectors.net.netset import NetMap

DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+"
    r"(?:xn--[a-z0-9-]{1,59}|[a-z][a-z0-9-]{0,61}[a-z0-9]|[a-z])$")


@dataclass(frozen=True, slots=True)
class Indicator:
    """A loaded indicator: the list it came from (an index) and its text."""

    list_index: int
    text: str
    kind: str  # "ip" or "domain"


@dataclass
class IntelIndex:
    """All indicators of all lists, ready for lookups."""

    ips: NetMap[Indicator] = field(default_factory=NetMap)
    domains: dict[str, Indicator] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    per_list: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ips) + len(self.domains)

    def match_ip(self, text: str) -> Indicator | None:
        return self.ips.lookup(text)

    def match_domain(self, name: str) -> Indicator | None:
        """``name`` (normalised) or its nearest listed parent domain."""
        domains = self.domains
        if not domains:
            return None
        while True:
            got = domains.get(name)
            if got is not None:
                return got
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1:]

    def load(self, index: int, path: Path, text: str) -> None:
        """Add the indicators of one file (``text``); bad lines go to ``problems``."""
        count = 0
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            problem = self._add(index, line)
            if problem:
                self.problems.append(f"{path}:{lineno}: {problem}")
            else:
                count += 1
        self.per_list.append(count)

    def _add(self, index: int, line: str) -> str:
        if " " in line or "\t" in line:
            return f"one indicator per line, got {line[:80]!r}"
        if "/" in line or ":" in line or line.replace(".", "").isdigit():
            try:
                net = ipaddress.ip_network(line, strict=False)
            except ValueError:
                return f"not an IP address, CIDR or domain: {line[:80]!r}"
            if net.prefixlen == 0:
                return f"refusing a CIDR that matches every address: {line!r}"
            text = line if "/" in line else net.network_address.compressed
            self.ips.add(net.compressed, Indicator(index, text, "ip"), replace=False)
            return ""
        name = normalize(line)
        if name.startswith("*."):
            name = name[2:]
        if not DOMAIN.match(name):
            return f"not an IP address, CIDR or domain: {line[:80]!r}"
        self.domains.setdefault(name, Indicator(index, name, "domain"))
        return ""
