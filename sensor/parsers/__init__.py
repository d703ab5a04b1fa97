"""Line parsers: one line of text in, one :class:`ronda.schema.Event` (or ``None``) out."""

from __future__ import annotations

from collections.abc import Callable

from ronda.clock import Clock
from ronda.schema import Event
from sensor.parsers.jsonlog import make_json_parser

Parser = Callable[[str], Event | None]

FORMATS: tuple[str, ...] = ("nginx", "apache", "sshd", "syslog", "json")

_FACTORIES: dict[str, Callable[[Clock], Parser]] = {
    "json": make_json_parser,
}


def make_parser(fmt: str, clock: Clock) -> Parser:
    """The parser for ``fmt`` (one of :data:`FORMATS`)."""
    factory = _FACTORIES.get(fmt)
    if factory is None:
        names = ", ".join(FORMATS)
        raise ValueError(f"unknown format {fmt!r} (expected one of {names})")
    return factory(clock)


__all__ = ["FORMATS", "Parser", "make_parser"]
