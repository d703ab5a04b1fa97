"""Following one log file by path across rotations, resumable from a saved position.

The ``Tailer`` owns the open files: the *current* file (whatever is at the path) and
*rotated* files still being read. It does no waiting and no parsing: the source calls
``step()`` whenever something may have changed and gets back at most one batch of lines
from one file, and ``position()`` describes the state after that batch.

Rotation styles followed:

* rename (logrotate ``create``): the path now names another inode, or nothing. The old
  file is read to its end *before* switching, kept open for ``grace`` seconds and read
  again on each step (a writer that has not reopened yet still appends to it), then its
  last line (even without newline) is handed out and it is closed. The new file is read
  from offset 0.
* copytruncate: the file shrank below our read position, or its head changed. Before
  starting over at 0, the copy is looked up in the same folder (same head fingerprint,
  at least as long as our offset) and read from our offset to its end.

  Inherent race: lines the writer appends between the copy and the truncate are in
  neither the copy nor the truncated file; nobody can recover them. logrotate's own
  documentation says so. Keep the window small (no compression in the same step) or
  prefer rename rotation with a reopen signal.

Missed generations: when the path was renamed more than once between two looks (most
often while the daemon was down across several rotations), the generations in between
were never at the path while we looked. After a rename is followed, and after a restore,
rotated files modified after the file we were reading, whose head is neither that file's
nor the current file's, are read in full, oldest first, before the current file. (With
copytruncate done twice between two looks, the first copy cannot be told apart from any
other old file and is not read.)
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sensor.fileid import (
    HEAD_BYTES,
    FileMark,
    Opened,
    find_by_identity,
    find_copy,
    find_newer,
    open_file,
    read_head,
    rotation_candidates,
)
from sensor.reader import FileReader, Lines

RotationStyle = Literal["rename", "copytruncate"]


@dataclass(slots=True)
class _Rotated:
    reader: FileReader
    deadline: float | None  # monotonic time to close; None: close as soon as drained


def parse_position(position: Any) -> list[FileMark]:
    """The file entries of a saved position; ValueError when it is not one of ours."""
    if not isinstance(position, dict) or not isinstance(position.get("files"), list):
        raise ValueError(f"not a logfile position: {position!r}")
    return [FileMark.from_json(item) for item in position["files"]]


class Tailer:
    """Follows ``path``: see the module docstring."""

    def __init__(
        self,
        path: Path,
        *,
        max_line: int,
        grace: float,
        start_at_end: bool,
        log: logging.Logger,
        on_rotation: Callable[[RotationStyle], None] = lambda style: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.max_line = max_line
        self.grace = grace
        self.log = log
        self.on_rotation = on_rotation
        self.monotonic = monotonic
        self.current: FileReader | None = None
        self.rotated: list[_Rotated] = []
        self._start_at_end = start_at_end
        self._restore: list[FileMark] | None = None
        self._started = False
        self._warned = ""  # the last warning about the path, not repeated every step

    # -- positions -------------------------------------------------------------------

    def restore(self, marks: list[FileMark]) -> None:
        """Resume from saved marks when the first step runs (before any reading)."""
        self._restore = marks

    def position(self) -> dict[str, Any]:
        """JSON-serialisable state after the last batch: the current file, then the
        rotated files still being read."""
        readers = ([self.current] if self.current else []) + [r.reader for r in self.rotated]
        return {"files": [r.mark().to_json() for r in readers]}

    def lag(self) -> int:
        """Bytes of the current file not yet handed out."""
        if self.current is None:
            return 0
        try:
            return max(0, self.current.size() - self.current.offset)
        except OSError:
            return 0

    def close(self) -> None:
        for r in self.rotated:
            r.reader.close()
        self.rotated.clear()
        if self.current is not None:
            self.current.close()
            self.current = None

    # -- stepping --------------------------------------------------------------------

    def step(self, max_lines: int) -> Lines | None:
        """One batch of at most ``max_lines`` lines from one file. An empty batch means
        the position moved without lines (file switched or closed); None means nothing
        happened and the caller may wait."""
        if not self._started:
            self._started = True
            if self._restore is not None:
                self._do_restore(self._restore)
            else:
                self._open_current(at_end=self._start_at_end)
            # Report the starting position even without a file: a file that appears
            # later (also after a restart) is new and is read from its beginning.
            return Lines(str(self.path))
        got = self._step_rotated(max_lines)
        if got is not None:
            return got
        return self._step_current(max_lines)

    def _step_rotated(self, max_lines: int) -> Lines | None:
        now = self.monotonic()
        for item in list(self.rotated):
            reader = item.reader
            done = item.deadline is None or now >= item.deadline
            try:
                got = reader.take(max_lines, final=done)
            except OSError as exc:
                self.log.warning("reading rotated file %s failed: %s", reader.path, exc)
                got, done = Lines(str(reader.path), eof=True), True
            if got.eof and done:
                reader.close()
                self.rotated.remove(item)
                return got
            if got.lines:
                return got
        return None

    def _step_current(self, max_lines: int) -> Lines | None:
        cur = self.current
        if cur is None:
            return Lines(str(self.path)) if self._open_current(at_end=False) else None
        if cur.truncated():
            self._copytruncated(cur)
            return Lines(str(self.path))
        got = cur.take(max_lines)
        if got.lines or cur.replaced:
            return got
        # At the end of the file we have open: is the path still this file?
        try:
            st: os.stat_result | None = os.stat(self.path)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            self._warn_once(f"cannot stat {self.path}: {exc}")
            return None
        if st is not None and (st.st_dev, st.st_ino) == (cur.dev, cur.ino):
            return None
        since = _mtime(cur.fd)
        self._renamed(cur)
        self._open_current(at_end=False)
        self._queue_missed(since, cur.head)
        return Lines(str(self.path))

    # -- rotations -------------------------------------------------------------------

    def _renamed(self, cur: FileReader) -> None:
        """The path names another file (or none): keep reading the old one for a while."""
        self.on_rotation("rename")
        cur.path = self._where_now(cur) or cur.path
        self.log.info("%s rotated (renamed to %s)", self.path, cur.path)
        self.rotated.append(_Rotated(cur, self.monotonic() + self.grace))
        self.current = None

    def _where_now(self, reader: FileReader) -> Path | None:
        for candidate in rotation_candidates(self.path):
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (reader.dev, reader.ino):
                return candidate
        return None

    def _queue_missed(self, since: float, old_head: bytes) -> None:
        """Queue generations rotated away between two looks (see the module docstring)."""
        known = {(r.reader.dev, r.reader.ino) for r in self.rotated}
        heads = {old_head[:HEAD_BYTES]}
        if self.current is not None:
            known.add((self.current.dev, self.current.ino))
            heads.add(self.current.head)
        missed = find_newer(self.path, since, known, heads)
        for opened in missed:
            self.log.warning("%s: reading %s, a generation rotated away before it was read",
                             self.path, opened.path)
            self.rotated.append(_Rotated(self._reader(opened, 0), None))

    def _copytruncated(self, cur: FileReader) -> None:
        """The file was truncated under us: read the rest from its copy, then start over."""
        self.on_rotation("copytruncate")
        mark = cur.mark()
        if not self._read_copy(mark):
            self.log.warning(
                "%s was truncated and no copy of it was found; lines after byte %d of its "
                "old content are lost", self.path, mark.offset)
        cur.reset()

    def _read_copy(self, mark: FileMark) -> bool:
        """Queue the rest of the file ``mark`` describes from a copy of it; True if found
        (or nothing was left to read)."""
        if mark.offset == 0:
            return True
        exclude = {(r.reader.dev, r.reader.ino) for r in self.rotated}
        if self.current is not None:
            exclude.add((self.current.dev, self.current.ino))
        copy = find_copy(self.path, mark.head_len, mark.head_hash, mark.offset, exclude)
        if copy is None:
            return False
        self.log.info("%s: reading from byte %d of its copy %s", self.path, mark.offset,
                      copy.path)
        self.rotated.append(_Rotated(self._reader(copy, mark.offset), None))
        return True

    # -- opening ---------------------------------------------------------------------

    def _reader(self, opened: Opened, offset: int) -> FileReader:
        head = read_head(opened.fd, HEAD_BYTES)
        return FileReader(
            opened.fd, opened.path, opened.dev, opened.ino, offset, head, self.max_line
        )

    def _open_current(self, at_end: bool) -> bool:
        try:
            opened = open_file(self.path)
        except OSError as exc:
            self._warn_once(f"cannot open {self.path}: {exc} (will retry)")
            return False
        if opened is None:
            return False
        self._warned = ""
        offset = _end_offset(opened, self.max_line) if at_end else 0
        self.current = self._reader(opened, offset)
        return True

    def _warn_once(self, message: str) -> None:
        if message != self._warned:
            self._warned = message
            self.log.warning("%s", message)

    def _do_restore(self, marks: list[FileMark]) -> None:
        """Reopen the saved files: each by dev/ino and head fingerprint, at the path or
        under a rotated name (it was rotated while we were down), then any generation
        rotated in between."""
        first_rotated: FileReader | None = None
        for mark in marks:
            opened = find_by_identity(self.path, mark)
            if opened is not None and opened.size < mark.offset:
                os.close(opened.fd)  # same head but shorter than our offset: truncated
                opened = None
            if opened is None:
                # Gone, or truncated and rewritten: maybe a copy of it is still here.
                if not self._read_copy(mark):
                    self.log.warning(
                        "%s: the file read up to byte %d before the restart is gone; lines "
                        "after that were not read", self.path, mark.offset)
                continue
            reader = self._reader(opened, mark.offset)
            if opened.path == self.path and self.current is None:
                self.current = reader
            else:
                self.rotated.append(_Rotated(reader, self.monotonic() + self.grace))
                first_rotated = first_rotated or reader
        if self.current is None:
            self._open_current(at_end=False)
        if first_rotated is not None:
            self._queue_missed(_mtime(first_rotated.fd), first_rotated.head)


def _mtime(fd: int) -> float:
    try:
        return os.fstat(fd).st_mtime
    except OSError:
        return float("inf")


def _end_offset(opened: Opened, max_line: int) -> int:
    """Where to start when skipping existing content: after the last complete line."""
    size = opened.size
    if size == 0:
        return 0
    span = min(size, max_line + 1)
    tail = os.pread(opened.fd, span, size - span)
    nl = tail.rfind(b"\n")
    if nl >= 0:
        return size - span + nl + 1
    return 0 if span == size else size
