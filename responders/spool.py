"""A bounded, append-only disk spool: the write-ahead log of a network responder.

Records are lines (``<enqueue time>\\t<payload>\\n``) in segment files
``seg-000000000001.log``, ``seg-000000000002.log``, ... under one folder; a new segment
starts when the current one reaches ``segment_bytes``. A reader takes records from the
head in order (:meth:`Spool.read` does not consume them) and acknowledges a prefix with
:meth:`Spool.ack`, which saves the position in the ``cursor`` file (written to a temporary
file and renamed) and deletes the segments wholly before it. So undelivered records survive
a restart, and after a crash at worst a few delivered ones are read again.

fsync policies (a process crash never loses an appended record: writes are unbuffered):

``always``
    every append and every ack is fsync'd before the call returns.
``batch`` (default)
    every append is fsync'd before it returns; the cursor is fsync'd at most every
    ``fsync_interval`` and on :meth:`sync` (a power cut may make a few delivered records
    be read again, never lose one).
``interval``
    appends and the cursor are fsync'd at most every ``fsync_interval`` and on
    :meth:`sync` (a power cut may lose the records of the last interval).

A partial last line (a crash in the middle of a write) is cut off when the spool opens
and counted in :attr:`Spool.truncated`; a line that cannot be read (no enqueue time) is
skipped and counted in :attr:`Spool.corrupt`. When the spool holds ``max_bytes`` on disk,
:meth:`Spool.append` raises :class:`SpoolFull` and writes nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ronda.clock import Clock

FsyncPolicy = Literal["always", "batch", "interval"]

CURSOR = "cursor"
LOCK = "lock"
_SEGMENT = re.compile(r"^seg-(\d{12})\.log$")


class SpoolFull(Exception):
    """The spool holds ``max_bytes``; nothing was written."""


@dataclass(frozen=True, order=True)
class Position:
    """A place in the spool: a segment number and a byte offset in it."""

    segment: int
    offset: int


@dataclass(frozen=True)
class Record:
    time: float  # clock time when it was appended
    payload: bytes
    end: Position  # the position just after this record (what to ack)
    valid: bool = True  # False: an unreadable line (counted); ack it, never deliver it


def _name(segment: int) -> str:
    return f"seg-{segment:012d}.log"


class Spool:
    """Thread safety: one appending thread and one reading/acking thread at a time."""

    def __init__(self, path: Path, *, clock: Clock, max_bytes: int, segment_bytes: int,
                 fsync: FsyncPolicy = "batch", fsync_interval: float = 1.0) -> None:
        self.path = path
        self.clock = clock
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.policy = fsync
        self.fsync_interval = fsync_interval
        self.truncated = 0  # partial records cut off when opening
        self.corrupt = 0  # unreadable records skipped while reading
        self._lock = threading.Lock()
        self._sizes: dict[int, int] = {}  # segment number -> committed bytes, oldest first
        self._cursor = Position(0, 0)
        self._next_segment = 1
        self._tail_fd: int | None = None
        self._lock_fd: int | None = None
        self._tail = 0  # segment number open for appending, 0 = none
        self._data_dirty = False  # appended since the last fsync of the tail
        self._cursor_dirty = False
        self._last_data_sync = clock.now()
        self._last_cursor_sync = clock.now()
        self._head_time: float | None = None  # cached time of the first unacked record
        self._head_valid = False
        self._head_gen = 0  # bumped whenever the head may have changed
        self._open()

    # opening -----------------------------------------------------------------------------
    def _open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self._cursor = self._load_cursor()
        segments = sorted(int(m.group(1)) for p in self.path.iterdir()
                          if (m := _SEGMENT.match(p.name)))
        for seg in segments:
            file = self.path / _name(seg)
            if seg < self._cursor.segment:  # acked, deletion interrupted by a crash
                file.unlink(missing_ok=True)
                continue
            self._sizes[seg] = self._repair(file)
        last = max([*segments, self._cursor.segment], default=0)
        self._next_segment = last + 1
        # A cursor beyond what a (repaired) segment holds: clamp it.
        size = self._sizes.get(self._cursor.segment)
        if size is not None and self._cursor.offset > size:
            self._cursor = Position(self._cursor.segment, size)

    def _take_lock(self) -> None:
        """One process per spool: a second ``ronda`` on the same state folder would
        interleave writes."""
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ValueError(f"spool {self.path} is in use by another ronda process with "
                             "the same state folder (give this one its own --state-dir)"
                             ) from None
        self._lock_fd = fd

    def _load_cursor(self) -> Position:
        try:
            raw = json.loads((self.path / CURSOR).read_text(encoding="utf-8"))
            return Position(int(raw["segment"]), int(raw["offset"]))
        except FileNotFoundError:
            return Position(0, 0)
        except (OSError, ValueError, KeyError, TypeError):
            # Unreadable (a power cut during a rename without fsync): read from the first
            # segment again; records delivered twice are harmless for idempotent writers.
            return Position(0, 0)

    def _repair(self, file: Path) -> int:
        """Cut off a partial last line; return the size of the file."""
        with open(file, "r+b") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return size
            keep = 0
            pos = size
            while pos > 0:  # find the last newline, reading backwards in blocks
                step = min(65536, pos)
                pos -= step
                fh.seek(pos)
                block = fh.read(step)
                nl = block.rfind(b"\n")
                if nl >= 0:
                    keep = pos + nl + 1
                    break
            fh.truncate(keep)
            os.fsync(fh.fileno())
        self.truncated += 1
        return keep

    # appending ---------------------------------------------------------------------------
    def append(self, payloads: Sequence[bytes]) -> None:
        """Write ``payloads`` (no newlines in them) as records; durable per the policy.
        Raises :class:`SpoolFull` (writing nothing) when they would not fit."""
        if not payloads:
            return
        now = self.clock.now()
        stamp = f"{now:.3f}\t".encode("ascii")
        data = b"".join(stamp + p + b"\n" for p in payloads)
        with self._lock:
            used = sum(self._sizes.values())
            if used + len(data) > self.max_bytes:
                raise SpoolFull(f"spool {self.path} is full ({used} of {self.max_bytes} bytes)")
            fd = self._tail_for_append()
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            self._sizes[self._tail] += len(data)
            self._data_dirty = True
            if self.policy != "interval" or now - self._last_data_sync >= self.fsync_interval:
                self._sync_data(now)
            if self._head_time is None:  # it was empty: the head is new
                self._head_valid = False
                self._head_gen += 1

    def _tail_for_append(self) -> int:
        if self._tail_fd is not None and self._sizes.get(self._tail, 0) < self.segment_bytes:
            return self._tail_fd
        if self._tail_fd is not None:  # full: make it durable and roll
            if self._data_dirty:
                os.fsync(self._tail_fd)
                self._data_dirty = False
            os.close(self._tail_fd)
            self._tail_fd = None
        seg = self._next_segment
        self._next_segment += 1
        self._tail_fd = os.open(self.path / _name(seg), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                                0o600)
        self._tail = seg
        self._sizes[seg] = 0
        if self.policy != "interval":
            self._sync_dir()
        return self._tail_fd

    # reading -----------------------------------------------------------------------------
    def read(self, max_records: int, max_bytes: int = 1 << 62) -> list[Record]:
        """Up to ``max_records`` records (and about ``max_bytes``) from the head, in order;
        at least one when there is one. Nothing is consumed until :meth:`ack`. Unreadable
        lines come back with ``valid=False`` (and are counted in :attr:`corrupt`)."""
        out = self._read(max_records, max_bytes)
        self.corrupt += sum(1 for r in out if not r.valid)
        return out

    def _read(self, max_records: int, max_bytes: int = 1 << 62) -> list[Record]:
        with self._lock:
            start = self._cursor
            sizes = dict(self._sizes)
        out: list[Record] = []
        taken = 0
        for seg, size in sizes.items():
            if seg < start.segment:
                continue
            offset = start.offset if seg == start.segment else 0
            if offset >= size:
                continue
            with open(self.path / _name(seg), "rb") as fh:
                fh.seek(offset)
                while offset < size and len(out) < max_records and (not out or taken < max_bytes):
                    line = fh.readline(size - offset)
                    if not line:
                        break
                    offset += len(line)
                    taken += len(line)
                    out.append(self._parse(line, Position(seg, offset)))
            if len(out) >= max_records or (out and taken >= max_bytes):
                break
        return out

    @staticmethod
    def _parse(line: bytes, end: Position) -> Record:
        stamp, tab, payload = line.rstrip(b"\n").partition(b"\t")
        try:
            if not tab or not line.endswith(b"\n"):
                raise ValueError("no tab or newline")
            return Record(float(stamp), payload, end)
        except ValueError:
            return Record(0.0, b"", end, valid=False)

    def oldest_time(self) -> float | None:
        """Enqueue time of the first unacked record; None when the spool is empty."""
        with self._lock:
            if self._head_valid:
                return self._head_time
            gen = self._head_gen
        head = self._read(1)
        t = head[0].time if head and head[0].valid else None
        with self._lock:
            if gen == self._head_gen:
                self._head_time, self._head_valid = t, True
        return t

    # acknowledging -----------------------------------------------------------------------
    def ack(self, pos: Position) -> None:
        """Everything before ``pos`` is delivered: save the cursor, delete whole segments."""
        now = self.clock.now()
        with self._lock:
            if pos <= self._cursor:
                return
            self._cursor = pos
            self._head_valid = False
            self._head_gen += 1
            self._write_cursor(now)
            for seg in list(self._sizes):
                whole = seg < pos.segment or (seg == pos.segment and pos.offset >= self._sizes[seg])
                if not whole:
                    break
                if seg == self._tail and self._tail_fd is not None:
                    os.close(self._tail_fd)
                    self._tail_fd = None
                    self._data_dirty = False
                del self._sizes[seg]
                (self.path / _name(seg)).unlink(missing_ok=True)

    def _write_cursor(self, now: float) -> None:
        tmp = self.path / (CURSOR + ".tmp")
        body = json.dumps({"segment": self._cursor.segment, "offset": self._cursor.offset})
        durable = self.policy == "always" or now - self._last_cursor_sync >= self.fsync_interval
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body.encode("ascii"))
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path / CURSOR)
        if durable:
            self._sync_dir()
            self._last_cursor_sync = now
            self._cursor_dirty = False
        else:
            self._cursor_dirty = True

    # durability --------------------------------------------------------------------------
    def sync(self) -> None:
        """fsync everything written so far (appended records and the cursor)."""
        now = self.clock.now()
        with self._lock:
            self._sync_data(now)
            if self._cursor_dirty:
                fd = os.open(self.path / CURSOR, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                self._sync_dir()
                self._cursor_dirty = False
                self._last_cursor_sync = now

    def _sync_data(self, now: float) -> None:
        if self._data_dirty and self._tail_fd is not None:
            os.fsync(self._tail_fd)
        self._data_dirty = False
        self._last_data_sync = now

    def _sync_dir(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Sync and release the files; the spool can be opened again (by anyone)."""
        self.sync()
        with self._lock:
            if self._tail_fd is not None:
                os.close(self._tail_fd)
                self._tail_fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None

    # sizes -------------------------------------------------------------------------------
    @property
    def disk_bytes(self) -> int:
        """Bytes in the segment files (what ``max_bytes`` bounds)."""
        with self._lock:
            return sum(self._sizes.values())

    @property
    def pending_bytes(self) -> int:
        """Bytes of records not yet acknowledged (0 when everything is delivered)."""
        with self._lock:
            total = 0
            for seg, size in self._sizes.items():
                if seg > self._cursor.segment:
                    total += size
                elif seg == self._cursor.segment:
                    total += max(0, size - self._cursor.offset)
            return total

    @property
    def empty(self) -> bool:
        return self.pending_bytes == 0
