"""Connection settings for Elasticsearch and the client made from them.

Secrets never sit in the YAML: an API key or a password is read from a file
(``api_key_file``/``password_file``) or an environment variable (``api_key_env``/
``password_env``) when the client is made, and is never kept in the settings, logged
or shown in a repr.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Literal
from urllib.parse import urlsplit

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ronda.component import Context
from ronda.durations import Duration
from ronda.errors import ConfigError

ErrorKind = Literal["unavailable", "rejected", "auth", "other"]

# Characters a data stream name may not hold (the namespace is its last part, so "-" too).
_BAD_NAMESPACE_CHARS = set('\\/*?"<>| ,#:-')
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^)'\"]+)")


def check_namespace(value: str) -> str:
    """The ``<namespace>`` of ``logs-<dataset>-<namespace>``, by Elasticsearch's rules."""
    if not value:
        raise ValueError("namespace must not be empty")
    if value != value.lower():
        raise ValueError(f"namespace {value!r} must be lower case")
    bad = sorted(set(value) & _BAD_NAMESPACE_CHARS)
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise ValueError(f"namespace {value!r} must not contain {shown}")
    if value in (".", "..") or value.startswith(("_", "+")):
        raise ValueError(f"namespace {value!r} must not be '.' or '..' or start with _ or +")
    if len(value.encode("utf-8")) > 100:
        raise ValueError(f"namespace {value!r} is longer than 100 bytes")
    return value


def check_host(url: str) -> str:
    """An ``http(s)://host:port[/prefix]`` URL without credentials in it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"invalid URL {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"invalid URL {url!r} (expected http(s)://HOST:PORT)")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{parts.scheme}://{parts.hostname}: do not put credentials in the URL "
                         "(use username with password_file/password_env, or api_key_file/"
                         "api_key_env)")
    if port is None:
        raise ValueError(f"URL {url!r} has no port (e.g. {parts.scheme}://{parts.hostname}:9200)")
    if parts.query or parts.fragment:
        raise ValueError(f"URL {url!r} must not have a query or fragment")
    return url.rstrip("/")


class EsConnection(BaseModel):
    """Where Elasticsearch is and how to log in; the data stream namespace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts: list[str] = Field(min_length=1)
    ca_file: str | None = None
    verify_certs: bool = True
    api_key_file: str | None = None
    api_key_env: str | None = None
    username: str | None = Field(default=None, min_length=1)
    password_file: str | None = None
    password_env: str | None = None
    request_timeout: Duration = Field(default=10.0, gt=0)
    namespace: str = "default"

    @field_validator("hosts", mode="before")
    @classmethod
    def _one_host(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        return [check_host(h) for h in v]

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        return check_namespace(v)

    @model_validator(mode="after")
    def _credentials(self) -> EsConnection:
        if self.api_key_file and self.api_key_env:
            raise ValueError("give api_key_file or api_key_env, not both")
        if self.password_file and self.password_env:
            raise ValueError("give password_file or password_env, not both")
        has_password = bool(self.password_file or self.password_env)
        if self.username and not has_password:
            raise ValueError(f"username {self.username!r} needs password_file or password_env")
        if has_password and not self.username:
            raise ValueError("password_file/password_env needs a username")
        if self.username and (self.api_key_file or self.api_key_env):
            raise ValueError("use an API key or username and password, not both")
        return self

    @property
    def auth(self) -> str:
        """How it logs in, for messages: ``api key``, ``user NAME`` or ``none``."""
        if self.api_key_file or self.api_key_env:
            return "api key"
        return f"user {self.username}" if self.username else "none"


def read_secret(what: str, file: str | None, env: str | None, ctx: Context) -> str | None:
    """The secret from its file (first line, stripped) or environment variable."""
    if file:
        path = ctx.resolve(file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ConfigError(f"{what}_file {path}: cannot read it ({reason})") from None
        lines = text.strip().splitlines()
        if not lines or not lines[0].strip():
            raise ConfigError(f"{what}_file {path}: the file is empty")
        return lines[0].strip()
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError(f"{what}_env: environment variable {env} is not set or empty")
        return value
    return None


def client_options(conn: EsConnection, ctx: Context) -> dict[str, Any]:
    """Keyword arguments for :class:`Elasticsearch` (secrets included: never log them)."""
    opts: dict[str, Any] = {
        "hosts": list(conn.hosts),
        "request_timeout": conn.request_timeout,
        # The responder retries on its own schedule (with its spool): one try per call.
        "max_retries": 0,
        "retry_on_timeout": False,
        "verify_certs": conn.verify_certs,
    }
    if conn.ca_file:
        ca = ctx.resolve(conn.ca_file)
        if not ca.is_file():
            raise ConfigError(f"ca_file {ca}: no such file")
        opts["ca_certs"] = str(ca)
    if not conn.verify_certs:
        opts["ssl_show_warn"] = False
        if any(h.startswith("https:") for h in conn.hosts):
            ctx.log.warning("elasticsearch: verify_certs is false: TLS certificates are "
                            "not checked")
    api_key = read_secret("api_key", conn.api_key_file, conn.api_key_env, ctx)
    if api_key is not None:
        opts["api_key"] = tuple(api_key.split(":", 1)) if ":" in api_key else api_key
    password = read_secret("password", conn.password_file, conn.password_env, ctx)
    if conn.username and password is not None:
        opts["basic_auth"] = (conn.username, password)
    return opts


def make_client(conn: EsConnection, ctx: Context) -> Elasticsearch:
    """A client for ``conn``: all hosts, TLS, API key or basic auth, no retries.
    ConfigError (one line) for an unreadable secret or CA file."""
    # The client logs every request (INFO) and marks nodes dead (WARNING) on its own
    # logger; Ronda reports failures itself, in one line.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    try:
        return Elasticsearch(**client_options(conn, ctx))
    except ValueError as exc:  # rejected by the client (an odd URL it cannot parse)
        raise ConfigError(f"elasticsearch: {exc}") from None


def parse_version(text: str) -> tuple[int, int, int]:
    m = _VERSION.match(text)
    if not m:
        raise ValueError(f"unrecognised Elasticsearch version {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def server_version(client: Elasticsearch) -> tuple[int, int, int]:
    """The server's version. ``GET /`` first; a server without it (the integ-test
    distribution has no ``rest-root`` module) answers through the node info API."""
    try:
        return parse_version(str(client.info()["version"]["number"]))
    except ApiError as exc:
        if exc.status_code not in (400, 404, 405):
            raise
    body = client.nodes.info(node_id="_local", metric="_none",
                             filter_path="nodes.*.version").body
    versions = [str(n["version"]) for n in body.get("nodes", {}).values()]
    if not versions:
        raise ValueError("the server did not report its version")
    return parse_version(versions[0])


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries, if any."""
    if isinstance(exc, ApiError):
        return int(exc.status_code)
    meta = getattr(exc, "meta", None)
    status = getattr(meta, "status", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> ErrorKind:
    """What an exception means for a writer: ``unavailable`` (try again later: no
    connection, timeout, 429, 5xx), ``rejected`` (400: the request itself is bad),
    ``auth`` (401, 403) or ``other``."""
    if isinstance(exc, TransportConnectionError | ConnectionTimeout | OSError | TimeoutError):
        return "unavailable"
    status = status_of(exc)
    if status is None:
        return "other"
    if status in (408, 429) or status >= 500:
        return "unavailable"
    if status == 400:
        return "rejected"
    if status in (401, 403):
        return "auth"
    return "other"


def describe(exc: BaseException) -> str:
    """One line for a user: what went wrong talking to Elasticsearch (no secrets: the
    client's messages carry none)."""
    if isinstance(exc, ConnectionTimeout):
        return "timed out"
    if isinstance(exc, TransportConnectionError):
        text = " ".join(str(getattr(exc, "message", "") or exc).split())
        errno = _ERRNO.search(text)
        return f"cannot connect ({errno.group(1).strip()})" if errno else \
            f"cannot connect: {text[:300]}"
    if isinstance(exc, ApiError):
        error = exc.body.get("error") if isinstance(exc.body, dict) else None
        reason = ""
        if isinstance(error, dict):
            reason = str(error.get("reason") or error.get("type") or "")
        elif error:
            reason = str(error)
        reason = reason or str(exc.message)
        return f"HTTP {exc.status_code}: {' '.join(reason.split())[:300]}"
    if isinstance(exc, TransportError):
        return " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
