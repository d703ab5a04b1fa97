"""The HTTP side of the alertmanager responder: one POST, and each URL's delivery state.

Standard library only (``http.client``). Environment proxies are deliberately not used:
Alertmanager is normally on the same host or network, and an office ``http_proxy`` must
not swallow pages.
"""

from __future__ import annotations

import base64
import http.client
import math
import ssl
import threading
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from responders.amformat import Fingerprint

API_PATH = "/api/v2/alerts"
EXCERPT = 200

Kind = Literal["ok", "retry", "reject"]


@dataclass(frozen=True)
class Outcome:
    """``ok``: accepted. ``retry``: the server is unreachable, slow or overloaded (network
    error, timeout, 5xx, 429): try again later. ``reject``: any other status; the same
    body would be refused again."""

    kind: Kind
    status: int | None
    detail: str


def check_url(url: str) -> str:
    """A valid Alertmanager base URL without its trailing slash, or ValueError."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"invalid Alertmanager URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"invalid Alertmanager URL {url!r} (expected http://HOST:PORT or https://...)"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "Alertmanager URLs must not contain credentials; use username and "
            "password_file or password_env"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"invalid Alertmanager URL {url!r}: no query or fragment allowed")
    return url.strip().rstrip("/")


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def post_alerts(url: str, body: bytes, timeout: float, authorization: str | None) -> Outcome:
    """POST ``body`` (a JSON list of alerts) to ``{url}/api/v2/alerts``. Never raises for
    network or HTTP failures; the result says what happened."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, parts.port or 443, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, parts.port or 80, timeout=timeout)
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "User-Agent": "ronda-alertmanager"}
    if authorization:
        headers["Authorization"] = authorization
    try:
        conn.request("POST", parts.path.rstrip("/") + API_PATH, body=body, headers=headers)
        resp = conn.getresponse()
        status = resp.status
        data = resp.read(4096)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome("retry", None, describe_error(exc, timeout))
    finally:
        conn.close()
    if 200 <= status < 300:
        return Outcome("ok", status, "")
    excerpt = " ".join(data.decode("utf-8", "replace").split())[:EXCERPT]
    kind: Kind = "retry" if status == 429 or status >= 500 else "reject"
    return Outcome(kind, status, f"HTTP {status}: {excerpt}" if excerpt else f"HTTP {status}")


def describe_error(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"


@dataclass(eq=False)
class UrlState:
    """Delivery state of one Alertmanager URL, so a dead URL never holds up the others.

    ``pending``: label sets to post next (an ordered set). ``sent``: when each active
    label set was last posted here (for resends). Guarded by the responder's state lock;
    ``lock`` keeps one POST at a time per URL.
    """

    url: str
    index: int
    pending: dict[Fingerprint, None] = field(default_factory=dict)
    sent: dict[Fingerprint, float] = field(default_factory=dict)
    failures: int = 0
    next_try: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, now: float, initial: float, maximum: float) -> float:
        """Record a failed attempt; return the delay before the next one."""
        self.failures += 1
        delay = min(initial * 2.0 ** min(self.failures - 1, 60), maximum)
        self.next_try = now + delay
        return delay

    def recovered(self) -> int:
        """Record a successful attempt; return how many failed ones came before it."""
        before, self.failures, self.next_try = self.failures, 0, -math.inf
        return before
