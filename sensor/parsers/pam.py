"""PAM lines shared by sshd, sudo, su, cron: ``pam_unix(service:type): ...``."""

from __future__ import annotations

import re
from typing import Any

from sensor.parsers.common import set_address

_PAM = re.compile(r"(pam_[\w-]+)\(([^:()]{1,64}):([^()]{1,32})\): (.*)", re.DOTALL)
_KV = re.compile(r"(\w+)=(\S*)")
_SESSION = re.compile(
    r"session (opened|closed) for user ([^\s(]+)(?:\(uid=(\d+)\))?"
    r"(?: by ([^\s(]*)(?:\(uid=(\d+)\))?)?"
)
_SERVICE_ACTION = {"sshd": "ssh", "sudo": "sudo", "su": "su", "su-l": "su"}


def auth_failure_action(service: str) -> str:
    prefix = _SERVICE_ACTION.get(service)
    return f"{prefix}_auth_failure" if prefix else "auth_failure"


def pam_fields(msg: str) -> dict[str, Any] | None:
    """Fields for a PAM module line; ``None`` when ``msg`` is not one."""
    m = _PAM.match(msg)
    if m is None:
        return None
    module, service, kind, text = m.groups()
    out: dict[str, Any] = {"ronda.pam.module": module, "ronda.pam.service": service}
    if text.startswith("authentication failure"):
        out["event.action"] = auth_failure_action(service)
        out["event.outcome"] = "failure"
        out["event.category"] = ["authentication"]
        auth_failure_kv(text, out)
    elif text.startswith("session "):
        sm = _SESSION.match(text)
        if sm is not None:
            out["event.action"] = f"session_{sm.group(1)}"
            out["event.category"] = ["session"]
            out["user.name"] = sm.group(2)
            if sm.group(3) is not None:
                out["user.id"] = sm.group(3)
            if sm.group(4):
                out["ronda.pam.by"] = sm.group(4)
    elif text.startswith("check pass; user unknown"):
        out["event.action"] = "auth_user_unknown"
        out["event.outcome"] = "failure"
        out["event.category"] = ["authentication"]
    else:
        out["event.category"] = ["authentication"] if kind == "auth" else ["session"]
    return out


def auth_failure_kv(text: str, out: dict[str, Any]) -> None:
    """``logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root`` into ECS fields.

    ``user=`` is the last key and runs to the end of the line (names may hold spaces).
    """
    head, sep, user = text.partition(" user=")
    for key, value in _KV.findall(head):
        if not value:
            continue
        if key == "rhost":
            set_address(out, "source", value)
        elif key == "ruser":
            out["ronda.pam.ruser"] = value
        elif key == "tty":
            out["ronda.pam.tty"] = value
        elif key == "logname":
            out["ronda.pam.logname"] = value
        elif key == "uid":
            out["ronda.pam.uid"] = value
    if sep and user.strip():
        out["user.name"] = user.strip()
