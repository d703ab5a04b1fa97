"""The ``file`` source: read a log file once, start to end (``ronda replay``).

Gzip-compressed files (``.gz``) are read transparently. Lines longer than the cap are cut
and counted; invalid UTF-8 is replaced and counted; unparseable lines are counted and
skipped. The position is the byte offset after the last emitted line.
"""

from __future__ import annotations

import gzip
import heapq
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from ronda.clock import SystemClock
from ronda.component import Context, Emit, Source, SourceConfig
from ronda.errors import InputError
from ronda.schema import Event
from sensor.parsers import FORMATS, LogFormat, Parser, make_parser

GUESS_LINES = 50
MERGE_BATCH = 2000


class ReplayFileConfig(SourceConfig):
    type: Literal["file"] = "file"
    path: str
    format: LogFormat
    max_line_bytes: int = 65536
    batch_lines: int = 2000



def open_log(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb", buffering=1 << 20)


def guess_format(path: Path, clock: Any) -> str | None:
    """The format whose parser accepts most of the first lines, or None."""
    try:
        with open_log(path) as fh:
            lines = [fh.readline(65536).decode("utf-8", "replace").rstrip("\r\n")
                     for _ in range(GUESS_LINES)]
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    lines = [ln for ln in lines if ln]
    if not lines:
        return None
    best, best_hits = None, 0
    for fmt in FORMATS:
        parser = make_parser(fmt, clock)
        hits = sum(1 for ln in lines if parser(ln) is not None)
        if hits > best_hits:
            best, best_hits = fmt, hits
    return best


class ReplayFileSource(Source):
    config_model = ReplayFileConfig
    finite = True

    def __init__(self, name: str, config: ReplayFileConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self.path = ctx.resolve(config.path)
        # Wall time, not the replay clock: it gives the year of classic syslog stamps.
        self.parser: Parser = make_parser(config.format, SystemClock())

    def run(self, emit: Emit, stop: threading.Event) -> None:
        for batch, offset in self.batches(stop):
            emit(batch, {"path": str(self.path), "offset": offset})

    def batches(self, stop: threading.Event) -> Iterator[tuple[list[Event], int]]:
        """Batches of events with the byte offset after each; InputError when unreadable."""
        try:
            yield from self._read(stop)
        except (OSError, EOFError, zlib.error) as exc:  # unreadable, corrupt compressed data
            raise InputError(f"{self.path}: cannot read: {exc}") from None

    def _read(self, stop: threading.Event) -> Iterator[tuple[list[Event], int]]:
        m = self.ctx.metrics
        received = m.received.labels(component=self.name)
        emitted = m.emitted.labels(component=self.name)
        parse_errors = m.dropped.labels(component=self.name, reason="parse_error")
        truncated = m.truncated.labels(source=self.name)
        decode_errors = m.decode_errors.labels(source=self.name)
        cap = self.config.max_line_bytes
        parse = self.parser
        name = self.name
        offset = 0
        with open_log(self.path) as fh:
            while not stop.is_set():
                batch: list[Event] = []
                nlines = bad = cut = 0
                for _ in range(self.config.batch_lines):
                    raw = fh.readline(cap + 1)
                    if not raw:
                        break
                    offset += len(raw)
                    if not raw.endswith(b"\n") and len(raw) > cap:
                        raw = raw[:cap]
                        cut += 1
                        offset += _skip_rest(fh)
                    nlines += 1
                    try:
                        line = raw.decode("utf-8").rstrip("\r\n")
                    except UnicodeDecodeError:
                        line = raw.decode("utf-8", "replace").rstrip("\r\n")
                        decode_errors.inc()
                    if not line:
                        continue
                    ev = parse(line)
                    if ev is None:
                        bad += 1
                        continue
                    ev.source = name
                    batch.append(ev)
                if nlines == 0:
                    break
                received.inc(nlines)
                emitted.inc(len(batch))
                if bad:
                    parse_errors.inc(bad)
                if cut:
                    truncated.inc(cut)
                yield batch, offset


class MergedReplaySource(Source):
    """Several files replayed as one stream in timestamp order (a k-way merge; each file
    is in time order, as logs are). Detection windows then see one consistent event
    time, as they would have live, however different the files' time ranges are."""

    finite = True

    def __init__(self, parts: list[ReplayFileSource], ctx: Context) -> None:
        super().__init__("replay", parts[0].config, ctx)
        self.parts = parts

    def run(self, emit: Emit, stop: threading.Event) -> None:
        streams = [_events(p.batches(stop)) for p in self.parts]
        batch: list[Event] = []
        for ev in heapq.merge(*streams, key=lambda e: e.timestamp):
            batch.append(ev)
            if len(batch) >= MERGE_BATCH:
                emit(batch, None)
                batch = []
        if batch:
            emit(batch, None)


def _events(batches: Iterator[tuple[list[Event], int]]) -> Iterator[Event]:
    for batch, _ in batches:
        yield from batch


def _skip_rest(fh: IO[bytes]) -> int:
    """Discard the remainder of an over-long line, up to and including its newline."""
    skipped = 0
    while True:
        chunk = fh.readline(1 << 16)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
