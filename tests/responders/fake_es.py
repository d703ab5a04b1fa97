"""A stand-in Elasticsearch for unit tests: a real :class:`Elasticsearch` client whose
transport node answers from memory (the real client, helpers and serialisers run).

It knows just enough: ``_bulk`` with ``create`` into data streams (one backing index each)
and conditional ``index`` into backing indices, real-time ``_mget``, and a field check
(``source.ip`` must be an IP address, like the ``ip`` mapping). Anything else answers
``{"acknowledged": true}``. Failures are scripted: ``down`` (connection refused),
``request_statuses`` (whole requests), ``item_statuses`` (per document id).
"""

from __future__ import annotations

import ipaddress
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch


@dataclass
class Stored:
    source: dict[str, Any]
    seq_no: int


@dataclass
class FakeEs:
    indices: dict[str, dict[str, Stored]] = field(default_factory=dict)  # backing -> docs
    down: bool = False
    request_statuses: list[int] = field(default_factory=list)  # next whole requests fail
    item_statuses: dict[str, list[int]] = field(default_factory=dict)  # doc id -> statuses
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, docs
    changed_once: set[str] = field(default_factory=set)  # ids: a conditional write 409s once
    vanish: set[str] = field(default_factory=set)  # ids deleted just before the next mget
    seq: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> Elasticsearch:
        server = self

        class Node(_FakeNode):
            fake = server

        return Elasticsearch("http://127.0.0.1:9200", node_class=Node, max_retries=0,
                             retry_on_timeout=False)

    @staticmethod
    def backing(stream: str) -> str:
        return f".ds-{stream}-000001"

    def docs(self, stream: str) -> dict[str, dict[str, Any]]:
        return {k: v.source for k, v in self.indices.get(self.backing(stream), {}).items()}

    def bulk_calls(self) -> list[int]:
        return [n for m, p, n in self.requests if p.endswith("/_bulk")]

    # request handling --------------------------------------------------------------------
    def handle(self, method: str, target: str, body: bytes | None) -> tuple[int, Any]:
        with self.lock:
            return self._handle(method, target, body)

    def _handle(self, method: str, target: str, body: bytes | None) -> tuple[int, Any]:
        path = urlsplit(target).path
        if self.down:
            raise TransportConnectionError("Connection refused (fake)")
        if self.request_statuses:
            status = self.request_statuses.pop(0)
            self.requests.append((method, path, 0))
            return status, {"error": {"type": "fake_exception", "reason": f"fake {status}"},
                            "status": status}
        if path.endswith("/_bulk"):
            lines = [json.loads(x) for x in (body or b"").splitlines() if x.strip()]
            self.requests.append((method, path, len(lines) // 2))
            items = [self._op(lines[i], lines[i + 1]) for i in range(0, len(lines), 2)]
            return 200, {"errors": any(next(iter(i.values()))["status"] >= 300 for i in items),
                         "took": 1, "items": items}
        self.requests.append((method, path, 0))
        if path.endswith("/_mget"):
            return 200, self._mget(json.loads(body or b"{}"), parse_qs(urlsplit(target).query))
        return 200, {"acknowledged": True}

    def _op(self, action: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        op, meta = next(iter(action.items()))
        index, doc_id = meta["_index"], meta["_id"]
        base = {"_index": index, "_id": doc_id}
        script = self.item_statuses.get(doc_id)
        if script:
            status = script.pop(0)
            return {op: {**base, "status": status,
                         "error": {"type": "fake_exception", "reason": f"fake {status}"}}}
        if op == "create":
            backing = self.backing(index)
            docs = self.indices.setdefault(backing, {})
            base["_index"] = backing
            if doc_id in docs:
                return {op: {**base, "status": 409, "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists",
                    "index": backing}}}
        else:
            docs = self.indices.get(index, {})
            cur = docs.get(doc_id)
            if doc_id in self.changed_once:  # someone else wrote it in between
                self.changed_once.discard(doc_id)
                self.seq += 1
                if cur is not None:
                    cur.seq_no = self.seq
            if cur is None or cur.seq_no != meta.get("if_seq_no"):
                return {op: {**base, "status": 409, "error": {
                    "type": "version_conflict_engine_exception", "reason": "seq_no"}}}
        bad = _mapping_error(source)
        if bad:
            return {op: {**base, "status": 400, "error": {
                "type": "document_parsing_exception", "reason": bad,
                "caused_by": {"type": "illegal_argument_exception", "reason": "not an IP"}}}}
        self.seq += 1
        docs[doc_id] = Stored(source, self.seq)
        return {op: {**base, "status": 201 if op == "create" else 200, "_seq_no": self.seq,
                     "_primary_term": 1, "result": "created" if op == "create" else "updated"}}

    def _mget(self, body: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        out = []
        for ref in body.get("docs", []):
            if ref["_id"] in self.vanish:
                self.vanish.discard(ref["_id"])
                self.indices.get(ref["_index"], {}).pop(ref["_id"], None)
            cur = self.indices.get(ref["_index"], {}).get(ref["_id"])
            entry: dict[str, Any] = {"_index": ref["_index"], "_id": ref["_id"],
                                     "found": cur is not None}
            if cur is not None:
                entry.update({"_seq_no": cur.seq_no, "_primary_term": 1,
                              "_source": {"ronda": {"count": cur.source.get("ronda", {})
                                                    .get("count")}}})
            out.append(entry)
        return {"docs": out}


def _mapping_error(source: dict[str, Any]) -> str | None:
    ip = (source.get("source") or {}).get("ip")
    if ip is None:
        return None
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return f"failed to parse field [source.ip] of type [ip]: {ip!r}"
    return None


class _FakeNode(BaseNode):
    fake: FakeEs
    _CLIENT_META_HTTP_CLIENT = ("fake", "1")

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: HttpHeaders | None = None,
                        request_timeout: Any = None) -> NodeApiResponse:
        status, payload = self.fake.handle(method, target, body)
        hdrs = HttpHeaders({"content-type": "application/json",
                            "x-elastic-product": "Elasticsearch"})
        meta = ApiResponseMeta(status=status, http_version="1.1", headers=hdrs,
                               duration=0.0, node=self.config)
        return NodeApiResponse(meta, json.dumps(payload).encode())
