"""The Event record (one observation) and the ECS helpers it serialises with.

Its own module so that the packet hot path, compiled with mypyc (setup.py), compiles it
too: a compiled class is built by a C call, where a plain dataclass runs its generated
``__init__`` as Python code, once per flow and protocol event. ``ronda.schema`` re-exports
all three."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any


class Event:
    """One observation. Cheap to create: no validation in the hot path.

    ``fields`` is a flat mapping of ECS field names (``source.ip``, ``url.original``...)
    to values. ``message`` is the raw line or excerpt; ``source`` is the name of the
    source component that produced it.

    (A plain class, not a dataclass: compiled, a dataclass would still run the
    ``__init__`` the dataclasses module writes, as Python code, for every event.)
    """

    __slots__ = ("dataset", "fields", "message", "source", "timestamp")

    def __init__(self, dataset: str, timestamp: float, fields: dict[str, Any] | None = None,
                 message: str = "", source: str = "") -> None:
        self.dataset = dataset
        self.timestamp = timestamp
        self.fields: dict[str, Any] = {} if fields is None else fields
        self.message = message
        self.source = source

    def __repr__(self) -> str:
        return (f"Event(dataset={self.dataset!r}, timestamp={self.timestamp!r}, "
                f"fields={self.fields!r}, message={self.message!r}, source={self.source!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.dataset == other.dataset and self.timestamp == other.timestamp
                and self.fields == other.fields and self.message == other.message
                and self.source == other.source)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def to_ecs(self, observer: str = "") -> dict[str, Any]:
        flat: dict[str, Any] = {k: (base64.b64encode(v).decode("ascii")
                                    if isinstance(v, bytes | bytearray) else v)
                                for k, v in self.fields.items()}  # payload samples
        flat["@timestamp"] = iso_time(self.timestamp)
        flat["event.dataset"] = self.dataset
        flat.setdefault("event.kind", "event")
        if self.message:
            flat["message"] = self.message
        if observer:
            flat["observer.name"] = observer
        if self.source:
            flat["ronda.source"] = self.source
        return unflatten(flat)


def iso_time(ts: float) -> str:
    """RFC 3339 UTC with milliseconds, as Elasticsearch's date type expects."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
            f"{dt.second:02d}.{dt.microsecond // 1000:03d}Z")


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """Turn ``{"source.ip": x}`` into ``{"source": {"ip": x}}``.

    ``@timestamp`` stays a top-level key. A leaf that collides with an object
    (``a`` and ``a.b``) keeps the object and stores the leaf under ``a.value``, whatever
    the order of the keys.
    """
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        last = key
        if "." in key and key[0] != "@":
            *path, last = key.split(".")
            for part in path:
                nxt = node.get(part)
                if type(nxt) is not dict:
                    nxt = {} if nxt is None else {"value": nxt}
                    node[part] = nxt
                node = nxt
        current = node.get(last)
        if type(current) is dict:
            current["value"] = value
        else:
            node[last] = value
    return out
