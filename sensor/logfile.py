"""The ``logfile`` source: follow one log file (``tail -F``), parse its lines into Events.

Reading, rotation and positions live in :mod:`sensor.tail` (with :mod:`sensor.reader`
and :mod:`sensor.fileid`); waking up on changes in :mod:`sensor.watch`. This module
turns lines into Events, counts what happens and hands batches with their positions to
the pipeline. The position passed with every batch is the state *after* its last line::

    {"files": [{"path": "/var/log/nginx/access.log", "dev": 64769, "ino": 1234,
                "offset": 52311, "head_len": 256, "head_hash": "9f1c..."}, ...]}

The first entry is the file at the path (when there is one), the others are rotated
files still being read. ``offset`` is always at a line boundary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import field_validator

from ronda.component import Context, Emit, Source, SourceConfig
from ronda.durations import Duration
from ronda.schema import Event
from sensor.parsers import LogFormat, make_parser
from sensor.reader import Lines
from sensor.tail import RotationStyle, Tailer, parse_position
from sensor.watch import DirWatcher, ObserverLike, inotify_observer

_STOP_CHECK = 0.1  # seconds: how often an idle loop looks at ``stop``


class LogfileConfig(SourceConfig):
    type: Literal["logfile"]
    path: str
    format: LogFormat
    watch: Literal["auto", "inotify", "poll"] = "auto"
    poll_interval: Duration = 1.0
    max_line_bytes: int = 65536
    start_at: Literal["beginning", "end"] = "beginning"
    rotate_grace: Duration = 5.0
    batch_lines: int = 1000


    @field_validator("max_line_bytes", "batch_lines")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"must be at least 1, got {v}")
        return v

    @field_validator("poll_interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be more than 0")
        return v


class LogfileSource(Source):
    """Follows one file across rotations; see the module docstring."""

    config_model = LogfileConfig

    def __init__(self, name: str, config: Any, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        cfg: LogfileConfig = config
        self.cfg = cfg
        self.path = ctx.resolve(cfg.path)
        if self.path.is_dir():
            raise ValueError(f"path {str(self.path)!r} is a directory, not a log file")
        self._path_str = str(self.path)
        self._parse = make_parser(cfg.format, ctx.clock)
        self._restored: Any = None
        self.observer_factory: Callable[[], ObserverLike] = inotify_observer
        m = ctx.metrics
        self._received = m.received.labels(component=name)
        self._emitted = m.emitted.labels(component=name)
        self._parse_errors = m.dropped.labels(component=name, reason="parse_error")
        self._errors = m.errors.labels(component=name)
        self._truncated = m.truncated.labels(source=name)
        self._decode_errors = m.decode_errors.labels(source=name)
        self._lag = m.lag_bytes.labels(source=name, path=self._path_str)
        self._last_event = m.last_event.labels(source=name)

    def restore(self, position: Any) -> None:
        self._restored = position

    def run(self, emit: Emit, stop: threading.Event) -> None:
        cfg, log = self.cfg, self.ctx.log
        tailer = Tailer(
            self.path,
            max_line=cfg.max_line_bytes,
            grace=cfg.rotate_grace,
            start_at_end=cfg.start_at == "end",
            log=log,
            on_rotation=self._rotated,
        )
        if self._restored is not None:
            try:
                tailer.restore(parse_position(self._restored))
            except ValueError as exc:
                log.warning("%s: ignoring the saved position (%s)", self.name, exc)
        wake = threading.Event()
        watcher = DirWatcher(self.path, cfg.watch, wake, log, self.observer_factory)
        last: Any = None
        try:
            while not stop.is_set():
                watcher.ensure()
                try:
                    got = tailer.step(cfg.batch_lines)
                except OSError as exc:
                    self._errors.inc()
                    log.warning("%s: reading %s failed: %s", self.name, self.path, exc)
                    got = None
                self._lag.set(tailer.lag())
                if got is None:
                    _idle(wake, stop, cfg.poll_interval)
                    continue
                events = self._events(got)
                position = tailer.position()
                if events or position != last:
                    emit(events, position)
                    last = position
        finally:
            watcher.stop()
            tailer.close()

    def _rotated(self, style: RotationStyle) -> None:
        self.ctx.metrics.rotations.labels(source=self.name, style=style).inc()

    def _events(self, got: Lines) -> list[Event]:
        lines = got.lines
        if not lines:
            return []
        self._received.inc(len(lines))
        if got.cut:
            self._truncated.inc(got.cut)
        try:  # fast path: the whole batch is valid UTF-8
            texts = b"\n".join(lines).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            texts = [self._decode(line) for line in lines]
        parse, name, path = self._parse, self.name, got.path
        events: list[Event] = []
        for text, offset in zip(texts, got.offsets, strict=True):
            try:
                event = parse(text)
            except Exception:  # a parser bug must not stop the source
                event = None
            if event is None:
                self._parse_errors.inc()
                continue
            event.source = name
            event.fields["log.file.path"] = path
            event.fields["log.offset"] = offset
            events.append(event)
        if events:
            self._emitted.inc(len(events))
            self._last_event.set(self.ctx.clock.now())
        return events

    def _decode(self, line: bytes) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self._decode_errors.inc()
            return line.decode("utf-8", errors="replace")


def _idle(wake: threading.Event, stop: threading.Event, interval: float) -> None:
    """Wait for a change (``wake``), the poll interval or ``stop``, whichever is first."""
    deadline = time.monotonic() + interval
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or wake.wait(min(left, _STOP_CHECK)):
            break
    wake.clear()
