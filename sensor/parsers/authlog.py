"""auth.log / secure: sshd lines become ``sshd.auth`` events, other programs ``system.auth``.

This is the ``sshd`` format. Lines whose syslog header does not parse are rejected.
"""

from __future__ import annotations

import re
from typing import Any

from ronda.clock import Clock
from ronda.schema import Event
from sensor.parsers.pam import pam_fields
from sensor.parsers.sshd import SSHD_PROGRAMS, sshd_fields
from sensor.parsers.syslog_header import SyslogHeader, SyslogHeaderParser

Fields = dict[str, Any]

_REPEATED = re.compile(r"message repeated (\d{1,9}) times: \[ ?(.*?) ?\]$", re.DOTALL)
_SUDO = re.compile(r"\s*(\S+) : (.*)$", re.DOTALL)
_SUDO_FAILURES = re.compile(r"(\d+) incorrect password attempts?")
_SU_OK = re.compile(r"\(to (\S+)\) (\S+) on (\S+)$")
_SU_FAILED = re.compile(r"FAILED SU \(to (\S+)\) (\S+) on (\S+)$")
_SU_SUCCESSFUL = re.compile(r"Successful su for (\S+) by (\S+)$")
_SU_SHORT = re.compile(r"([+-]) (\S+) (\S+):(\S+)$")
_CRON_CMD = re.compile(r"\((\S+)\) CMD \((.*)\)$", re.DOTALL)
_LOGIND_NEW = re.compile(r"New session (\S+) of user (.+?)\.?$")
_LOGIND_REMOVED = re.compile(r"Removed session (\S+?)\.?$")
_NEW_USER = re.compile(r"new user: name=([^,]+), UID=(\d+)")
_NEW_GROUP = re.compile(r"new group: name=([^,]+), GID=(\d+)")
_PASSWORD_CHANGED = re.compile(r"(?:pam_unix\(\S+\): )?password changed for (\S+)")
MAX_MESSAGE = 16384  # longer lines keep their header fields but are not picked apart
_SUDO_KEYS = {
    "TTY": "system.auth.sudo.tty",
    "PWD": "process.working_directory",
    "USER": "user.effective.name",
}


def sudo_fields(msg: str, f: Fields) -> None:
    """``alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls`` and failures."""
    m = _SUDO.match(msg)
    if m is None:
        return
    user, body = m.groups()
    f["user.name"] = user
    head, sep, command = body.partition("COMMAND=")
    if sep:
        f["process.command_line"] = command
        f["system.auth.sudo.command"] = command
    parts = [p.strip() for p in head.split(" ;") if p.strip()]
    if parts and "=" not in parts[0]:
        error = parts.pop(0)
        f["system.auth.sudo.error"] = error
        f["event.outcome"] = "failure"
        failures = _SUDO_FAILURES.match(error)
        if failures is not None:
            f["event.action"] = "sudo_auth_failure"
            f["ronda.auth.failures"] = int(failures.group(1)[:6])
            f["event.category"] = ["authentication"]
        elif "NOT in sudoers" in error:
            f["event.action"] = "sudo_not_in_sudoers"
        elif "command not allowed" in error:
            f["event.action"] = "sudo_command_not_allowed"
        else:
            f["event.action"] = "sudo_error"
    else:
        f["event.action"] = "sudo_command"
        f["event.outcome"] = "success"
    for part in parts:
        key, eq, value = part.partition("=")
        name = _SUDO_KEYS.get(key)
        if eq and name:
            f[name] = value
    if "user.effective.name" in f:
        f["system.auth.sudo.user"] = f["user.effective.name"]


def su_fields(msg: str, f: Fields) -> None:
    for pattern, ok in ((_SU_OK, True), (_SU_FAILED, False)):
        m = pattern.match(msg)
        if m is not None:
            target, user, tty = m.groups()
            _su(f, ok, user, target, tty)
            return
    m = _SU_SUCCESSFUL.match(msg)
    if m is not None:
        _su(f, True, m.group(2), m.group(1), None)
        return
    m = _SU_SHORT.match(msg)
    if m is not None:
        _su(f, m.group(1) == "+", m.group(3), m.group(4), m.group(2))


def _su(f: Fields, ok: bool, user: str, target: str, tty: str | None) -> None:
    f.update({"event.action": "su_success" if ok else "su_failure",
              "event.outcome": "success" if ok else "failure",
              "user.name": user, "user.effective.name": target})  # fmt: skip
    if tty:
        f["ronda.su.tty"] = tty


def other_fields(app: str, msg: str, f: Fields) -> None:
    """cron, systemd-logind, useradd/groupadd, passwd."""
    if app in ("CRON", "cron", "crond"):
        m = _CRON_CMD.match(msg)
        if m is not None:
            f.update({"event.action": "cron_command", "event.category": ["process"],
                      "user.name": m.group(1), "process.command_line": m.group(2)})  # fmt: skip
    elif app == "systemd-logind":
        m = _LOGIND_NEW.match(msg)
        if m is not None:
            f.update({"event.action": "session_created", "event.category": ["session"],
                      "user.name": m.group(2), "ronda.session.id": m.group(1)})  # fmt: skip
            return
        m = _LOGIND_REMOVED.match(msg)
        if m is not None:
            f.update({"event.action": "session_removed", "event.category": ["session"],
                      "ronda.session.id": m.group(1)})  # fmt: skip
    elif app in ("useradd", "groupadd"):
        for pattern, action, id_key in ((_NEW_USER, "user_created", "user.target.id"),
                                        (_NEW_GROUP, "group_created", "group.id")):  # fmt: skip
            m = pattern.search(msg)
            if m is not None:
                name_key = "user.target.name" if action == "user_created" else "group.name"
                f.update({"event.action": action, "event.category": ["iam"],
                          "event.outcome": "success", name_key: m.group(1), id_key: m.group(2)})
    elif app in ("passwd", "chpasswd"):
        m = _PASSWORD_CHANGED.match(msg)
        if m is not None:
            f.update({"event.action": "password_changed", "event.category": ["iam"],
                      "event.outcome": "success", "user.target.name": m.group(1)})  # fmt: skip


def auth_event(head: SyslogHeader, line: str) -> Event:
    """The event for one auth.log line whose header parsed (sshd or another program)."""
    f = head.fields()
    msg = head.message
    if msg.startswith("message repeated "):
        rm = _REPEATED.match(msg)
        if rm is not None:
            f["ronda.repeat_count"] = int(rm.group(1))
            msg = rm.group(2)
    app = head.app or ""
    if app in SSHD_PROGRAMS:
        f.update(sshd_fields(msg))
        return Event("sshd.auth", head.timestamp, f, line)
    f["event.kind"] = "event"
    f["event.category"] = ["authentication"]
    if len(msg) > MAX_MESSAGE:
        return Event("system.auth", head.timestamp, f, line)
    pam = pam_fields(msg) if msg.startswith("pam_") else None
    if pam is not None:
        f.update(pam)
    elif app == "sudo":
        f["event.category"] = ["process"]
        sudo_fields(msg, f)
    elif app in ("su", "su-l"):
        su_fields(msg, f)
    else:
        other_fields(app, msg, f)
    return Event("system.auth", head.timestamp, f, line)


class AuthLogParser:
    """The ``sshd`` format: one auth.log line in, an ``sshd.auth``/``system.auth`` event out."""

    __slots__ = ("_header",)

    def __init__(self, clock: Clock) -> None:
        self._header = SyslogHeaderParser(clock)

    def __call__(self, line: str) -> Event | None:
        head = self._header(line)
        return None if head is None else auth_event(head, line)
