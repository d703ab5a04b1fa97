"""The file follower without threads: FileReader and Tailer stepped by hand."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from sensor.fileid import FileMark, head_hash, rotation_candidates
from sensor.reader import FileReader, cut_utf8
from sensor.tail import Tailer, parse_position
from sensor.watch import DirWatcher

LOG = logging.getLogger("ronda.test.tail")


def _reader(path: Path, offset: int = 0, max_line: int = 100, chunk: int = 7) -> FileReader:
    fd = os.open(path, os.O_RDONLY)
    st = os.fstat(fd)
    return FileReader(fd, path, st.st_dev, st.st_ino, offset, os.pread(fd, 256, 0), max_line,
                      chunk=chunk)


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Follow:
    """A Tailer and everything it handed out."""

    def __init__(self, path: Path, grace: float = 5.0, start_at_end: bool = False,
                 position: Any = None) -> None:
        self.clock = Clock()
        self.rotations: list[str] = []
        self.tailer = Tailer(path, max_line=1000, grace=grace, start_at_end=start_at_end,
                             log=LOG, on_rotation=self.rotations.append, monotonic=self.clock)
        if position is not None:
            self.tailer.restore(parse_position(position))
        self.lines: list[tuple[str, int, bytes]] = []

    def drain(self, max_lines: int = 3) -> list[bytes]:
        """Step until nothing happens; the lines handed out meanwhile."""
        new: list[bytes] = []
        for _ in range(10_000):
            got = self.tailer.step(max_lines)
            if got is None:
                return new
            assert len(got.lines) <= max_lines + 1
            self.lines += [(got.path, o, b) for o, b in zip(got.offsets, got.lines, strict=True)]
            new += got.lines
        raise AssertionError("tailer never went idle")

    def position(self) -> dict[str, Any]:
        return self.tailer.position()


def test_reader_hands_out_complete_lines_with_offsets(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo\nthr")
    r = _reader(log)
    got = r.take(10)
    assert (got.lines, got.offsets, got.eof) == ([b"one", b"two"], [0, 4], True)
    assert (r.offset, r.read_pos) == (8, 11)
    _append(log, b"ee\n\nfour\n")
    got = r.take(2)
    assert (got.lines, got.offsets, got.eof) == ([b"three", b""], [8, 14], False)
    got = r.take(2, final=True)
    assert (got.lines, got.offsets) == ([b"four"], [15])
    _append(log, b"tail")
    assert r.take(5).lines == []
    assert r.take(5, final=True).lines == [b"tail"]
    assert r.offset == os.path.getsize(log)
    r.close()


def test_reader_head_is_the_files_first_bytes_after_many_small_reads(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    r = _reader(log, chunk=5)
    for i in range(100):
        _append(log, f"line {i}\n".encode())
        r.take(3)
    while r.take(100).lines:
        pass
    data = log.read_bytes()
    assert r.head == data[:256]
    assert r.mark().head_hash == head_hash(data[:256])
    assert not r.truncated()


def test_reader_cuts_long_lines_without_buffering_them(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"short\n" + b"a" * 10_000 + b"\nafter\n" + b"b" * 150 + b"\n" + b"c" * 500)
    r = _reader(log, max_line=100, chunk=64)
    got = r.take(100)
    assert got.lines == [b"short", b"a" * 100, b"after", b"b" * 100]
    assert got.offsets == [0, 6, 10_007, 10_013]
    assert got.cut == 2
    assert len(r._buf) < 300  # the long lines were never held whole
    got = r.take(100, final=True)  # the unterminated long tail is cut too
    assert (got.lines, got.cut) == ([b"c" * 100], 1)


def test_cut_keeps_utf8_characters_whole() -> None:
    data = "é".encode() * 10  # two bytes each
    assert cut_utf8(data, 5) == data[:4]
    assert cut_utf8(data, 6) == data[:6]
    euro = "€".encode() * 4  # three bytes each
    assert cut_utf8(euro, 7) == euro[:6]
    assert cut_utf8(b"\x80" * 10, 5) == b"\x80" * 5  # not UTF-8: cut where told
    assert cut_utf8(b"abc", 5) == b"abc"


def test_reader_sees_truncation_and_rewrite(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"first line\nsecond\n")
    r = _reader(log)
    r.take(10)
    assert not r.truncated()
    log.write_bytes(b"X" * 40 + b"\n")  # same inode, longer than what we read
    assert r.truncated()
    r.reset()
    assert r.take(10).lines == [b"X" * 40]


def test_rename_rotation_reads_old_file_to_end_then_new_file(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"1\n2\n")
    f = Follow(log, grace=5.0)
    assert f.drain() == [b"1", b"2"]
    _append(log, b"3\n4")  # written before the rotation, not yet read
    os.rename(log, tmp_path / "a.log.1")
    log.write_bytes(b"new1\n")
    assert f.drain() == [b"3", b"new1"]
    assert f.rotations == ["rename"]
    old_mark, new_mark = (FileMark.from_json(m) for m in reversed(f.position()["files"]))
    assert old_mark.path == str(tmp_path / "a.log.1") and old_mark.offset == 6
    assert new_mark.path == str(log) and new_mark.offset == 5
    _append(tmp_path / "a.log.1", b"\n5\n6")  # a late writer still appends to the old file
    assert f.drain() == [b"4", b"5"]
    f.clock.t += 5.0  # grace over: the old file's last line is handed out, file closed
    assert f.drain() == [b"6"]
    assert len(f.position()["files"]) == 1
    rotated = str(tmp_path / "a.log.1")
    assert [(p, o) for p, o, _ in f.lines] == [
        (str(log), 0), (str(log), 2), (str(log), 4), (str(log), 0),
        (rotated, 6), (rotated, 8), (rotated, 10)]


def test_path_missing_for_a_while(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"1\n")
    f = Follow(log, grace=1.0)
    assert f.drain() == [b"1"]
    os.unlink(log)
    assert f.drain() == []
    f.clock.t += 2
    assert f.drain() == []
    assert f.position() == {"files": []}
    log.write_bytes(b"2\n")
    assert f.drain() == [b"2"]


def test_copytruncate_reads_the_rest_from_the_copy(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"a1\na2\n")
    f = Follow(log)
    assert f.drain() == [b"a1", b"a2"]
    _append(log, b"a3\na4\n")
    (tmp_path / "access.log.2.gz").write_bytes(b"a1\na2\na3\na4\n")  # compressed: skipped
    (tmp_path / "other.log").write_bytes(b"a1\na2\na3\na4\n")  # other name: skipped
    shutil.copyfile(log, tmp_path / "access.log-20261121")
    with open(log, "r+b") as w:
        w.truncate(0)
        w.write(b"b1\nb2 is longer than the old content was\n")
    assert f.drain() == [b"a3", b"a4", b"b1", b"b2 is longer than the old content was"]
    assert f.rotations == ["copytruncate"]
    assert f.position()["files"][0]["offset"] == os.path.getsize(log)
    assert len(f.position()["files"]) == 1


def test_copytruncate_without_copy_starts_over(tmp_path: Path, caplog: Any) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"a1\na2\n")
    f = Follow(log)
    f.drain()
    os.truncate(log, 0)
    with caplog.at_level(logging.WARNING):
        assert f.drain() == []
    assert "no copy of it was found" in caplog.text
    _append(log, b"b1\n")
    assert f.drain() == [b"b1"]


def test_start_at_end_begins_after_the_last_complete_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"old\nolder\npart")
    f = Follow(log, start_at_end=True)
    assert f.drain() == []
    _append(log, b"ial\nnew\n")
    assert f.drain() == [b"partial", b"new"]


def test_restore_resumes_at_the_saved_offset(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"1\n2\n")
    f = Follow(log)
    f.drain()
    pos = f.position()
    f.tailer.close()
    _append(log, b"3\n")
    g = Follow(log, position=pos, start_at_end=True)
    assert g.drain() == [b"3"]


def test_restore_after_rename_while_down(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"1\n2\n")
    f = Follow(log)
    f.drain()
    pos = f.position()
    f.tailer.close()
    _append(log, b"3\n")
    os.rename(log, tmp_path / "a.log.1")
    log.write_bytes(b"new\n")
    g = Follow(log, position=pos, grace=0.0)
    assert g.lines == [] and g.drain() == [b"3", b"new"]
    assert [(p, o) for p, o, _ in g.lines] == [(str(tmp_path / "a.log.1"), 4), (str(log), 0)]


def test_restore_after_copytruncate_while_down(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"1\n2\n")
    f = Follow(log)
    f.drain()
    pos = f.position()
    f.tailer.close()
    _append(log, b"3\n")
    shutil.copyfile(log, tmp_path / "a.log.1")
    log.write_bytes(b"new\n")  # truncated and rewritten
    g = Follow(log, position=pos)
    assert g.drain() == [b"3", b"new"]


def test_restore_after_rewrite_without_copy_starts_at_zero(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"1\n2\n")
    f = Follow(log)
    f.drain()
    pos = f.position()
    f.tailer.close()
    log.write_bytes(b"other content entirely\n")
    g = Follow(log, position=pos)
    assert g.drain() == [b"other content entirely"]


def test_restore_with_empty_position_reads_a_new_file_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"1\n")
    g = Follow(log, position={"files": []}, start_at_end=True)
    assert g.drain() == [b"1"]


@pytest.mark.parametrize("bad", [None, [], {"files": 3}, {"files": [{"path": "x"}]},
                                 {"files": [{"path": "x", "dev": 1, "ino": 2, "offset": -1,
                                             "head_len": 0, "head_hash": ""}]}])
def test_bad_positions_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_position(bad)


def test_rotation_candidates(tmp_path: Path) -> None:
    for name in ["a.log", "a.log.1", "a.log-2026", "a.log.2.gz", "a.log.3.zst", "b.log"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "a.log.d").mkdir()
    names = sorted(p.name for p in rotation_candidates(tmp_path / "a.log"))
    assert names == ["a.log-2026", "a.log.1"]


def test_reader_error_midway_keeps_the_lines_read_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo\nthree\nfour\n")
    r = _reader(log, chunk=8)
    real = os.pread
    calls = {"n": 0}

    def flaky(fd: int, n: int, pos: int) -> bytes:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(5, "Input/output error")
        return real(fd, n, pos)

    monkeypatch.setattr("sensor.reader.os.pread", flaky)
    first = r.take(10)
    assert first.lines == [b"one", b"two"] and not first.eof
    rest = r.take(10)
    assert rest.lines == [b"three", b"four"]
    assert r.offset == os.path.getsize(log)


def test_dir_watcher_wakes_on_changes_and_survives_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    log = folder / "app.log"
    wake = threading.Event()
    watcher = DirWatcher(log, "auto", wake, LOG)
    try:
        watcher.ensure()  # no folder yet: nothing to watch, the loop polls
        assert not watcher.watching
        folder.mkdir()
        watcher.ensure()
        assert watcher.watching and not watcher.polling
        wake.clear()
        (folder / "other.txt").write_bytes(b"x")  # not ours: no wake-up expected
        _append(log, b"x\n")
        assert wake.wait(30)
        wake.clear()
        shutil.rmtree(folder)
        assert wake.wait(30)  # the folder itself went away
        folder.mkdir()
        watcher.ensure()  # a new folder: watched again
        assert watcher.watching
        wake.clear()
        _append(log, b"y\n")
        assert wake.wait(30)
    finally:
        watcher.stop()
    assert not watcher.watching


def test_dir_watcher_poll_mode_never_starts_an_observer(tmp_path: Path) -> None:
    def no_observer() -> Any:
        raise AssertionError("poll mode must not start an observer")

    watcher = DirWatcher(tmp_path / "a.log", "poll", threading.Event(), LOG, no_observer)
    watcher.ensure()
    assert watcher.polling and not watcher.watching
