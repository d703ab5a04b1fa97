"""File identity for the log follower: head fingerprints and finding rotated files.

A followed file is identified by its device and inode plus a *head fingerprint*: a hash
of its first bytes (up to ``HEAD_BYTES``) together with how many bytes were hashed. The
inode says "same file object", the fingerprint says "same content": it catches a file
truncated and rewritten in place (same inode, new content), an inode number reused by a
new file, and lets us recognise a copy of the file (copytruncate rotation) by content.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 256
COMPRESSED_SUFFIXES = (".gz", ".xz", ".bz2", ".zst", ".zip", ".lz4", ".z", ".Z")


def head_hash(head: bytes) -> str:
    """The fingerprint of a file's head bytes (hex)."""
    return hashlib.blake2b(head, digest_size=16).hexdigest()


def read_head(fd: int, length: int) -> bytes:
    """The first ``length`` bytes of an open file (fewer if the file is shorter)."""
    if length <= 0:
        return b""
    return os.pread(fd, length, 0)


def head_matches(fd: int, head_len: int, expected_hash: str) -> bool:
    """True when the file's first ``head_len`` bytes hash to ``expected_hash``."""
    head = read_head(fd, head_len)
    return len(head) == head_len and head_hash(head) == expected_hash


@dataclass(frozen=True, slots=True)
class FileMark:
    """Where we were in one file: the checkpoint entry for that file."""

    path: str
    dev: int
    ino: int
    offset: int
    head_len: int
    head_hash: str

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "dev": self.dev,
            "ino": self.ino,
            "offset": self.offset,
            "head_len": self.head_len,
            "head_hash": self.head_hash,
        }

    @classmethod
    def from_json(cls, raw: object) -> FileMark:
        """Parse one checkpoint entry; ValueError when it is not one."""
        if not isinstance(raw, dict):
            raise ValueError(f"file entry is not an object: {raw!r}")
        try:
            mark = cls(
                path=str(raw["path"]),
                dev=_int(raw["dev"]),
                ino=_int(raw["ino"]),
                offset=_int(raw["offset"]),
                head_len=_int(raw["head_len"]),
                head_hash=str(raw["head_hash"]),
            )
        except KeyError as exc:
            raise ValueError(f"file entry lacks {exc.args[0]!r}") from None
        if mark.offset < 0 or not 0 <= mark.head_len <= HEAD_BYTES:
            raise ValueError(f"file entry out of range: {raw!r}")
        return mark


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


@dataclass(slots=True)
class Opened:
    """A file opened for reading while searching: its fd, path and identity."""

    fd: int
    path: Path
    dev: int
    ino: int
    size: int


def open_file(path: Path) -> Opened | None:
    """Open ``path`` read-only; None when it does not exist. OSError when it cannot be
    opened or is not a regular file (a FIFO is never waited on: O_NONBLOCK)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        st = os.fstat(fd)
        if not _is_regular(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
    except OSError:
        os.close(fd)
        raise
    return Opened(fd, path, st.st_dev, st.st_ino, st.st_size)


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def rotation_candidates(path: Path) -> list[Path]:
    """Files in ``path``'s folder that may be rotated generations of it.

    Names that start with the base name (``access.log.1``, ``access.log-20261121``) and
    are not compressed; newest modification first.
    """
    base = path.name
    found: list[tuple[float, str]] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    for entry in entries:
        name = entry.name
        if name == base or not name.startswith(base) or name.endswith(COMPRESSED_SUFFIXES):
            continue
        try:
            st = entry.stat()
        except OSError:
            continue
        if _is_regular(st.st_mode):
            found.append((st.st_mtime, name))
    found.sort(reverse=True)
    return [path.parent / name for _, name in found]


def find_by_identity(path: Path, mark: FileMark) -> Opened | None:
    """Find the file ``mark`` describes (same dev/ino and head) at ``path`` or among its
    rotation candidates. The caller owns the returned fd."""
    for candidate in [path, *rotation_candidates(path)]:
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) != (mark.dev, mark.ino):
            continue
        opened = _open_checked(candidate, mark.head_len, mark.head_hash)
        if opened is not None and (opened.dev, opened.ino) == (mark.dev, mark.ino):
            return opened
        if opened is not None:
            os.close(opened.fd)
    return None


def find_copy(
    path: Path, head_len: int, wanted_hash: str, min_size: int, exclude: set[tuple[int, int]]
) -> Opened | None:
    """Find a copy of a file by its head fingerprint, holding at least ``min_size`` bytes
    (the copy a copytruncate rotation made). The caller owns the returned fd."""
    for candidate in rotation_candidates(path):
        opened = _open_checked(candidate, head_len, wanted_hash)
        if opened is None:
            continue
        if (opened.dev, opened.ino) not in exclude and opened.size >= min_size:
            return opened
        os.close(opened.fd)
    return None


def _open_checked(path: Path, head_len: int, expected_hash: str) -> Opened | None:
    """Open ``path`` and keep it only when its head fingerprint matches."""
    try:
        opened = open_file(path)
    except OSError:
        return None
    if opened is None:
        return None
    try:
        ok = head_matches(opened.fd, head_len, expected_hash)
    except OSError:
        ok = False
    if not ok:
        with contextlib.suppress(OSError):
            os.close(opened.fd)
        return None
    return opened


def find_newer(
    path: Path, since: float, exclude: set[tuple[int, int]], heads: set[bytes]
) -> list[Opened]:
    """Rotated generations modified after ``since`` that are none of the files in
    ``exclude`` and start with none of ``heads``; oldest first. The caller owns the fds."""
    found: list[tuple[float, Opened]] = []
    for candidate in rotation_candidates(path):
        try:
            opened = open_file(candidate)
        except OSError:
            continue
        if opened is None:
            continue
        keep = False
        with contextlib.suppress(OSError):
            st = os.fstat(opened.fd)
            head = read_head(opened.fd, HEAD_BYTES)
            keep = (st.st_mtime > since and (opened.dev, opened.ino) not in exclude
                    and opened.size > 0
                    and not any(h and head[: len(h)] == h for h in heads))
        if keep:
            found.append((st.st_mtime, opened))
        else:
            with contextlib.suppress(OSError):
                os.close(opened.fd)
    found.sort(key=lambda item: item[0])
    return [opened for _, opened in found]
