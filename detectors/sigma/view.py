"""One event as the matchers see it: field values as text, lowercased once per event.

A field's value may be a string, a number, a boolean or a list of them (``event.category``
is a list): :meth:`View.text` gives a string, a tuple of strings (a list, matched if any
element matches) or ``None`` (absent). ``message`` and ``event.dataset`` are looked up on the
event itself when the fields do not hold them; a ``None`` field name means the raw message
(keyword detections).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable
from typing import Any

from ronda.schema import Event

Text = str | tuple[str, ...] | None

_MISSING = object()

PSEUDO_FIELDS = frozenset({"message", "event.dataset"})
"""Names looked up on the event itself when its fields do not hold them."""


def as_text(value: Any) -> Text:
    """A field value as matchable text (booleans as ``true``/``false``)."""
    if value is None:
        return None
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        out: list[str] = []
        for item in value:
            text = as_text(item)
            if isinstance(text, str):
                out.append(text)
            elif text is not None:
                out.extend(text)
        return tuple(out)
    return str(value)


def value_key(value: Any) -> Hashable | None:
    """A dictionary key for a field value that no value of another type shares (``1``,
    ``1.0`` and ``True`` are equal in Python), or None when it is not hashable."""
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is int or kind is float or kind is bool or value is None:
        return (kind, value)
    if isinstance(value, list | tuple):
        parts = tuple(value_key(v) for v in value)
        return None if None in parts else (list, parts)
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value), value)


class View:
    """Created per event; the lowercased values are computed when first asked for."""

    __slots__ = ("_low", "_message_low", "event", "fields", "message")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.fields = event.fields
        self.message = event.message
        self._low: dict[str, Text] | None = None
        self._message_low: str | None = None

    def raw(self, name: str) -> Any:
        value = self.fields.get(name, _MISSING)
        if value is _MISSING:
            if name == "message":
                return self.message or None
            if name == "event.dataset":
                return self.event.dataset
            return None
        return value

    def text(self, name: str | None) -> Text:
        if name is None:
            return self.message
        value = self.fields.get(name)
        return value if type(value) is str else as_text(self.raw(name))

    def low(self, name: str | None) -> Text:
        if name is None:
            got_message = self._message_low
            if got_message is None:
                got_message = self._message_low = self.message.lower()
            return got_message
        cache = self._low
        if cache is None:
            cache = self._low = {}
        got = cache.get(name, _MISSING)
        if got is _MISSING:
            text = self.text(name)
            if text is None:
                got = None
            elif type(text) is str:
                got = text.lower()
            else:
                got = tuple(t.lower() for t in text)
            cache[name] = got
        return got  # type: ignore[return-value]

    def ip(self, name: str) -> tuple[int, int] | None:
        """The field as an IP address: (version, integer), or None when it is not one."""
        value = self.raw(name)
        if type(value) is not str:
            return None
        try:
            addr = ipaddress.ip_address(value.strip().strip("[]"))
        except ValueError:
            return None
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return (addr.version, int(addr))
