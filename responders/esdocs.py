"""What the elasticsearch responder writes: target data streams, document ids, and the
spool record that carries one document.

A spool record's payload is ``<kind>\\t<count>\\t<data stream>\\t<id>\\t<document JSON>``:
the kind is ``a`` (alert) or ``e`` (event), the count is the alert's ``ronda.count``; the
document is sent to Elasticsearch byte for byte, never parsed again. (JSON text never
holds a raw tab or newline, and the other parts cannot, so the split is unambiguous.)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from ronda.schema import Alert, Event

ALERT_DATASET = "ronda.alert"
Kind = Literal["a", "e"]
_UNSAFE = re.compile(r"[^a-z0-9_.]+")
_NAME = re.compile(rb"^[A-Za-z0-9._+-]{1,255}$")


def alert_stream(namespace: str) -> str:
    """``logs-ronda.alert-<namespace>``."""
    return f"logs-{ALERT_DATASET}-{namespace}"


def event_dataset(dataset: str) -> str:
    """``ronda.<dataset>``, lower case, only ``[a-z0-9_.]`` (a data stream name part)."""
    cleaned = _UNSAFE.sub("_", dataset.lower()).strip("._") or "unknown"
    return f"ronda.{cleaned}"


def event_stream(dataset: str, namespace: str) -> str:
    """``logs-ronda.<dataset>-<namespace>``."""
    return f"logs-{event_dataset(dataset)}-{namespace}"


def event_id(event: Event, sensor: str) -> str:
    """A deterministic id, so that an event read twice (a restart after a crash resumes
    from the last checkpoint) is written once. Identity: sensor, source, dataset,
    timestamp, message, and the file and offset it was read from when there is one.
    Two events that agree on all of these (possible only without a file offset, e.g. two
    identical syslog datagrams in the same millisecond) are stored once."""
    parts = (sensor, event.source, event.dataset, repr(event.timestamp), event.message,
             str(event.fields.get("log.file.path", "")), str(event.fields.get("log.offset", "")))
    ident = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(ident).hexdigest()[:40]


def sampled(doc_id: str, rate: float) -> bool:
    """Whether an event is kept at ``rate`` (0 < rate <= 1). Decided by its id, so the
    same event is kept (or not) however often it is read."""
    return rate >= 1.0 or int(doc_id[:8], 16) < rate * 0x1_0000_0000


def data_stream_fields(dataset: str, namespace: str) -> dict[str, str]:
    return {"type": "logs", "dataset": dataset, "namespace": namespace}


def dump(doc: dict[str, Any]) -> bytes:
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.encode("utf-8", "replace")  # a lone surrogate becomes '?', never a failure


def alert_doc(alert: Alert, namespace: str) -> dict[str, Any]:
    doc = alert.to_ecs()
    doc["data_stream"] = data_stream_fields(ALERT_DATASET, namespace)
    return doc


def event_doc(event: Event, sensor: str, namespace: str) -> dict[str, Any]:
    doc = event.to_ecs(sensor)
    doc["data_stream"] = data_stream_fields(event_dataset(event.dataset), namespace)
    return doc


def encode(kind: Kind, index: str, doc_id: str, doc: bytes, count: int = 0) -> bytes:
    """``<kind>\t<count>\t<index>\t<id>\t<document>``: split with one call, no JSON."""
    return b"\t".join((kind.encode(), str(count).encode(), index.encode("utf-8"),
                       doc_id.encode("utf-8"), doc))


@dataclass(frozen=True)
class SpoolDoc:
    kind: Kind
    index: str
    doc_id: str
    count: int  # ronda.count of an alert (0 for events)
    body: bytes  # the JSON document
    backing: str = ""  # the backing index holding the stored copy (after a 409)

    def action(self) -> bytes:
        """The bulk ``create`` line. Data stream names and ids need no JSON escaping
        (``[a-z0-9._-]`` and hex), which :func:`decode` checks."""
        return b'{"create":{"_index":"%s","_id":"%s"}}' % (self.index.encode(),
                                                         self.doc_id.encode())


def decode(payload: bytes) -> SpoolDoc:
    """The document a spool record carries; ValueError when the record is damaged."""
    parts = payload.split(b"\t", 4)
    if len(parts) != 5:
        raise ValueError("not a document record")
    kind, count, index, doc_id, body = parts
    if kind not in (b"a", b"e") or not body.startswith(b"{") or not body.endswith(b"}"):
        raise ValueError("not a document record")
    if not _NAME.match(index) or not _NAME.match(doc_id):
        raise ValueError("bad index or id in a record")
    return SpoolDoc("a" if kind == b"a" else "e", index.decode(), doc_id.decode(),
                    int(count), body)
