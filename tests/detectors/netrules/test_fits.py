"""Compiled header predicates agree with the expression walker, and the engine's header
groups only skip payload scans no rule could use."""

from __future__ import annotations

import random

from detectors.netrules.engine import Engine
from detectors.netrules.fits import fits
from detectors.netrules.vars import (
    ANY,
    Expr,
    NetRange,
    Not,
    Parser,
    PortRange,
    make_group,
    matches,
    normalise_vars,
    to_ip,
)
from ronda.schema import Event
from tests.detectors.netrules.helpers import load


def random_expr(rng: random.Random, depth: int = 0) -> Expr:
    kind = rng.randrange(6 if depth < 3 else 3)
    if kind == 0:
        return ANY
    if kind in (1, 2):
        lo = rng.randrange(100)
        hi = lo if rng.random() < 0.4 else lo + rng.randrange(20)
        return NetRange(lo, hi) if kind == 1 else PortRange(lo, hi)
    if kind == 3:
        return Not(random_expr(rng, depth + 1))
    pos = [random_expr(rng, depth + 1) for _ in range(rng.randrange(4))]
    neg = [random_expr(rng, depth + 1) for _ in range(rng.randrange(3))]
    return make_group(pos, neg)


def test_fits_equals_matches_on_random_expressions() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        expr = random_expr(rng)
        pred = fits(expr)
        for value in [None, "10.0.0.1", *range(-2, 125)]:
            assert pred(value) == matches(expr, value), (expr, value)


def test_fits_on_real_variables() -> None:
    p = Parser(normalise_vars({"HOME_NET": "[10.0.0.0/8,192.168.0.0/16]",
                               "EXTERNAL_NET": "!$HOME_NET"}))
    for text in ("$HOME_NET", "$EXTERNAL_NET", "[!10.1.0.0/16,$HOME_NET]", "any",
                 "[1.2.3.4,5.6.7.0/24,!5.6.7.8]", "[::1,2001:db8::/32]"):
        expr = p.address(text)
        pred = fits(expr)
        for ip in ("10.1.2.3", "10.2.0.1", "192.168.1.1", "8.8.8.8", "5.6.7.8", "5.6.7.9",
                   "1.2.3.4", "::1", "2001:db8::5", "2001:db9::5"):
            assert pred(to_ip(ip)) == matches(expr, to_ip(ip)), (text, ip)
    for text in ("any", "80", "[80,8080:8090]", "!22", "[1:1024,!443]", "$HTTP_PORTS"):
        expr = p.port(text)
        pred = fits(expr)
        for port in (None, 22, 80, 443, 1000, 8085, 9000):
            assert pred(port) == matches(expr, port), (text, port)


def flow(client: str, server: str, dport: int, to_server: bytes) -> Event:
    return Event("network.flow", 1.0, {
        "source.ip": client, "source.port": 40000, "destination.ip": server,
        "destination.port": dport, "network.transport": "tcp",
        "ronda.flow.history": "ShADadf", "network.community_id": "1:x",
        "ronda.payload.to_server": to_server, "ronda.payload.to_client": b"HTTP/1.1 200"})


def test_payload_rules_fire_only_where_their_header_fits() -> None:
    text = ('alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"in"; flow:established,'
            'to_server; content:"jndi"; sid:1;)\n'
            'alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"out"; content:"jndi"; sid:2;)\n'
            'alert tcp any any <> any 6667 (msg:"irc"; content:"jndi"; sid:3;)\n')
    variables = {"HOME_NET": "[10.0.0.0/8]", "EXTERNAL_NET": "!$HOME_NET"}
    engine = Engine(load(text, variables).rules, 100, 100)

    def sids(event: Event) -> list[int]:
        return sorted(h.rule.sid for h in engine.match(event))

    assert sids(flow("203.0.113.5", "10.0.0.80", 80, b"GET /${jndi:ldap}")) == [1]
    assert sids(flow("203.0.113.5", "10.0.0.80", 8080, b"GET /${jndi:ldap}")) == []
    assert sids(flow("10.0.0.7", "198.51.100.1", 443, b"jndi")) == [2]
    assert sids(flow("10.0.0.7", "198.51.100.1", 6667, b"jndi")) == [2, 3]
    assert sids(flow("10.0.0.7", "198.51.100.1", 6667, b"nothing")) == []


def test_engine_address_cache_agrees_with_to_ip_and_is_bounded() -> None:
    from detectors.netrules import engine as eng

    for text in ("10.0.0.1", "2001:db8::1", "not an address", "fe80::1%eth0"):
        assert eng._ip(text) == to_ip(text) and eng._ip(text) == to_ip(text)
    assert eng._ip(None) is None and eng._ip(80) is None
    for i in range(eng.MAX_IPS + 5):
        eng._ip(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    assert len(eng._IPS) <= eng.MAX_IPS
