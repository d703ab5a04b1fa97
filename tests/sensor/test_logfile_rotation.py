"""Rotation under load: a writer at full speed, a rotator, every line exactly once.

The rotator waits until the source has read from the current generation before it
rotates again: a follower of one path cannot see a generation that was rotated away
before it ever looked (see sensor/tail.py). Real rotations are hours apart.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.sensor.test_logfile_harness import Run, assert_exactly_once, line, wait_until

TOTAL = 30_000
ROTATIONS = 10
LATE_LINES = 40  # lines the writer still appends to the renamed file before reopening


class Writer(threading.Thread):
    """Writes seq lines 0..TOTAL-1 as fast as it can, one os.write per line (every 7th
    line in two writes, so lines are often seen half-written)."""

    def __init__(self, path: Path, copytruncate: bool) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.copytruncate = copytruncate
        self.lock = threading.Lock()  # held by the rotator while it rotates
        self.file_of = [0] * TOTAL  # generation each seq was written into
        self.first_of = [0]  # first seq of each generation
        self.next_seq = 0
        self.created = 0  # generations the rotator has created (rename style)
        self.rotated = threading.Semaphore(0)  # one release per rotation done
        self.error: BaseException | None = None
        self._fd = self._open()

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def run(self) -> None:
        try:
            self._write_all()
        except BaseException as exc:
            self.error = exc

    def _write_all(self) -> None:
        gen, late = 0, -1
        period = TOTAL // (ROTATIONS + 1)
        for seq in range(TOTAL):
            # Never more than one rotation period ahead of the rotator.
            due = seq % period == 0 and 2 <= seq // period <= ROTATIONS + 1
            if due and not self.rotated.acquire(timeout=60):
                raise AssertionError("rotator stuck")
            data = line(seq)
            with self.lock:
                if not self.copytruncate and self.created > gen and late < 0:
                    late = LATE_LINES  # renamed: keep writing to the old file for a while
                if late == 0:
                    os.close(self._fd)
                    self._fd = self._open()
                    gen, late = gen + 1, -1
                    self.first_of.append(seq)
                elif late > 0:
                    late -= 1
                if self.copytruncate:
                    gen = len(self.first_of) - 1
                self.file_of[seq] = gen
                if seq % 7 == 0:
                    os.write(self._fd, data[:9])
                    os.write(self._fd, data[9:])
                else:
                    os.write(self._fd, data)
                self.next_seq = seq + 1
        with self.lock:
            os.close(self._fd)


def _rotate_under_load(tmp_path: Path, copytruncate: bool, watch: str) -> None:
    log = tmp_path / "access.log"
    writer = Writer(log, copytruncate)
    run = Run(tmp_path, log, rotate_grace=0.5, watch=watch, poll_interval=0.05).start()
    writer.start()
    period = TOTAL // (ROTATIONS + 1)
    for k in range(1, ROTATIONS + 1):
        wanted = k * period
        wait_until(lambda: writer.next_seq >= wanted or writer.error is not None,  # noqa: B023
                   f"writer at rotation {k}")
        if not copytruncate:
            wait_until(lambda: len(writer.first_of) == k, "writer reopened")  # noqa: B023
        # The source has opened the current generation: it read a line from it.
        first = writer.first_of[-1]
        wait_until(lambda: max(run.seqs(), default=-1) >= first, "source")  # noqa: B023
        with writer.lock:
            rotated = tmp_path / f"access.log.{k}"
            if copytruncate:
                shutil.copyfile(log, rotated)
                os.truncate(log, 0)
                writer.first_of.append(writer.next_seq)
            else:
                os.rename(log, rotated)
                os.close(os.open(log, os.O_WRONLY | os.O_CREAT, 0o644))  # logrotate "create"
                writer.created += 1
        writer.rotated.release()
    writer.join(timeout=60)
    assert writer.error is None, writer.error
    run.wait_seqs(TOTAL)
    style = "copytruncate" if copytruncate else "rename"
    # The last rotation may come after the last line (all of them late writes).
    wait_until(lambda: run.value("ronda_file_rotations_total", source="web", style=style)
               == ROTATIONS, "the last rotation")
    run.stop()

    seqs = run.seqs()
    assert_exactly_once(seqs, TOTAL)
    for gen in range(ROTATIONS + 1):  # in order within each file
        mine = [s for s in seqs if writer.file_of[s] == gen]
        assert mine == sorted(mine), f"generation {gen} out of order"
    assert run.value("ronda_file_rotations_total", source="web", style=style) == ROTATIONS
    assert run.value("ronda_received_total", component="web") == TOTAL


@pytest.mark.parametrize("watch", ["auto", "poll"])
def test_rename_rotation_under_load_delivers_every_line_once(tmp_path: Path, watch: str) -> None:
    _rotate_under_load(tmp_path, copytruncate=False, watch=watch)


@pytest.mark.parametrize("watch", ["auto", "poll"])
def test_copytruncate_under_load_delivers_every_line_once(tmp_path: Path, watch: str) -> None:
    _rotate_under_load(tmp_path, copytruncate=True, watch=watch)
