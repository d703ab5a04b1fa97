"""Put Ronda's templates (and ILM policies, where the server has ILM) on Elasticsearch,
idempotently; and report their state for ``ronda es check``.

Works on a server without ILM, ingest pipelines or the data-streams APIs (the integ-test
distribution): it uses only the template APIs, ``GET _ilm/status`` to decide about ILM,
``_resolve/index`` and ``_count``.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch

from responders.esconn import describe
from responders.estemplates import NOUN, EsObject, desired_objects

Status = Literal["created", "updated", "unchanged", "skipped", "kept"]
State = Literal["ok", "missing", "outdated", "differs", "skipped"]


@dataclass(frozen=True)
class SetupResult:
    """What setup did to one object."""

    kind: str
    name: str
    status: Status
    detail: str = ""

    @property
    def line(self) -> str:
        text = f"{self.kind} {self.name}: {self.status}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class ObjectState:
    """How one object on the server compares with Ronda's."""

    kind: str
    name: str
    state: State
    detail: str = ""

    @property
    def line(self) -> str:
        text = f"{self.kind} {self.name}: {self.state}"
        return f"{text} ({self.detail})" if self.detail else text


def ilm_status(client: Elasticsearch) -> tuple[bool, str]:
    """(available, why not). A server without ILM answers ``GET _ilm/status`` with 400,
    404, 405 or 410 (serverless); 401/403 means it may have ILM but we may not use it."""
    try:
        body = client.ilm.get_status().body
    except ApiError as exc:
        if exc.status_code in (401, 403):
            return False, f"ILM status not readable: {describe(exc)}"
        if 400 <= exc.status_code < 500:
            return False, "no ILM"
        raise
    return "operation_mode" in body, "no ILM"


def _current(client: Elasticsearch, obj: EsObject) -> dict[str, Any] | None:
    """The object's body on the server, None if absent."""
    es = client.options(ignore_status=404)
    if obj.kind == "ilm_policy":
        body = es.ilm.get_lifecycle(name=obj.name).body
        entry = body.get(obj.name) if isinstance(body, dict) else None
        return entry.get("policy") if isinstance(entry, dict) else None
    if obj.kind == "component_template":
        body = es.cluster.get_component_template(name=obj.name).body
        items = body.get("component_templates") or []
        return items[0]["component_template"] if items else None
    body = es.indices.get_index_template(name=obj.name).body
    items = body.get("index_templates") or []
    return items[0]["index_template"] if items else None


def _put(client: Elasticsearch, obj: EsObject) -> None:
    b = obj.body
    if obj.kind == "ilm_policy":
        client.ilm.put_lifecycle(name=obj.name, policy=b)
    elif obj.kind == "component_template":
        client.cluster.put_component_template(name=obj.name, template=b["template"],
                                              meta=b["_meta"])
    else:
        client.indices.put_index_template(
            name=obj.name, index_patterns=b["index_patterns"], priority=b["priority"],
            data_stream=b["data_stream"], composed_of=b["composed_of"],
            template=b.get("template"), meta=b["_meta"])


def _hash_on_server(current: dict[str, Any] | None) -> str | None:
    if current is None:
        return None
    meta = current.get("_meta")
    return str(meta.get("content_hash")) if isinstance(meta, dict) else ""


def ensure_setup(client: Elasticsearch, log: logging.Logger,
                 ilm: bool | None = None) -> list[SetupResult]:
    """Make the server hold Ronda's objects; one result per object. Templates that
    differ are replaced; an ILM policy that differs (edited on the server) is kept.
    ``ilm``: None asks the server. Raises the client's errors (TransportError, ApiError)."""
    reason = ""
    if ilm is None:
        ilm, reason = ilm_status(client)
    objects = desired_objects(ilm)
    results: list[SetupResult] = []
    if not ilm:
        results += [SetupResult(NOUN[o.kind], o.name, "skipped", reason or "no ILM")
                    for o in desired_objects(True) if o.kind == "ilm_policy"]
    for obj in objects:
        noun = NOUN[obj.kind]
        have = _hash_on_server(_current(client, obj))
        if have == obj.content_hash:
            results.append(SetupResult(noun, obj.name, "unchanged"))
        elif have is not None and obj.kind == "ilm_policy":
            results.append(SetupResult(noun, obj.name, "kept",
                                       "differs from Ronda's; delete it to have it replaced"))
        else:
            _put(client, obj)
            results.append(SetupResult(noun, obj.name,
                                       "created" if have is None else "updated"))
    for r in results:
        log.log(logging.DEBUG if r.status in ("unchanged", "skipped") else logging.INFO,
                "elasticsearch: %s", r.line)
    return results


def inspect_setup(client: Elasticsearch, ilm: bool) -> list[ObjectState]:
    """Compare the server's objects with Ronda's, changing nothing."""
    states: list[ObjectState] = []
    for obj in desired_objects(ilm):
        noun = NOUN[obj.kind]
        have = _hash_on_server(_current(client, obj))
        if have is None:
            states.append(ObjectState(noun, obj.name, "missing"))
        elif have == obj.content_hash:
            states.append(ObjectState(noun, obj.name, "ok"))
        elif obj.kind == "ilm_policy":
            states.append(ObjectState(noun, obj.name, "differs", "edited on the server"))
        else:
            states.append(ObjectState(noun, obj.name, "outdated"))
    return states


def winning_template(client: Elasticsearch, stream: str) -> tuple[str | None, int]:
    """The composable index template with the highest priority matching ``stream``."""
    body = client.options(ignore_status=404).indices.get_index_template().body
    best: tuple[str | None, int] = (None, -1)
    for item in body.get("index_templates") or []:
        tpl = item["index_template"]
        if any(fnmatch.fnmatchcase(stream, p) for p in tpl.get("index_patterns", [])):
            prio = int(tpl.get("priority") or 0)
            if prio > best[1]:
                best = (str(item["name"]), prio)
    return best


def stream_doc_count(client: Elasticsearch, stream: str) -> int | None:
    """Documents in a data stream via ``_count`` (no stats API needed); None if absent."""
    resolved = client.options(ignore_status=404).indices.resolve_index(
        name=stream, expand_wildcards="all").body
    if not any(d.get("name") == stream for d in resolved.get("data_streams") or []):
        return None
    return int(client.count(index=stream)["count"])

