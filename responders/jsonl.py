"""One compact JSON document per line: alerts (and optionally every event) as ECS.

Configured as::

    responders:
      out: {type: jsonl, path: "-", events: false, fsync: false}

``path: "-"`` is standard output (what ``ronda replay --output jsonl`` prints); another
path is resolved like every config path (relative to the config file) and appended to.
An alert update (same id, larger count) is written again as a whole document with the
same ``event.id``: readers keep the last line per id. With ``events: true`` every raw
event is written too (``event.kind: event``), as :meth:`ronda.schema.Event.to_ecs`.
Write errors propagate (the pipeline counts them in ``errors``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, Literal, TextIO

from ronda.component import Context, Responder, ResponderConfig
from ronda.schema import Alert, Event

STDOUT = "-"


class JsonlConfig(ResponderConfig):
    type: Literal["jsonl"]
    path: str = STDOUT
    """``-`` for standard output, else a file (appended to)."""
    events: bool = False
    """Also write every raw event as an ECS document."""
    fsync: bool = False
    """On flush, sync the file to disk (not for standard output)."""


class JsonlResponder(Responder):
    """Writes ECS documents as JSON lines to a file or standard output."""

    config_model = JsonlConfig
    config: JsonlConfig

    def __init__(self, name: str, config: JsonlConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self.wants_events = config.events
        self.path = None if config.path == STDOUT else ctx.resolve(config.path)
        self._file: TextIO | None = None
        self._lock = threading.Lock()
        m = ctx.metrics
        self._received = m.received.labels(component=name)
        self._emitted = m.emitted.labels(component=name)

    def handle(self, alerts: Sequence[Alert]) -> None:
        self._received.inc(len(alerts))
        floor = self.config.min_severity.rank
        docs = [a.to_ecs() for a in alerts if a.severity.rank >= floor]
        self._write(docs)

    def handle_events(self, events: Sequence[Event]) -> None:
        if not self.config.events:
            return
        self._write([e.to_ecs(self.ctx.sensor) for e in events])

    def flush(self) -> None:
        with self._lock:
            out = self._file if self.path is not None else sys.stdout
            if out is None:
                return
            out.flush()
            if self.config.fsync and self.path is not None:
                os.fsync(out.fileno())

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _write(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        ascii_only = self.path is None  # standard output: safe whatever the locale
        text = "".join(
            json.dumps(d, separators=(",", ":"), ensure_ascii=ascii_only, default=str) + "\n"
            for d in docs
        )
        with self._lock:
            self._output().write(text)
        self._emitted.inc(len(docs))

    def _output(self) -> TextIO:
        if self.path is None:
            return sys.stdout
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(  # noqa: SIM115 - kept open across calls, closed in close()
                self.path, "a", encoding="utf-8", errors="backslashreplace"
            )
        return self._file
