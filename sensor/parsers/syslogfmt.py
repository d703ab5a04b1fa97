"""The ``syslog`` format: any syslog line becomes a ``syslog`` event with its header fields."""

from __future__ import annotations

from ronda.clock import Clock
from ronda.schema import Event
from sensor.parsers.syslog_header import SyslogHeader, SyslogHeaderParser


def syslog_event(head: SyslogHeader, line: str) -> Event:
    fields = head.fields()
    fields["event.kind"] = "event"
    return Event("syslog", head.timestamp, fields, line)


class SyslogParser:
    __slots__ = ("_header",)

    def __init__(self, clock: Clock) -> None:
        self._header = SyslogHeaderParser(clock)

    def __call__(self, line: str) -> Event | None:
        head = self._header(line)
        return None if head is None else syslog_event(head, line)
