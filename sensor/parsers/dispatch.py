"""Messages received over the syslog protocol: header first, then the payload by format.

``auto`` picks the payload parser from the application name in the header:
nginx → ``nginx.access``, apache2/httpd/apache → ``apache.access`` (a JSON payload is
read as an ``escape=json`` access log), sshd → ``sshd.auth``, sudo/su and anything on
the auth/authpriv facilities → ``system.auth``; the rest (and a web payload that does
not parse, such as an error-log line) becomes a ``syslog`` event.
"""

from __future__ import annotations

from ronda.clock import Clock
from ronda.schema import Event
from sensor.parsers.authlog import auth_event
from sensor.parsers.jsonlog import JsonParser
from sensor.parsers.sshd import SSHD_PROGRAMS
from sensor.parsers.syslog_header import SyslogHeader, SyslogHeaderParser
from sensor.parsers.syslogfmt import syslog_event
from sensor.parsers.web import AccessLogParser

SYSLOG_FORMATS: tuple[str, ...] = ("auto", "nginx", "apache", "sshd", "syslog", "json")
_AUTH_APPS = SSHD_PROGRAMS | {"sudo", "su", "su-l"}
_AUTH_FACILITIES = (4, 10)  # auth, authpriv


class SyslogMessageParser:
    """One received syslog message (header + payload) to an event, or ``None``."""

    __slots__ = ("_apache", "_fmt", "_header", "_json", "_json_apache", "_json_nginx", "_nginx")

    def __init__(self, fmt: str, clock: Clock) -> None:
        if fmt not in SYSLOG_FORMATS:
            names = ", ".join(SYSLOG_FORMATS)
            raise ValueError(f"unknown format {fmt!r} (expected one of {names})")
        self._fmt = fmt
        self._header = SyslogHeaderParser(clock)
        self._nginx = AccessLogParser("nginx.access")
        self._apache = AccessLogParser("apache.access")
        self._json = JsonParser(clock)
        self._json_nginx = JsonParser(clock, "nginx.access")
        self._json_apache = JsonParser(clock, "apache.access")

    def __call__(self, line: str) -> Event | None:
        head = self._header(line)
        fmt = self._fmt
        if head is None:
            # A sender may skip the header entirely (raw access-log or JSON lines).
            if fmt in ("nginx", "apache"):
                return self._web(fmt, line)
            if fmt == "json":
                return self._json(line)
            return None
        if fmt == "syslog":
            return syslog_event(head, line)
        if fmt == "sshd":
            return auth_event(head, line)
        if fmt in ("nginx", "apache", "json"):
            event = self._json(head.message) if fmt == "json" else self._web(fmt, head.message)
            return None if event is None else _with_header(event, head, line)
        return self._auto(head, line)

    def _auto(self, head: SyslogHeader, line: str) -> Event:
        app = (head.app or "").lower()
        web = None
        if app.startswith("nginx"):
            web = "nginx"
        elif app.startswith(("apache", "httpd")):
            web = "apache"
        if web is not None:
            event = self._web(web, head.message)
            if event is not None:
                return _with_header(event, head, line)
        elif app in _AUTH_APPS or (
            head.priority is not None and head.priority >> 3 in _AUTH_FACILITIES
        ):
            return auth_event(head, line)
        return syslog_event(head, line)

    def _web(self, fmt: str, payload: str) -> Event | None:
        if payload[:1] == "{":
            return (self._json_nginx if fmt == "nginx" else self._json_apache)(payload)
        return (self._nginx if fmt == "nginx" else self._apache)(payload)


def _with_header(event: Event, head: SyslogHeader, line: str) -> Event:
    """Add the header's host/process/syslog fields (the payload's own fields win)."""
    fields = head.fields()
    del fields["ronda.syslog.message"]
    fields.update(event.fields)
    event.fields = fields
    event.message = line
    return event
