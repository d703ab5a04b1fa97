"""OpenSSH server messages (the MSG part of an ``sshd[pid]:`` line) to ECS fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sensor.parsers.common import is_ip, set_address
from sensor.parsers.pam import auth_failure_kv, pam_fields

SSHD_PROGRAMS = frozenset(("sshd", "sshd-session", "sshd-auth"))

Fields = dict[str, Any]
_Handler = Callable[["re.Match[str]", Fields], None]

_LOGIN = re.compile(
    r"(Failed|Accepted) (\S+) for (invalid user )?(.*) from (\S+) port (\d+)(?: (ssh\d?))?"
    r"(?:: (.*))?$", re.DOTALL)  # fmt: skip
_INVALID = re.compile(r"Invalid user (.*) from (\S+)(?: port (\d+))?$", re.DOTALL)
_CLOSED = re.compile(
    r"(Connection closed|Connection reset|Disconnected) (?:by|from) "
    r"(?:(invalid|authenticating) user (.*) |user (.*) )?(\S+) port (\d+)$", re.DOTALL)  # fmt: skip
_CLOSED_BARE = re.compile(r"(Connection closed|Connection reset) by (\S+)$")
_RECEIVED = re.compile(
    r"Received disconnect from (\S+?)(?: port (\d+))?: ?(\d+): ?(.*)$", re.DOTALL
)
_MAX_AUTH = re.compile(
    r"error: maximum authentication attempts exceeded for (invalid user )?(.*) "
    r"from (\S+) port (\d+)(?: ssh\d?)?$", re.DOTALL)  # fmt: skip
_DISCONNECTING = re.compile(
    r"Disconnecting (?:(invalid|authenticating) user (.*) )?(\S+) port (\d+): (.*)$", re.DOTALL
)
_NO_IDENT = re.compile(r"Did not receive identification string from (\S+)(?: port (\d+))?$")
_PAM_MORE = re.compile(r"PAM (\d+) more authentication failures?; (.*)$", re.DOTALL)
_CONNECTION = re.compile(r"Connection from (\S+) port (\d+) on (\S+) port (\d+)(?: .*)?$")
_BANNER = re.compile(r"banner exchange: Connection from (\S+) port (\d+): (.*)$", re.DOTALL)
_BAD_VERSION = re.compile(
    r"Bad protocol version identification '(.*)' from (\S+)(?: port (\d+))?$", re.DOTALL
)
_NEGOTIATE = re.compile(r"Unable to negotiate with (\S+) port (\d+): (.*)$", re.DOTALL)
_NOT_ALLOWED = re.compile(r"User (.*) from (\S+) not allowed because (.*)$", re.DOTALL)
_TIMEOUT = re.compile(r"(?:fatal: )?Timeout before authentication for (\S+)(?: port (\d+))?$")
_REVERSE = re.compile(r"reverse mapping checking getaddrinfo for (\S+) \[(\S+)\] failed")
_POSTPONED = re.compile(
    r"Postponed (\S+) for (invalid user )?(.*) from (\S+) port (\d+)(?: ssh\d?)?$", re.DOTALL
)
_INPUT_INVALID = re.compile(r"(?:error: )?input_userauth_request: invalid user (.*)$", re.DOTALL)
_FATAL_CONN = re.compile(
    r"(?:ssh_dispatch_run_fatal|fatal): Connection from (?:(invalid|authenticating) user (.*) )?"
    r"(\S+) port (\d+): (.*)$", re.DOTALL)  # fmt: skip
_LISTENING = re.compile(r"Server listening on (\S+) port (\d+)")
_ANY_PORT = re.compile(r"(?<!\S)(\S+) port (\d+)")
# sshd never logs more than 1 KiB per message; longer input is not worth regex work.
MAX_MESSAGE = 2048


def _source(f: Fields, addr: str, port: str | None) -> None:
    set_address(f, "source", addr)
    if port is not None:
        f["source.port"] = int(port)


def _user(f: Fields, name: str | None, invalid: bool | None = None) -> None:
    if name is not None:
        f["user.name"] = name
    if invalid is not None:
        f["ronda.ssh.invalid_user"] = invalid


def _login(m: re.Match[str], f: Fields) -> None:
    kind, method, invalid, user, addr, port, proto, sig = m.groups()
    ok = kind == "Accepted"
    f.update({"event.action": "ssh_login", "event.outcome": "success" if ok else "failure",
              "system.auth.ssh.event": kind, "system.auth.ssh.method": method})  # fmt: skip
    _user(f, user, invalid is not None)
    _source(f, addr, port)
    if proto:
        f["network.protocol"] = proto
    if sig:
        f["system.auth.ssh.signature"] = sig


def _invalid(m: re.Match[str], f: Fields) -> None:
    f.update({"event.action": "ssh_invalid_user", "event.outcome": "failure",
              "system.auth.ssh.event": "Invalid"})  # fmt: skip
    _user(f, m.group(1), True)
    _source(f, m.group(2), m.group(3))


def _closed(m: re.Match[str], f: Fields) -> None:
    what, state, pre_user, post_user, addr, port = m.groups()
    f["event.action"] = "ssh_disconnect"
    f["system.auth.ssh.event"] = what.split()[-1].capitalize()
    if state is not None:
        f["event.outcome"] = "failure"
        _user(f, pre_user, True if state == "invalid" else None)
    else:
        _user(f, post_user)
    _source(f, addr, port)


def _closed_bare(m: re.Match[str], f: Fields) -> None:
    f["event.action"] = "ssh_disconnect"
    f["system.auth.ssh.event"] = m.group(1).split()[-1].capitalize()
    _source(f, m.group(2), None)


def _received(m: re.Match[str], f: Fields) -> None:
    f["event.action"] = "ssh_disconnect"
    f["system.auth.ssh.event"] = "Received disconnect"
    _source(f, m.group(1), m.group(2))
    f["ronda.ssh.disconnect_code"] = int(m.group(3)[:6])
    f["ronda.ssh.reason"] = m.group(4)


def _max_auth(m: re.Match[str], f: Fields) -> None:
    f.update({"event.action": "ssh_max_auth_exceeded", "event.outcome": "failure"})
    _user(f, m.group(2), True if m.group(1) else None)
    _source(f, m.group(3), m.group(4))


def _disconnecting(m: re.Match[str], f: Fields) -> None:
    state, user, addr, port, reason = m.groups()
    too_many = reason.startswith("Too many authentication failures")
    f["event.action"] = "ssh_max_auth_exceeded" if too_many else "ssh_disconnect"
    if too_many or state is not None:
        f["event.outcome"] = "failure"
    _user(f, user, True if state == "invalid" else None)
    _source(f, addr, port)
    f["ronda.ssh.reason"] = reason


def _action(action: str, outcome: str | None = None, reason: int = 0) -> _Handler:
    """A handler for ``<addr> port <n>`` shaped messages: group 1 addr, 2 port."""

    def handle(m: re.Match[str], f: Fields) -> None:
        f["event.action"] = action
        if outcome:
            f["event.outcome"] = outcome
        _source(f, m.group(1), m.group(2))
        if reason:
            f["ronda.ssh.reason"] = m.group(reason)

    return handle


def _pam_more(m: re.Match[str], f: Fields) -> None:
    f.update({"event.action": "ssh_auth_failure", "event.outcome": "failure",
              "ronda.auth.failures": int(m.group(1)[:6])})  # fmt: skip
    auth_failure_kv(m.group(2), f)


def _connection(m: re.Match[str], f: Fields) -> None:
    f["event.action"] = "ssh_connection"
    _source(f, m.group(1), m.group(2))
    set_address(f, "destination", m.group(3))
    f["destination.port"] = int(m.group(4))


def _bad_version(m: re.Match[str], f: Fields) -> None:
    f.update({"event.action": "ssh_bad_banner", "event.outcome": "failure",
              "ronda.ssh.reason": m.group(1)})  # fmt: skip
    _source(f, m.group(2), m.group(3))


def _not_allowed(m: re.Match[str], f: Fields) -> None:
    f.update({"event.action": "ssh_user_not_allowed", "event.outcome": "failure",
              "ronda.ssh.reason": m.group(3)})  # fmt: skip
    _user(f, m.group(1))
    _source(f, m.group(2), None)


def _reverse(m: re.Match[str], f: Fields) -> None:
    f["event.action"] = "ssh_reverse_mapping_failure"
    f["source.domain"] = m.group(1)
    _source(f, m.group(2), None)


def _postponed(m: re.Match[str], f: Fields) -> None:
    f.update({"event.action": "ssh_login_postponed", "system.auth.ssh.event": "Postponed",
              "system.auth.ssh.method": m.group(1)})  # fmt: skip
    _user(f, m.group(3), m.group(2) is not None)
    _source(f, m.group(4), m.group(5))


def _input_invalid(m: re.Match[str], f: Fields) -> None:
    f.update({"event.action": "ssh_invalid_user", "event.outcome": "failure",
              "system.auth.ssh.event": "Invalid"})  # fmt: skip
    _user(f, m.group(1), True)


def _fatal_conn(m: re.Match[str], f: Fields) -> None:
    state, user, addr, port, reason = m.groups()
    f.update({"event.action": "ssh_protocol_error", "event.outcome": "failure",
              "ronda.ssh.reason": reason})  # fmt: skip
    _user(f, user, True if state == "invalid" else None)
    _source(f, addr, port)


def _listening(m: re.Match[str], f: Fields) -> None:
    f["event.action"] = "ssh_server_listening"
    set_address(f, "destination", m.group(1))
    f["destination.port"] = int(m.group(2))


_RULES: tuple[tuple[str, re.Pattern[str], _Handler], ...] = (
    ("Failed ", _LOGIN, _login),
    ("Accepted ", _LOGIN, _login),
    ("Invalid user ", _INVALID, _invalid),
    ("Connection closed by ", _CLOSED, _closed),
    ("Connection closed by ", _CLOSED_BARE, _closed_bare),
    ("Connection reset by ", _CLOSED, _closed),
    ("Connection reset by ", _CLOSED_BARE, _closed_bare),
    ("Disconnected from ", _CLOSED, _closed),
    ("Received disconnect from ", _RECEIVED, _received),
    ("error: maximum authentication", _MAX_AUTH, _max_auth),
    ("Disconnecting ", _DISCONNECTING, _disconnecting),
    ("Did not receive identification", _NO_IDENT, _action("ssh_no_identification", "failure")),
    ("PAM ", _PAM_MORE, _pam_more),
    ("Connection from ", _CONNECTION, _connection),
    ("banner exchange: ", _BANNER, _action("ssh_bad_banner", "failure", reason=3)),
    ("Bad protocol version", _BAD_VERSION, _bad_version),
    ("Unable to negotiate with ", _NEGOTIATE, _action("ssh_negotiation_failure", "failure", 3)),
    ("User ", _NOT_ALLOWED, _not_allowed),
    ("Timeout before", _TIMEOUT, _action("ssh_timeout", "failure")),
    ("fatal: Timeout before", _TIMEOUT, _action("ssh_timeout", "failure")),
    ("reverse mapping checking", _REVERSE, _reverse),
    ("Postponed ", _POSTPONED, _postponed),
    ("input_userauth_request: ", _INPUT_INVALID, _input_invalid),
    ("error: input_userauth_request: ", _INPUT_INVALID, _input_invalid),
    ("ssh_dispatch_run_fatal: ", _FATAL_CONN, _fatal_conn),
    ("fatal: Connection from ", _FATAL_CONN, _fatal_conn),
    ("Server listening on ", _LISTENING, _listening),
)


def sshd_fields(msg: str) -> Fields:
    """ECS fields for one sshd message (never empty: at least the event category)."""
    f: Fields = {"event.category": ["authentication"], "event.kind": "event"}
    if msg.endswith(" [preauth]"):
        msg = msg[:-10]
        f["ronda.ssh.preauth"] = True
    if len(msg) > MAX_MESSAGE:
        return f
    if msg.startswith("pam_"):
        pam = pam_fields(msg)
        if pam is not None:
            f.update(pam)
            return f
    if msg.startswith(("kex_exchange_identification: ", "error: kex_exchange_identification: ")):
        f.update({"event.action": "ssh_bad_banner", "event.outcome": "failure",
                  "ronda.ssh.reason": msg.partition("identification: ")[2]})  # fmt: skip
        return f
    for prefix, pattern, handler in _RULES:
        if msg.startswith(prefix):
            m = pattern.match(msg)
            if m is not None:
                handler(m, f)
                return f
    for m in _ANY_PORT.finditer(msg):
        if is_ip(m.group(1)):
            _source(f, m.group(1), m.group(2))
            break
    return f
