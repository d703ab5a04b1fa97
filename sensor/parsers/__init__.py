"""Line parsers: one line of text in, one :class:`ronda.schema.Event` (or ``None``) out.

A parser never raises: a line it cannot read gives ``None`` (the caller counts and
skips it). Parsers leave ``Event.source`` empty and keep the raw line in
``Event.message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

from ronda.clock import Clock
from ronda.schema import Event
from sensor.parsers.authlog import AuthLogParser
from sensor.parsers.dispatch import SYSLOG_FORMATS, SyslogMessageParser
from sensor.parsers.jsonlog import JsonParser
from sensor.parsers.syslog_header import SyslogHeader, SyslogHeaderParser
from sensor.parsers.syslogfmt import SyslogParser
from sensor.parsers.web import AccessLogParser

Parser = Callable[[str], Event | None]

FORMATS: tuple[str, ...] = ("nginx", "apache", "sshd", "syslog", "json")


def _nginx(clock: Clock) -> Parser:
    return AccessLogParser("nginx.access")


def _apache(clock: Clock) -> Parser:
    return AccessLogParser("apache.access")


_FACTORIES: dict[str, Callable[[Clock], Parser]] = {
    "nginx": _nginx,
    "apache": _apache,
    "sshd": AuthLogParser,
    "syslog": SyslogParser,
    "json": JsonParser,
}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    return fmt


# A config field naming a log format; the error lists the formats there are.
LogFormat = Annotated[str, AfterValidator(check_format)]


def make_parser(fmt: str, clock: Clock) -> Parser:
    """The parser for ``fmt`` (one of :data:`FORMATS`); each call gets its own caches."""
    factory = _FACTORIES.get(fmt)
    if factory is None:
        names = ", ".join(FORMATS)
        raise ValueError(f"unknown format {fmt!r} (expected one of {names})")
    return factory(clock)


def make_syslog_message_parser(fmt: str, clock: Clock) -> Parser:
    """Parser for messages received over syslog; ``fmt`` is ``auto`` or one of FORMATS."""
    return SyslogMessageParser(fmt, clock)


__all__ = [
    "FORMATS",
    "SYSLOG_FORMATS",
    "Parser",
    "SyslogHeader",
    "SyslogHeaderParser",
    "make_parser",
    "make_syslog_message_parser",
]
