"""One delivery round of the elasticsearch responder: a batch of spooled documents, in
order, through the bulk API; what to acknowledge, what to dead-letter, where to resume.

Every document goes as ``create`` with its deterministic id, so a retried write never
makes a second copy. Per document:

* created (2xx) -> delivered.
* 409 on an event -> it is already there: delivered.
* 409 on an alert -> a document with this id is already in the stream's write index:
  the first write of this alert, or an earlier attempt of this very write. Data streams
  accept only ``create``, so the alert's update (same id, larger ``ronda.count``) is
  applied to the backing index the 409 names: a real-time ``mget`` reads the stored
  count, and when ours is larger the document is replaced with a conditional ``index``
  (``if_seq_no``/``if_primary_term``; a concurrent change makes it read again). A stored
  count as large or larger means nothing to do. One document per alert, newest count.
* 400 (mapping conflict, unparsable value, ...) -> the dead-letter file, and go on.
* anything else (429, 5xx, 401/403, 404 no data stream template, a closed index, a
  connection error or timeout): stop there. Everything before it is acknowledged; the
  caller backs off and resumes from that document.

The request body is joined from the spooled bytes and sent with ``client.bulk`` (the
``streaming_bulk`` helper would serialise every action line again and, on a whole-request
error, report the batch in its own terms; here each document's answer is needed as is).
``require_data_stream`` keeps a missing template from creating a plain index under the
stream's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch

from responders.deadletter import DeadLetter
from responders.esconn import classify, describe
from responders.esdocs import SpoolDoc
from responders.spool import Position

# 400s that say nothing about the document: stop and retry instead of dead-lettering.
NOT_THE_DOCUMENT = frozenset({
    "index_closed_exception", "cluster_block_exception", "index_not_found_exception",
    "security_exception", "no_shard_available_action_exception",
})
UPDATE_ATTEMPTS = 3
# Only what is read back: the answer of a 500-document bulk shrinks about fivefold.
FILTER = "errors,items.*.status,items.*.error,items.*._index"
EXCERPT = 300

Kind = Literal["unavailable", "rejected", "auth", "other", "too_large"]
Result = Literal["created", "existing", "updated", "dead"]


@dataclass(frozen=True)
class Item:
    end: Position  # spool position just after this record
    doc: SpoolDoc | None  # None: an unreadable spool record (acknowledged, never sent)


@dataclass(frozen=True)
class Failure:
    kind: Kind
    detail: str  # one line, no secrets: status, error type, reason


@dataclass
class Outcome:
    acked: Position | None = None  # acknowledge up to here (None: nothing)
    created: int = 0
    existing: int = 0  # already stored (same or newer version)
    updated: int = 0  # alert updates applied to a stored document
    skipped: int = 0  # unreadable spool records
    dead: list[DeadLetter] = field(default_factory=list)
    failure: Failure | None = None  # set: back off, resume after ``acked``

    @property
    def delivered(self) -> int:
        return self.created + self.existing + self.updated


@dataclass
class _Round:
    items: list[Item]
    results: dict[int, Result] = field(default_factory=dict)
    dead: dict[int, DeadLetter] = field(default_factory=dict)
    stop: int = -1  # first position that failed (-1: none)
    failure: Failure | None = None

    def fail(self, pos: int, failure: Failure) -> None:
        if self.stop < 0 or pos < self.stop:
            self.stop, self.failure = pos, failure


def deliver(client: Elasticsearch, items: Sequence[Item]) -> Outcome:
    """Send ``items`` in order; never raises for server or network trouble."""
    rnd = _Round(list(items))
    conflicts = _send(client, rnd)
    if conflicts:
        _resolve(client, rnd, [c for c in conflicts if rnd.stop < 0 or c < rnd.stop])
    return _outcome(rnd)


def _send(client: Elasticsearch, rnd: _Round) -> list[int]:
    """The bulk ``create`` request; returns the positions of alerts that got a 409."""
    sendable = [i for i, it in enumerate(rnd.items) if it.doc is not None]
    conflicts: list[int] = []
    if not sendable:
        return conflicts
    ops: list[Any] = []
    for pos in sendable:
        doc = rnd.items[pos].doc
        assert doc is not None
        ops += (doc.action(), doc.body)
    try:
        resp = client.bulk(operations=ops, require_data_stream=True, filter_path=FILTER)
    except ApiError as exc:  # the whole request refused (429, 503, 401, 413, ...)
        status = int(exc.status_code)
        first = rnd.items[sendable[0]].doc
        if status == 413 and len(sendable) == 1 and first is not None:
            _refused(rnd, sendable[0], first, status, {"error": _api_error(exc)}, batch=1)
        else:
            rnd.fail(sendable[0], Failure(_status_kind(status), describe(exc)))
        return conflicts
    except Exception as exc:  # connection refused, timeout, ...
        rnd.fail(sendable[0], Failure(_kind(exc), describe(exc)))
        return conflicts
    items = resp.body.get("items") or []
    if len(items) != len(sendable):
        rnd.fail(sendable[0], Failure("other", f"bulk answer with {len(items)} items for "
                                               f"{len(sendable)} documents"))
        return conflicts
    for pos, entry in zip(sendable, items, strict=True):
        item: dict[str, Any] = next(iter(entry.values()))
        doc = rnd.items[pos].doc
        assert doc is not None
        status = int(item.get("status", 500))
        if 200 <= status < 300:
            rnd.results[pos] = "created"
        elif status == 409 and doc.kind == "e":
            rnd.results[pos] = "existing"
        elif status == 409:
            conflicts.append(pos)
            rnd.items[pos] = Item(rnd.items[pos].end, _with_backing(doc, item))
        else:
            _refused(rnd, pos, doc, status, item, batch=len(sendable))
    return conflicts


def _api_error(exc: ApiError) -> dict[str, Any]:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error")
    return err if isinstance(err, dict) else {"type": "error", "reason": str(err or exc)}


def _with_backing(doc: SpoolDoc, item: dict[str, Any]) -> SpoolDoc:
    """Remember the backing index the 409 named (where the stored document is)."""
    backing = item.get("_index") or (item.get("error") or {}).get("index") or doc.index
    return SpoolDoc(doc.kind, doc.index, doc.doc_id, doc.count, doc.body, backing=str(backing))


def _refused(rnd: _Round, pos: int, doc: SpoolDoc, status: int, item: dict[str, Any],
             batch: int) -> None:
    etype, reason = _error(item)
    detail = f"HTTP {status} {etype}: {reason}"[:EXCERPT]
    if (status == 400 and etype not in NOT_THE_DOCUMENT) or (status == 413 and batch == 1):
        rnd.results[pos] = "dead"
        rnd.dead[pos] = DeadLetter(doc.index, doc.doc_id, status, etype, reason, doc.body)
    else:
        rnd.fail(pos, Failure(_status_kind(status), detail))


def _resolve(client: Elasticsearch, rnd: _Round, conflicts: list[int]) -> None:
    """Apply alert updates that met a stored document (see the module doc)."""
    newest: dict[tuple[str, str], int] = {}  # (backing index, id) -> position, max count
    for pos in conflicts:
        doc = rnd.items[pos].doc
        assert doc is not None
        key = (doc.backing or doc.index, doc.doc_id)
        other = newest.get(key)
        if other is None:
            newest[key] = pos
            continue
        other_doc = rnd.items[other].doc
        assert other_doc is not None
        keep, drop = (pos, other) if doc.count > other_doc.count else (other, pos)
        newest[key] = keep
        rnd.results[drop] = "existing"  # superseded by a newer update in this batch
    pending = sorted(newest.values())
    for _ in range(UPDATE_ATTEMPTS):
        if not pending:
            return
        try:
            pending = _update_round(client, rnd, pending)
        except Exception as exc:
            rnd.fail(pending[0], Failure(_kind(exc), describe(exc)))
            return
    if pending:
        rnd.fail(pending[0], Failure("other", "alert update kept conflicting with "
                                              "concurrent changes"))


def _update_round(client: Elasticsearch, rnd: _Round, pending: list[int]) -> list[int]:
    docs = [rnd.items[p].doc for p in pending]
    got = client.mget(docs=[{"_index": d.backing or d.index, "_id": d.doc_id}
                            for d in docs if d is not None],
                      realtime=True, source_includes=["ronda.count"])
    ops: list[Any] = []
    sent: list[int] = []
    for pos, doc, stored in zip(pending, docs, got.body.get("docs", []), strict=False):
        assert doc is not None
        if not stored.get("found"):
            # deleted since the 409: write it again as new
            ops += [{"create": {"_index": doc.index, "_id": doc.doc_id}}, doc.body]
        elif _stored_count(stored) >= doc.count:
            rnd.results[pos] = "existing"
            continue
        else:
            ops += [{"index": {"_index": stored["_index"], "_id": doc.doc_id,
                               "if_seq_no": stored["_seq_no"],
                               "if_primary_term": stored["_primary_term"]}}, doc.body]
        sent.append(pos)
    if not ops:
        return []
    resp = client.bulk(operations=ops)
    again: list[int] = []
    for pos, entry in zip(sent, resp.body.get("items", []), strict=False):
        item: dict[str, Any] = next(iter(entry.values()))
        doc = rnd.items[pos].doc
        assert doc is not None
        status = int(item.get("status", 500))
        if 200 <= status < 300:
            rnd.results[pos] = "updated"
        elif status == 409:
            again.append(pos)  # changed in between: read it again
        else:
            _refused(rnd, pos, doc, status, item, batch=1)
    return again


def _stored_count(stored: dict[str, Any]) -> int:
    count = ((stored.get("_source") or {}).get("ronda") or {}).get("count", 0)
    return count if isinstance(count, int) else 0


def _outcome(rnd: _Round) -> Outcome:
    end = len(rnd.items) if rnd.stop < 0 else rnd.stop
    out = Outcome(failure=rnd.failure)
    for pos in range(end):
        if rnd.items[pos].doc is None:
            out.skipped += 1
            continue
        result = rnd.results.get(pos)
        if result is None:  # an alert update not settled: resume from it
            out.failure = out.failure or Failure("other", "alert update not settled")
            end = pos
            break
        if result == "dead":
            out.dead.append(rnd.dead[pos])
        elif result == "created":
            out.created += 1
        elif result == "existing":
            out.existing += 1
        else:
            out.updated += 1
    if end > 0:
        out.acked = rnd.items[end - 1].end
    return out


def _error(item: dict[str, Any]) -> tuple[str, str]:
    err = item.get("error")
    if isinstance(err, dict):
        etype = str(err.get("type", "error"))
        reason = str(err.get("reason", ""))
        caused = err.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            reason = f"{reason} (caused by {caused.get('type', 'error')}: {caused['reason']})"
        return etype, reason
    return "error", str(err or "")[:EXCERPT]


def _status_kind(status: int) -> Kind:
    if status == 429 or status >= 500:
        return "unavailable"
    if status in (401, 403):
        return "auth"
    if status == 413:
        return "too_large"
    return "other"


def _kind(exc: BaseException) -> Kind:
    kind = classify(exc)
    return kind if kind in ("unavailable", "rejected", "auth", "other") else "other"

