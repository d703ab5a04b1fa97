"""Restarts: a new source restored from the last position continues exactly there."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.sensor.test_logfile_harness import (
    Run,
    append,
    assert_exactly_once,
    line,
    wait_until,
    write_seqs,
)


class Stream(threading.Thread):
    """Appends seq lines ``start..stop-1`` in small writes (lines often cut in two)."""

    def __init__(self, path: Path, start: int, stop: int) -> None:
        super().__init__(daemon=True)
        self.path, self.start_seq, self.stop_seq = path, start, stop

    def run(self) -> None:
        data = b"".join(line(s) for s in range(self.start_seq, self.stop_seq))
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            for i in range(0, len(data), 1500):
                os.write(fd, data[i : i + 1500])
        finally:
            os.close(fd)


def _first_run(tmp_path: Path, log: Path, total: int, stop_after: int) -> Run:
    """Start a source, stream ``total`` lines, stop it after ``stop_after`` events."""
    run = Run(tmp_path, log).start()
    stream = Stream(log, 0, total)
    stream.start()
    run.wait_seqs(stop_after)
    run.stop()
    stream.join(timeout=60)
    return run


def test_restart_mid_stream_continues_without_loss_or_duplicates(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    first = _first_run(tmp_path, log, 20_000, stop_after=2_000)
    assert first.seqs() == list(range(len(first.seqs())))
    second = Run(tmp_path, log, position=first.position()).start()
    second.wait_seqs(20_000 - len(first.seqs()))
    write_seqs(log, range(20_000, 20_010))  # and it keeps following the file
    second.wait_seqs(20_010 - len(first.seqs()))
    second.stop()
    assert_exactly_once(first.seqs() + second.seqs(), 20_010)
    assert second.seqs() == sorted(second.seqs())


def test_restart_with_a_partial_line_pending(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_seqs(log, range(3))
    append(log, line(3)[:12])
    first = Run(tmp_path, log).start()
    first.wait_seqs(3)
    first.stop()
    append(log, line(3)[12:])
    second = Run(tmp_path, log, position=first.position()).start()
    second.wait_seqs(1)
    second.stop()
    assert first.seqs() + second.seqs() == [0, 1, 2, 3]


def test_restart_after_rename_rotation_while_down(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    first = _first_run(tmp_path, log, 10_000, stop_after=1_000)
    position = first.position()
    write_seqs(log, range(10_000, 10_100))  # written before the rotation, never read
    os.rename(log, tmp_path / "app.log.1")
    write_seqs(log, range(10_100, 10_200))  # the new file
    second = Run(tmp_path, log, position=position, start_at="end").start()
    second.wait_seqs(10_200 - len(first.seqs()))
    second.stop()
    assert_exactly_once(first.seqs() + second.seqs(), 10_200)
    paths = {e.fields["log.file.path"] for e in second.events() if e.fields["seq"] < 10_100}
    assert paths == {str(tmp_path / "app.log.1")}


def test_restart_after_copytruncate_while_down(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    first = _first_run(tmp_path, log, 10_000, stop_after=1_000)
    position = first.position()
    write_seqs(log, range(10_000, 10_100))
    shutil.copyfile(log, tmp_path / "app.log-20261121")
    os.truncate(log, 0)
    write_seqs(log, range(10_100, 10_200))
    second = Run(tmp_path, log, position=position).start()
    second.wait_seqs(10_200 - len(first.seqs()))
    second.stop()
    assert_exactly_once(first.seqs() + second.seqs(), 10_200)


def test_restart_while_a_rotated_file_is_still_draining(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    old = tmp_path / "app.log.1"
    write_seqs(log, range(100))
    first = Run(tmp_path, log, rotate_grace=600).start()
    first.wait_seqs(100)
    os.rename(log, old)
    write_seqs(log, range(100, 110))
    first.wait_seqs(110)
    write_seqs(old, range(110, 120))  # a late writer
    first.wait_seqs(120)
    first.stop()
    position: Any = first.position()
    assert [f["path"] for f in position["files"]] == [str(log), str(old)]
    write_seqs(old, range(120, 130))
    write_seqs(log, range(130, 140))
    second = Run(tmp_path, log, position=position, rotate_grace=0).start()
    second.wait_seqs(20)
    wait_until(lambda: len(second.position()["files"]) == 1, "rotated file closed")
    second.stop()
    assert_exactly_once(first.seqs() + second.seqs(), 140)


def test_restore_from_an_older_position_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    first = _first_run(tmp_path, log, 10_000, stop_after=3_000)
    positions = [p for p in first.positions() if p["files"]]
    older = positions[len(positions) // 2]  # as if killed -9 after saving this one
    second = Run(tmp_path, log, position=older).start()
    offset = older["files"][0]["offset"]
    expected_first = next(e.fields["seq"] for e in first.events()
                          if e.fields["log.offset"] == offset)
    second.wait_seqs(10_000 - expected_first)
    second.stop()
    assert second.seqs() == list(range(expected_first, 10_000))
    assert set(first.seqs()) | set(second.seqs()) == set(range(10_000))


def test_a_garbage_position_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "app.log"
    write_seqs(log, range(5))
    with caplog.at_level(logging.WARNING, logger="ronda.test.logfile"):
        run = Run(tmp_path, log, position={"offset": 12}).start()
        run.wait_seqs(5)
        run.stop()
    assert run.seqs() == list(range(5))
    assert "ignoring the saved position" in caplog.text
