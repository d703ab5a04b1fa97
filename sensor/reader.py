"""Reading complete lines from one open file, with byte offsets and a line-length cap."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from sensor.fileid import HEAD_BYTES, FileMark, head_hash, read_head

CHUNK_BYTES = 1 << 20


@dataclass(slots=True)
class Lines:
    """Lines taken from one file (without their newlines) and where each one starts."""

    path: str
    lines: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    cut: int = 0  # how many of them were longer than the cap and were cut
    eof: bool = False  # the file had no more data when we stopped


def cut_utf8(data: bytes, limit: int) -> bytes:
    """``data[:limit]``, moved back so that a multi-byte UTF-8 character is not split."""
    if len(data) <= limit:
        return data
    end = limit
    # Step back over continuation bytes (at most 3) to the start of a character.
    while end > 0 and limit - end < 3 and (data[end] & 0xC0) == 0x80:
        end -= 1
    if (data[end] & 0xC0) == 0x80:  # not UTF-8 anyway: cut where told
        end = limit
    return data[:end]


class FileReader:
    """Follows one open file descriptor and hands out complete lines.

    ``offset`` is the byte offset just after the last line handed out (a line boundary);
    bytes after it are buffered until their newline arrives. A line longer than
    ``max_line`` is cut: its first ``max_line`` bytes are kept and the rest is read and
    dropped up to the newline, never buffered whole.

    The reader remembers the file's first bytes (``head``) and checks after every read
    that they are still there: if not, the file was truncated (and maybe rewritten), the
    read data belongs to new content and ``replaced`` is set instead of using it.
    """

    def __init__(
        self,
        fd: int,
        path: Path,
        dev: int,
        ino: int,
        offset: int,
        head: bytes,
        max_line: int,
        chunk: int = CHUNK_BYTES,
    ) -> None:
        self.fd = fd
        self.path = path
        self.dev = dev
        self.ino = ino
        self.max_line = max(1, max_line)
        self.chunk = chunk
        self.replaced = False
        self._head = head[:HEAD_BYTES]
        self._head_hash = head_hash(self._head)
        self._buf = b""
        self._cur = 0  # index in _buf of the first unconsumed byte
        self._base = offset  # file offset of _buf[0]
        self._line_start = offset  # file offset of the first line not handed out
        self._long = b""  # kept head of an over-long line being skipped
        self._skipping = False

    @property
    def offset(self) -> int:
        return self._line_start

    @property
    def read_pos(self) -> int:
        """How far into the file we have read (offset plus buffered bytes)."""
        return self._base + len(self._buf)

    def mark(self) -> FileMark:
        return FileMark(
            str(self.path), self.dev, self.ino, self._line_start, len(self._head), self._head_hash
        )

    @property
    def head(self) -> bytes:
        return self._head

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def truncated(self) -> bool:
        """True when the file no longer holds what we read (copytruncate, or rewritten)."""
        if self.replaced:
            return True
        if self.size() < self.read_pos:
            return True
        return bool(self._head) and read_head(self.fd, len(self._head)) != self._head

    def reset(self) -> None:
        """Start over at offset 0 (after a truncation)."""
        self._buf, self._cur, self._base, self._line_start = b"", 0, 0, 0
        self._long, self._skipping, self.replaced = b"", False, False
        self._set_head(b"")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def take(self, max_lines: int, final: bool = False) -> Lines:
        """Up to ``max_lines`` complete lines. With ``final`` (the file is finished: rotated
        away and drained) a trailing line without newline is handed out too at the end."""
        out = Lines(str(self.path))
        try:
            self._take(out, max_lines)
        except OSError:
            if not out.lines:
                raise
            return out  # hand out what we have; the error comes back on the next call
        if out.eof and final and not self.replaced:
            self._finish(out)
        return out

    def _take(self, out: Lines, max_lines: int) -> None:
        lines, offsets, cap = out.lines, out.offsets, self.max_line
        buf, cur = self._buf, self._cur
        try:
            while len(lines) < max_lines:
                nl = buf.find(b"\n", cur)
                if nl >= 0:
                    if self._skipping:
                        lines.append(self._long)
                        self._long, self._skipping = b"", False
                        out.cut += 1
                    elif nl - cur > cap:
                        lines.append(cut_utf8(buf[cur : cur + cap + 3], cap))
                        out.cut += 1
                    else:
                        lines.append(buf[cur:nl])
                    offsets.append(self._line_start)
                    cur = nl + 1
                    self._line_start = self._base + cur
                    continue
                # No newline in the buffer: start skipping an over-long line, then read more.
                if not self._skipping and len(buf) - cur > cap:
                    self._long, self._skipping = cut_utf8(buf[cur : cur + cap + 3], cap), True
                if self._skipping:
                    self._base += len(buf)
                    buf, cur = b"", 0
                data = self._read(self._base + len(buf))
                if not data:
                    out.eof = True
                    break
                self._base += cur
                buf, cur = buf[cur:] + data, 0
        finally:
            self._buf, self._cur = buf, cur

    def _finish(self, out: Lines) -> None:
        """Hand out the trailing line that never got its newline."""
        rest = self._buf[self._cur :]
        if self._skipping:
            out.lines.append(self._long)
            out.cut += 1
        elif rest:
            out.lines.append(rest)
        else:
            return
        out.offsets.append(self._line_start)
        self._base += len(self._buf)
        self._buf, self._cur, self._long, self._skipping = b"", 0, b"", False
        self._line_start = self._base

    def _read(self, pos: int) -> bytes:
        """The next chunk of the file, which starts at offset ``pos``; b"" at its end or
        when the file was replaced under us."""
        if self.replaced:
            return b""
        data = os.pread(self.fd, self.chunk, pos)
        if not data:
            return b""
        head = self._head
        if head and read_head(self.fd, len(head)) != head:
            # Truncated since we read the head: ``data`` may come from the new content.
            self.replaced = True
            return b""
        if len(head) < HEAD_BYTES and pos <= len(head) < pos + len(data):
            self._set_head(head + data[len(head) - pos : HEAD_BYTES - pos])
        return data

    def _set_head(self, head: bytes) -> None:
        self._head = head
        self._head_hash = head_hash(head)
