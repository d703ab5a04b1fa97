"""The dead-letter file: documents a server refused as malformed, one JSON line each.

Each line holds the time, the responder, the target index, the document id, the HTTP
status, the error type and reason the server gave, and the document itself, so a person
can fix the mapping or the data and send it again. Lines are appended and fsync'd before
:meth:`DeadLetters.write` returns (the spool acks the records only then). When the file
passes ``max_bytes`` it is renamed to ``<path>.1`` (replacing an older one) and a new file
starts, so a server that refuses everything cannot fill the disk.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ronda.clock import Clock
from ronda.schema import iso_time


@dataclass(frozen=True)
class DeadLetter:
    index: str
    doc_id: str
    status: int
    error_type: str
    reason: str
    document: bytes  # the JSON document as it was sent


class DeadLetters:
    def __init__(self, path: Path, responder: str, clock: Clock,
                 max_bytes: int = 100 * 1024 * 1024) -> None:
        self.path = path
        self.responder = responder
        self.clock = clock
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def write(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        now = iso_time(self.clock.now())
        lines = b"".join(self._line(now, d) for d in letters)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._rotate_if_full()
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                view = memoryview(lines)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)

    def _line(self, now: str, d: DeadLetter) -> bytes:
        try:
            document: Any = json.loads(d.document)
        except ValueError:
            document = d.document.decode("utf-8", "replace")
        entry = {"@timestamp": now, "responder": self.responder, "index": d.index,
                 "id": d.doc_id, "status": d.status,
                 "error": {"type": d.error_type, "reason": d.reason}, "document": document}
        text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode("utf-8", "replace") + b"\n"

    def _rotate_if_full(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size >= self.max_bytes:
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
