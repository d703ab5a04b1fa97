"""The syslog header, parsed once for every consumer (syslog format, auth.log, syslog source).

Recognised shapes::

    <34>1 2026-11-21T10:00:00.123+07:00 host app 123 ID47 [ex@1 k="v"] msg     RFC 5424
    <34>Nov 21 10:00:00 host app[123]: msg                                  RFC 3164
    Nov 21 10:00:00 host app[123]: msg                                      auth.log, syslog files
    2026-11-21T10:00:00.123456+07:00 host app[123]: msg                     RSYSLOG_FileFormat
    2026-11-21T10:00:00+0700 host app[123]: msg                             journalctl -o short-iso
    <13>app: msg                                                            PRI, no time, no host
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ronda.clock import Clock
from sensor.parsers.timeparse import BSDTime, ISOTime

FACILITY_NAMES: tuple[str, ...] = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
SEVERITY_NAMES: tuple[str, ...] = (
    "Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug",
)  # fmt: skip

_TAG = re.compile(r"([^\s\[\]:]{1,128})(?:\[([^\]\s]{0,64})\])?:(?: |$)")
_SD_ELEMENT = re.compile(
    r'\[([^\s\]="]{1,64})((?: +[^\s=\]"]{1,64}="[^"\\]*(?:\\.[^"\\]*)*")*) *\]'
)
_SD_PARAM = re.compile(r'([^\s=\]"]{1,64})="([^"\\]*(?:\\.[^"\\]*)*)"')
_SD_ESCAPE = re.compile(r'\\(["\\\]])')
_BOM = "\ufeff"


@dataclass(slots=True)
class SyslogHeader:
    """What the header says; ``message`` is the MSG part (the payload after the header)."""

    timestamp: float
    message: str
    priority: int | None = None
    version: int | None = None
    hostname: str | None = None
    app: str | None = None
    procid: str | None = None
    msgid: str | None = None
    structured_data: dict[str, dict[str, str]] | None = None

    @property
    def pid(self) -> int | None:
        p = self.procid
        if p is not None and p.isdigit() and p.isascii() and len(p) < 12:
            return int(p)
        return None

    def fields(self) -> dict[str, Any]:
        """ECS fields for the header: ``host.*``, ``process.*``, ``log.syslog.*``."""
        out: dict[str, Any] = {}
        if self.hostname is not None:
            out["host.hostname"] = self.hostname
        if self.app is not None:
            out["process.name"] = self.app
        if self.procid is not None:
            pid = self.pid
            if pid is not None:
                out["process.pid"] = pid
            else:
                out["log.syslog.procid"] = self.procid
        pri = self.priority
        if pri is not None:
            facility, severity = divmod(pri, 8)
            out["log.syslog.priority"] = pri
            out["log.syslog.facility.code"] = facility
            out["log.syslog.facility.name"] = FACILITY_NAMES[facility]
            out["log.syslog.severity.code"] = severity
            out["log.syslog.severity.name"] = SEVERITY_NAMES[severity]
        if self.version is not None:
            out["log.syslog.version"] = str(self.version)
        if self.msgid is not None:
            out["log.syslog.msgid"] = self.msgid
        if self.structured_data:
            out["log.syslog.structured_data"] = self.structured_data
        out["ronda.syslog.message"] = self.message
        return out


class SyslogHeaderParser:
    """Parse the header of one syslog line; ``None`` when it is not a syslog line.

    Classic timestamps (no year, no zone) are local time with the year inferred from
    the clock (see :class:`sensor.parsers.timeparse.BSDTime`).
    """

    __slots__ = ("_bsd", "_clock", "_iso")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._bsd = BSDTime(clock)
        self._iso = ISOTime()

    def __call__(self, line: str) -> SyslogHeader | None:
        pri: int | None = None
        rest = line
        if line[:1] == "<":
            end = line.find(">", 1, 5)
            digits = line[1:end] if end > 0 else ""
            if not digits.isdigit() or not digits.isascii():
                return None
            pri = int(digits)
            if pri > 191 or (len(digits) > 1 and digits[0] == "0"):
                return None
            rest = line[end + 1 :]
            if rest[:2] == "1 ":
                return self._rfc5424(pri, rest[2:])
        return self._rfc3164(pri, rest)

    def _rfc3164(self, pri: int | None, rest: str) -> SyslogHeader | None:
        ts: float | None = None
        first = rest[:1]
        if "0" <= first <= "9":
            sp = rest.find(" ")
            if sp < 0:
                return None
            ts = self._iso(rest[:sp])
            rest = rest[sp + 1 :]
        elif "A" <= first <= "Z" and len(rest) >= 15:
            if rest[15:16] in (" ", ""):
                ts = self._bsd(rest[:15])
                rest = rest[16:]
            elif rest[20:21] in (" ", ""):  # "Nov 21 2026 10:00:00"
                ts = self._bsd(rest[:20])
                rest = rest[21:]
        if ts is None:
            if pri is None:
                return None
            ts = self._clock.now()
            return _tag(SyslogHeader(ts, rest, priority=pri), rest)
        head = SyslogHeader(ts, rest, priority=pri)
        sp = rest.find(" ")
        first_token = rest if sp < 0 else rest[:sp]
        if first_token.endswith(":") or "[" in first_token:
            return _tag(head, rest)
        head.hostname = first_token or None
        rest = "" if sp < 0 else rest[sp + 1 :]
        return _tag(head, rest)

    def _rfc5424(self, pri: int, rest: str) -> SyslogHeader | None:
        parts = rest.split(" ", 5)
        if len(parts) < 5:
            return None
        when, host, app, procid, msgid = parts[:5]
        tail = parts[5] if len(parts) == 6 else ""
        ts = self._clock.now() if when == "-" else self._iso(when)
        if ts is None:
            return None
        head = SyslogHeader(
            ts,
            "",
            priority=pri,
            version=1,
            hostname=None if host == "-" else host,
            app=None if app == "-" else app,
            procid=None if procid == "-" else procid,
            msgid=None if msgid == "-" else msgid,
        )
        if tail[:1] == "-" and tail[1:2] in (" ", ""):
            message = tail[2:]
        elif tail[:1] == "[":
            sd, message = _structured_data(tail)
            if sd is None:
                return None
            head.structured_data = sd
        else:
            message = tail
        if message[:1] == _BOM:
            message = message[1:]
        head.message = message
        return head


def _tag(head: SyslogHeader, rest: str) -> SyslogHeader:
    """``app[pid]: msg`` / ``app: msg``; without a tag the whole rest is the message."""
    m = _TAG.match(rest)
    if m is None:
        head.message = rest
        return head
    head.app = m.group(1)
    head.procid = m.group(2) or None
    head.message = rest[m.end() :]
    return head


def _structured_data(text: str) -> tuple[dict[str, dict[str, str]] | None, str]:
    """Parse ``[id k="v"][id2 ...] MSG``; ``(None, "")`` when it is malformed."""
    sd: dict[str, dict[str, str]] = {}
    pos = 0
    n = len(text)
    while pos < n and text[pos] == "[":
        m = _SD_ELEMENT.match(text, pos)
        if m is None:
            return None, ""
        params = sd.setdefault(m.group(1), {})
        for pm in _SD_PARAM.finditer(m.group(2)):
            value = pm.group(2)
            params[pm.group(1)] = _SD_ESCAPE.sub(r"\1", value) if "\\" in value else value
        pos = m.end()
    if pos < n and text[pos] != " ":
        return None, ""
    return sd, text[pos + 1 :]
