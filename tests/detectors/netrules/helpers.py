"""Rules from text and hand-made protocol events for the netrules tests."""

from __future__ import annotations

from typing import Any

from detectors.netrules.parser import Loaded, load_text
from detectors.netrules.rule import Rule
from detectors.netrules.vars import Parser, normalise_vars
from ronda.schema import Event

T0 = 1_700_000_000.0
CLIENT, SERVER = "203.0.113.9", "10.0.0.80"


def load(text: str, variables: dict[str, Any] | None = None) -> Loaded:
    out = Loaded()
    load_text(text, "test.rules", Parser(normalise_vars(variables or {})), out)
    return out


def one(text: str, variables: dict[str, Any] | None = None) -> Rule:
    loaded = load(text, variables)
    assert not loaded.problems and not loaded.skipped, (loaded.problems, loaded.skipped)
    assert len(loaded.rules) == 1
    return loaded.rules[0]


def http(uri: str, *, ts: float = T0, src: str = CLIENT, dst: str = SERVER,
         method: str = "GET", host: str = "www.example.go.id", ua: str = "curl/8.0",
         cid: str = "1:abc", sport: int = 40000, dport: int = 80) -> Event:
    f = {"source.ip": src, "source.port": sport, "destination.ip": dst,
         "destination.port": dport, "network.transport": "tcp",
         "network.community_id": cid, "http.request.method": method, "url.original": uri,
         "url.domain": host, "user_agent.original": ua, "http.version": "1.1"}
    return Event("http", ts, f, f'{src} "{method} {uri}"', "lan")


def dns(name: str, *, ts: float = T0, src: str = "10.0.0.5", dst: str = "8.8.8.8") -> Event:
    f = {"source.ip": src, "source.port": 5353, "destination.ip": dst,
         "destination.port": 53, "network.transport": "udp", "dns.question.name": name}
    return Event("dns", ts, f, f"{src} -> {dst} A {name}", "lan")


def tls(sni: str, *, ts: float = T0, src: str = "10.0.0.5", dst: str = "198.51.100.1") -> Event:
    f = {"source.ip": src, "source.port": 50000, "destination.ip": dst,
         "destination.port": 443, "network.transport": "tcp", "tls.client.server_name": sni}
    return Event("tls", ts, f, f"{src} -> {dst} {sni}", "lan")


def flow(to_server: bytes, to_client: bytes = b"", *, ts: float = T0, src: str = CLIENT,
         dst: str = SERVER, dport: int = 80) -> Event:
    f: dict[str, Any] = {"source.ip": src, "source.port": 40000, "destination.ip": dst,
                         "destination.port": dport, "network.transport": "tcp",
                         "ronda.flow.history": "ShADadFf", "destination.packets": 3,
                         "ronda.payload.to_server": to_server,
                         "ronda.payload.to_client": to_client}
    return Event("network.flow", ts, f, "tcp flow", "lan")
