"""Events from tshark's dissection (the ``pyshark`` backend's ``dissect`` list): for the
protocols Ronda does not parse itself (SMB2, SIP, RDP, Modbus, ...), one event per packet
that carries one of the listed layers, with tshark's own field names.

The dataset is ``tshark.<layer>``; tshark's fields go under ``tshark.`` (``tshark.sip.Method``,
``tshark.smb2.cmd``), beside the packet's addresses and ports in ECS. tshark's JSON nests
fields in labelled subtrees; only the named fields are kept (a field that repeats becomes a
list), at most ``MAX_FIELDS`` fields of at most ``MAX_VALUE`` characters each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ronda.schema import Event

MAX_FIELDS = 200
MAX_VALUE = 1024
TRANSPORTS = ("tcp", "udp", "sctp")


def layer_fields(tree: Mapping[str, Any], out: dict[str, Any] | None = None) -> dict[str, Any]:
    """The named fields of one layer of tshark's JSON (``layer._all_fields``): subtree
    labels ("Queries", "example.org: type A, class IN") are stepped through, not kept."""
    found: dict[str, Any] = {} if out is None else out
    for key, value in tree.items():
        if len(found) >= MAX_FIELDS:
            break
        if isinstance(value, Mapping):
            layer_fields(value, found)
            continue
        if "." not in key or key.endswith(("_tree", "_raw")):
            continue  # a label, or tshark's raw bytes (``-x``) of a field or subtree
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, Mapping):
                layer_fields(v, found)
                continue
            text = str(v)[:MAX_VALUE]
            old = found.get(key)
            if old is None:
                found[key] = text
            elif isinstance(old, list):
                if len(old) < MAX_FIELDS:
                    old.append(text)
            else:
                found[key] = [old, text]
    return found


def endpoints(layers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``source.*``, ``destination.*`` and ``network.transport`` of a dissected packet."""
    f: dict[str, Any] = {}
    for ip in ("ip", "ipv6"):
        fields = layers.get(ip)
        if fields is not None:
            f["source.ip"] = fields.get(f"{ip}.src")
            f["destination.ip"] = fields.get(f"{ip}.dst")
            f["network.type"] = "ipv4" if ip == "ip" else "ipv6"
            break
    for t in TRANSPORTS:
        fields = layers.get(t)
        if fields is not None:
            f["network.transport"] = t
            for side, name in (("source", "srcport"), ("destination", "dstport")):
                port = fields.get(f"{t}.{name}")
                if isinstance(port, str) and port.isdigit():
                    f[f"{side}.port"] = int(port)
            break
    return {k: v for k, v in f.items() if v is not None}


def dissected_events(ts: float, layers: Iterable[tuple[str, Mapping[str, Any]]],
                     wanted: frozenset[str], source: str = "") -> list[Event]:
    """One event per wanted layer of a packet (``layers``: tshark's layer names and their
    JSON fields, in order)."""
    layers = list(layers)
    hits = [(name, fields) for name, fields in layers if name in wanted]
    if not hits:
        return []
    base = endpoints(dict(layers))  # (the innermost IP and transport of a tunnel)
    out: list[Event] = []
    for name, tree in hits:  # each layer, a repeated one too (compound SMB2 commands)
        f: dict[str, Any] = {"event.kind": "event", "event.category": ["network"],
                             "event.type": ["protocol"], "event.action": f"{name}_packet",
                             "network.protocol": name, **base}
        fields = layer_fields(tree)
        for key, value in fields.items():
            f[f"tshark.{key}"] = value
        where = (f"{base.get('source.ip', '?')} -> {base.get('destination.ip', '?')}"
                 if base else "")
        out.append(Event(f"tshark.{name}", ts, f, f"{name} {where}".strip(), source))
    return out
