"""Rule variables and the address/port expressions of rule headers.

An expression is a tree: ``any``, an address network or port range, a negation, a list.
A list matches when one of its positive items matches (or it has none) and none of its
negated items does, as Suricata reads ``[10.0.0.0/8,!10.1.0.0/16]``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from detectors.net.netset import parse_ip

V6_TAG = 1 << 130
"""Set on IPv6 addresses so that no IPv6 range overlaps an IPv4 one."""

DEFAULT_VARS: dict[str, str] = {
    "HOME_NET": "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]",
    "EXTERNAL_NET": "!$HOME_NET",
    "HTTP_SERVERS": "$HOME_NET", "SMTP_SERVERS": "$HOME_NET", "SQL_SERVERS": "$HOME_NET",
    "DNS_SERVERS": "$HOME_NET", "TELNET_SERVERS": "$HOME_NET", "AIM_SERVERS": "$EXTERNAL_NET",
    "DC_SERVERS": "$HOME_NET", "DNP3_SERVER": "$HOME_NET", "DNP3_CLIENT": "$HOME_NET",
    "MODBUS_CLIENT": "$HOME_NET", "MODBUS_SERVER": "$HOME_NET", "ENIP_CLIENT": "$HOME_NET",
    "ENIP_SERVER": "$HOME_NET",
    "HTTP_PORTS": "80", "SHELLCODE_PORTS": "!80", "ORACLE_PORTS": "1521", "SSH_PORTS": "22",
    "DNP3_PORTS": "20000", "MODBUS_PORTS": "502", "FILE_DATA_PORTS": "[$HTTP_PORTS,110,143]",
    "FTP_PORTS": "21", "GENEVE_PORTS": "6081", "VXLAN_PORTS": "4789", "TEREDO_PORTS": "3544",
}

MAX_DEPTH = 16


class VarError(ValueError):
    """A header expression that cannot be read (the rule is skipped)."""


@dataclass(frozen=True, slots=True)
class Not:
    inner: Expr


@dataclass(frozen=True, slots=True)
class Group:
    pos: tuple[Expr, ...]
    neg: tuple[Expr, ...]
    # single addresses of pos / neg, looked up in a set (reputation lists are long)
    pos_hosts: frozenset[object] = frozenset()
    neg_hosts: frozenset[object] = frozenset()


def make_group(pos: Sequence[Expr], neg: Sequence[Expr]) -> Group:
    def split(items: Sequence[Expr]) -> tuple[tuple[Expr, ...], frozenset[object]]:
        hosts = frozenset(i.lo for i in items if isinstance(i, NetRange) and i.lo == i.hi)
        rest = tuple(i for i in items if not (isinstance(i, NetRange) and i.lo == i.hi))
        return rest, hosts
    p, ph = split(pos)
    n, nh = split(neg)
    return Group(p, n, ph, nh)


@dataclass(frozen=True, slots=True)
class NetRange:
    """An address network as an integer range (addresses are ints, see :func:`to_ip`)."""

    lo: int
    hi: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class PortRange:
    lo: int
    hi: int


class AnyValue:
    __slots__ = ()


ANY = AnyValue()
Expr = AnyValue | NetRange | PortRange | Not | Group


def normalise_vars(values: Mapping[str, object]) -> dict[str, str]:
    """Config ``vars:``: a string, or a list turned into ``[a,b]``; ``$`` optional."""
    out = dict(DEFAULT_VARS)
    for key, value in values.items():
        name = key.lstrip("$")
        if isinstance(value, list | tuple):
            out[name] = "[" + ",".join(str(v) for v in value) + "]"
        else:
            out[name] = str(value)
    return out


def _split_list(text: str) -> list[str]:
    items: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise VarError("unbalanced ]")
        if ch == "," and depth == 0:
            items.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise VarError("unbalanced [")
    items.append("".join(cur).strip())
    if any(not i for i in items):
        raise VarError("empty list item")
    return items


class Parser:
    """Parses address or port expressions with the rule variables."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self.vars = variables
        # expressions are immutable: one per distinct header text ($HOME_NET, $HTTP_PORTS
        # ... recur in nearly every rule of a ruleset)
        self._cache: dict[tuple[bool, str], Expr] = {}

    def address(self, text: str) -> Expr:
        return self._cached(True, text.strip())

    def port(self, text: str) -> Expr:
        return self._cached(False, text.strip())

    def _cached(self, is_address: bool, text: str) -> Expr:
        key = (is_address, text)
        found = self._cache.get(key)
        if found is None:
            found = self._parse(text, self._net if is_address else self._range, 0)
            self._cache[key] = found
        return found

    def _parse(self, text: str, leaf: object, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise VarError("variables nested too deep")
        if not text:
            raise VarError("empty address or port")
        if text == "any":
            return ANY
        if text.startswith("!"):
            inner = self._parse(text[1:].strip(), leaf, depth + 1)
            if isinstance(inner, AnyValue):
                raise VarError("!any matches nothing")
            return Not(inner)
        if text.startswith("$"):
            name = text[1:]
            if name not in self.vars:
                raise VarError(f"undefined variable ${name}")
            return self._parse(self.vars[name].strip(), leaf, depth + 1)
        if text.startswith("["):
            if not text.endswith("]"):
                raise VarError(f"bad list {text!r}")
            items = [self._parse(i, leaf, depth + 1) for i in _split_list(text[1:-1])]
            pos = [i for i in items if not isinstance(i, Not)]
            neg = [i.inner for i in items if isinstance(i, Not)]
            if any(isinstance(i, AnyValue) for i in pos):
                if not neg:
                    return ANY
                pos = []  # [any,!x]: everything but x
            return make_group(pos, neg)
        assert callable(leaf)
        result: Expr = leaf(text)
        return result

    @staticmethod
    def _net(text: str) -> Expr:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise VarError(f"bad address {text!r}") from None
        tag = V6_TAG if net.version == 6 else 0
        return NetRange(int(net.network_address) | tag, int(net.broadcast_address) | tag, text)

    @staticmethod
    def _range(text: str) -> Expr:
        lo_s, colon, hi_s = text.partition(":")
        try:
            if not colon:
                lo = hi = int(text)
            else:
                lo = int(lo_s) if lo_s.strip() else 0
                hi = int(hi_s) if hi_s.strip() else 65535
        except ValueError:
            raise VarError(f"bad port {text!r}") from None
        if not 0 <= lo <= hi <= 65535:
            raise VarError(f"bad port range {text!r}")
        return PortRange(lo, hi)


def matches(expr: Expr, value: object) -> bool:
    """Whether ``value`` (an address from :func:`to_ip` or a port; None: unknown) is in
    ``expr``."""
    if isinstance(expr, AnyValue):
        return True
    if value is None:
        return False
    if isinstance(expr, Group):
        if value in expr.neg_hosts or any(matches(n, value) for n in expr.neg):
            return False
        if not expr.pos and not expr.pos_hosts:
            return True
        return value in expr.pos_hosts or any(matches(p, value) for p in expr.pos)
    if isinstance(expr, Not):
        return not matches(expr.inner, value)
    if isinstance(value, int):  # a port, or an address from to_ip
        return expr.lo <= value <= expr.hi
    return False


def to_ip(value: object) -> int | None:
    """An address as the int :class:`NetRange` compares (IPv6 tagged above IPv4's
    range), or None. (``parse_ip`` is the network detectors' cached parser.)"""
    if not isinstance(value, str):
        return None
    parsed = parse_ip(value)
    if parsed is None:
        return None
    bits, addr = parsed
    return addr | V6_TAG if bits == 128 else addr
