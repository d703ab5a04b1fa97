"""Kibana's saved-objects import API: read the shipped NDJSON files, POST them as one
multipart request, and read the answer. Standard library only (``http.client``).

Environment proxies are not used, as for Alertmanager: Kibana is normally reached
directly from the monitoring host.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

IMPORT_PATH = "/api/saved_objects/_import"
EXCERPT = 300
SPACE_ID = re.compile(r"^[a-z0-9_-]+$")


class KibanaError(Exception):
    """Kibana could not be reached, or refused the request as a whole (one line)."""


@dataclass(frozen=True)
class ObjectError:
    """One object Kibana did not import."""

    type: str
    id: str
    title: str
    error_type: str
    detail: str = ""

    def line(self) -> str:
        title = f" {self.title!r}" if self.title else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.type} {self.id}{title}: {self.error_type}{detail}"


@dataclass(frozen=True)
class ImportResult:
    success: bool
    success_count: int
    errors: tuple[ObjectError, ...] = ()
    warnings: tuple[str, ...] = ()


def check_url(url: str) -> str:
    """A valid Kibana base URL (``http(s)://HOST[:PORT][/basepath]``) without its trailing
    slash, or ValueError."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"invalid Kibana URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"invalid Kibana URL {url!r} (expected http://HOST:5601 or https://...)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the Kibana URL must not contain credentials; use --username and "
                         "--password-file, or --api-key-file")
    if parts.query or parts.fragment:
        raise ValueError(f"invalid Kibana URL {url!r}: no query or fragment allowed")
    return text.rstrip("/")


def check_space(space: str) -> str:
    if not SPACE_ID.match(space):
        raise ValueError(f"invalid Kibana space id {space!r} (lowercase letters, digits, "
                         "'_' and '-')")
    return space


def import_path(base_path: str, space: str | None, overwrite: bool) -> str:
    """``[basepath][/s/SPACE]/api/saved_objects/_import[?overwrite=true]``; the default
    space has no ``/s/`` prefix."""
    prefix = base_path.rstrip("/")
    if space and space != "default":
        prefix += f"/s/{quote(space, safe='')}"
    return prefix + IMPORT_PATH + ("?overwrite=true" if overwrite else "")


def read_ndjson(files: list[Path]) -> tuple[bytes, int]:
    """The files' objects as one NDJSON body (blank lines dropped) and how many there are.
    ValueError names the file and line of anything that is not one JSON object a line."""
    lines: list[bytes] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot be read: {exc}") from None
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from None
            if not isinstance(obj, dict) or "type" not in obj or "id" not in obj:
                raise ValueError(f"{path}:{number}: not a saved object (type and id)")
            lines.append(line.strip().encode("utf-8"))
    return b"\n".join(lines) + b"\n", len(lines)


def multipart(filename: str, content: bytes, boundary: str | None = None) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file field named ``file``; returns the body
    and its Content-Type."""
    mark = boundary or f"ronda-{uuid.uuid4().hex}"
    head = (f"--{mark}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/ndjson\r\n\r\n").encode("ascii")
    body = head + content + f"\r\n--{mark}--\r\n".encode("ascii")
    return body, f"multipart/form-data; boundary={mark}"


@dataclass(frozen=True)
class Connection:
    """Where Kibana is and how to authenticate (``authorization``: a full header value)."""

    url: str
    authorization: str | None = None
    ca_file: str | None = None
    timeout: float = 60.0


def post_import(conn: Connection, ndjson: bytes, space: str | None,
                overwrite: bool) -> ImportResult:
    """POST the objects; KibanaError if Kibana is unreachable or refuses the request."""
    parts = urlsplit(conn.url)
    host = parts.hostname or ""
    client: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=conn.ca_file)
        client = http.client.HTTPSConnection(host, parts.port or 443, timeout=conn.timeout,
                                             context=context)
    else:
        client = http.client.HTTPConnection(host, parts.port or 80, timeout=conn.timeout)
    body, content_type = multipart("ronda.ndjson", ndjson)
    headers = {"Content-Type": content_type, "Accept": "application/json",
               "kbn-xsrf": "true", "User-Agent": "ronda-kibana-import"}
    if conn.authorization:
        headers["Authorization"] = conn.authorization
    path = import_path(parts.path, space, overwrite)
    try:
        client.request("POST", path, body=body, headers=headers)
        resp = client.getresponse()
        status, data = resp.status, resp.read()
    except ssl.SSLError as exc:
        raise KibanaError(f"TLS error talking to Kibana at {conn.url}: {exc}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise KibanaError(f"Kibana at {conn.url} is unreachable: {_describe(exc, conn)}") from None
    finally:
        client.close()
    return parse_response(status, data)


def parse_response(status: int, data: bytes) -> ImportResult:
    """The import API's answer, or KibanaError for an HTTP error or a body that is not one."""
    text = data.decode("utf-8", "replace")
    try:
        doc: Any = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        doc = None
    if status != 200:
        detail = _message(doc) or " ".join(text.split())[:EXCERPT]
        hint = {401: " (check --username/--password-file or --api-key-file)",
                403: " (the user may not import saved objects here)",
                404: " (wrong URL or base path, or no such space)"}.get(status, "")
        suffix = f": {detail}" if detail else ""
        raise KibanaError(f"Kibana answered HTTP {status}{hint}{suffix}")
    if not isinstance(doc, dict) or "success" not in doc:
        raise KibanaError("Kibana's answer is not an import result: "
                          + " ".join(text.split())[:EXCERPT])
    errors = tuple(_error(e) for e in doc.get("errors") or [] if isinstance(e, dict))
    warnings = tuple(str(w.get("message", w)) if isinstance(w, dict) else str(w)
                     for w in doc.get("warnings") or [])
    return ImportResult(bool(doc["success"]), int(doc.get("successCount") or 0), errors,
                        warnings)


def _error(err: dict[str, Any]) -> ObjectError:
    meta = err.get("meta") if isinstance(err.get("meta"), dict) else {}
    title = str(err.get("title") or (meta or {}).get("title") or "")
    body = err.get("error") if isinstance(err.get("error"), dict) else {}
    error_type = str((body or {}).get("type") or "unknown")
    detail = ""
    refs = (body or {}).get("references")
    if error_type == "missing_references" and isinstance(refs, list):
        detail = "missing " + ", ".join(
            f"{r.get('type')} {r.get('id')}" for r in refs if isinstance(r, dict))
    elif error_type == "conflict":
        detail = "exists already; import with --overwrite"
    elif (body or {}).get("message"):
        detail = str((body or {})["message"])
    return ObjectError(str(err.get("type", "?")), str(err.get("id", "?")), title, error_type,
                        detail)


def _message(doc: Any) -> str:
    if isinstance(doc, dict):
        return " ".join(str(doc.get(k, "")) for k in ("error", "message") if doc.get(k))
    return ""


def _describe(exc: BaseException, conn: Connection) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {conn.timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
