"""The logfile source: delivery, partial and bad lines, watch modes, config, stopping."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from sensor.logfile import LogfileConfig
from tests.sensor.test_logfile_harness import (
    Run,
    append,
    assert_exactly_once,
    line,
    wait_until,
    write_seqs,
)


def test_lines_appended_after_start_are_delivered(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_seqs(log, range(3))
    run = Run(tmp_path, log).start()
    run.wait_seqs(3)
    write_seqs(log, range(3, 10))
    run.wait_seqs(10)
    run.stop()
    events = run.events()
    assert [e.fields["seq"] for e in events] == list(range(10))
    assert all(e.source == "web" for e in events)
    assert all(e.fields["log.file.path"] == str(log) for e in events)
    assert [e.fields["log.offset"] for e in events] == [len(line(0)) * i for i in range(10)]
    assert run.value("ronda_received_total", component="web") == 10
    assert run.value("ronda_emitted_total", component="web") == 10
    assert run.value("ronda_last_event_timestamp_seconds", source="web") == run.clock.now()
    assert run.value("ronda_source_lag_bytes", source="web", path=str(log)) == 0
    mark = run.position()["files"][0]
    st = os.stat(log)
    assert mark == {
        "path": str(log), "dev": st.st_dev, "ino": st.st_ino, "offset": st.st_size,
        "head_len": 256, "head_hash": mark["head_hash"],
    }


def test_relative_path_resolves_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    write_seqs(tmp_path / "logs" / "a.log", range(2))
    run = Run(tmp_path, "logs/a.log").start()
    run.wait_seqs(2)
    run.stop()
    assert run.events()[0].fields["log.file.path"] == str(tmp_path / "logs" / "a.log")


def test_waits_for_a_missing_file_and_its_folder(tmp_path: Path) -> None:
    log = tmp_path / "later" / "app.log"
    run = Run(tmp_path, log, start_at="end").start()
    wait_until(lambda: run.position() == {"files": []}, "the starting position")
    (tmp_path / "later").mkdir()
    write_seqs(log, range(5))  # a file created after start is read from its beginning
    run.wait_seqs(5)
    write_seqs(log, range(5, 8))
    run.wait_seqs(8)
    run.stop()
    assert run.seqs() == list(range(8))


def test_partial_last_line_is_held_until_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    first = line(0)
    append(log, first + b'{"seq": 1, "pa')
    run = Run(tmp_path, log).start()
    run.wait_seqs(1)
    wait_until(lambda: run.value("ronda_source_lag_bytes", source="web", path=str(log)) == 14,
               "lag of the partial line")
    assert run.seqs() == [0]
    assert run.position()["files"][0]["offset"] == len(first)
    append(log, b'd": "y"}\n')
    run.wait_seqs(2)
    run.stop()
    assert run.seqs() == [0, 1]
    assert run.events()[1].fields["log.offset"] == len(first)
    assert run.position()["files"][0]["offset"] == os.path.getsize(log)


def test_invalid_utf8_is_replaced_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, line(0) + b'{"seq": 1, "msg": "caf\xe9 \xff"}\n' + line(2))
    run = Run(tmp_path, log).start()
    run.wait_seqs(3)
    run.stop()
    events = run.events()
    assert [e.fields["seq"] for e in events] == [0, 1, 2]
    assert events[1].fields["msg"] == "caf\ufffd \ufffd"
    assert run.value("ronda_decode_errors_total", source="web") == 1


def test_unparsable_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, line(0) + b"not json at all\n\n[1, 2]\n" + line(1))
    run = Run(tmp_path, log).start()
    run.wait_seqs(2)
    wait_until(lambda: run.value("ronda_received_total", component="web") == 5, "5 lines")
    run.stop()
    assert run.seqs() == [0, 1]
    assert run.value("ronda_dropped_total", component="web", reason="parse_error") == 3
    assert run.value("ronda_emitted_total", component="web") == 2


def test_a_200kb_line_is_cut_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    long = json.dumps({"seq": 1, "blob": "é" * 100_000}).encode()  # 200 KB of UTF-8
    append(log, line(0))
    run = Run(tmp_path, log, max_line_bytes=1001).start()
    run.wait_seqs(1)
    append(log, long[:150_000])  # arrives in pieces: never buffered whole
    append(log, long[150_000:] + b"\n" + line(2))
    run.wait_seqs(2)
    wait_until(lambda: run.value("ronda_received_total", component="web") == 3, "3 lines")
    run.stop()
    assert run.seqs() == [0, 2]
    assert run.events()[1].fields["log.offset"] == len(line(0)) + len(long) + 1
    assert run.value("ronda_truncated_lines_total", source="web") == 1
    assert run.value("ronda_dropped_total", component="web", reason="parse_error") == 1
    assert run.value("ronda_decode_errors_total", source="web") == 0  # cut between chars


def test_start_at_end_skips_existing_lines(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_seqs(log, range(100))
    run = Run(tmp_path, log, start_at="end").start()
    wait_until(lambda: run.position() is not None, "first position")
    write_seqs(log, range(100, 103))
    run.wait_seqs(3)
    run.stop()
    assert run.seqs() == [100, 101, 102]


def test_poll_mode_follows_the_file(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = Run(tmp_path, log, watch="poll", poll_interval=0.05).start()
    write_seqs(log, range(50))
    run.wait_seqs(50)
    os.rename(log, tmp_path / "app.log.1")
    write_seqs(log, range(50, 60))
    run.wait_seqs(60)
    run.stop()
    assert run.seqs() == list(range(60))
    assert run.value("ronda_file_rotations_total", source="web", style="rename") == 1


class _FailingObserver:
    def schedule(self, *args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    def start(self) -> None:
        raise AssertionError("not reached")

    def stop(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass


def test_auto_falls_back_to_polling_when_inotify_fails(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "app.log"
    run = Run(tmp_path, log, poll_interval=0.05)
    run.source.observer_factory = _FailingObserver
    with caplog.at_level(logging.WARNING, logger="ronda.test.logfile"):
        run.start()
        write_seqs(log, range(20))
        run.wait_seqs(20)
        write_seqs(log, range(20, 25))
        run.wait_seqs(25)
        run.stop()
    assert run.seqs() == list(range(25))
    warnings = [r for r in caplog.records if "polling it instead" in r.getMessage()]
    assert len(warnings) == 1
    assert "inotify watch limit reached" in warnings[0].getMessage()


def test_forced_inotify_mode_fails_when_inotify_fails(tmp_path: Path) -> None:
    run = Run(tmp_path, tmp_path / "app.log", watch="inotify")
    run.source.observer_factory = _FailingObserver
    run.start()
    run.thread.join(timeout=30)
    assert isinstance(run.error, OSError)


def test_stop_returns_quickly_mid_stream_at_a_line_boundary(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_seqs(log, range(200_000))
    run = Run(tmp_path, log, poll_interval=30.0, batch_lines=500).start()
    run.wait_seqs(1000)
    took = run.stop()
    assert took < 1.0
    seqs = run.seqs()
    assert seqs == list(range(len(seqs)))
    assert len(seqs) < 200_000  # stopped mid-stream
    assert run.position()["files"][0]["offset"] == sum(len(line(s)) for s in seqs)


def test_stop_returns_quickly_when_idle(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_seqs(log, range(3))
    run = Run(tmp_path, log, poll_interval=30.0).start()
    run.wait_seqs(3)
    assert run.stop() < 1.0


def test_many_small_writes_are_each_delivered_once(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = Run(tmp_path, log, batch_lines=7).start()
    for seq in range(2000):
        data = line(seq)
        if seq % 5 == 0:  # some lines arrive in two writes
            append(log, data[:10])
            append(log, data[10:])
        else:
            append(log, data)
    run.wait_seqs(2000)
    run.stop()
    assert_exactly_once(run.seqs(), 2000)
    assert run.seqs() == list(range(2000))
    assert all(len(events) <= 7 for events, _ in run.batches)


def test_config_validation() -> None:
    ok = LogfileConfig.model_validate({"type": "logfile", "path": "~/x.log", "format": "json",
                                       "poll_interval": "250ms", "rotate_grace": "1m"})
    assert (ok.poll_interval, ok.rotate_grace, ok.watch, ok.start_at) == (0.25, 60.0, "auto",
                                                                          "beginning")
    assert (ok.max_line_bytes, ok.batch_lines) == (65536, 1000)
    with pytest.raises(ValidationError) as err:
        LogfileConfig(type="logfile", path="x", format="csv")
    assert "unknown format 'csv' (expected one of nginx, apache, sshd, syslog, json)" in str(
        err.value)
    with pytest.raises(ValidationError):
        LogfileConfig(type="logfile", path="x", format="json", follow=True)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        LogfileConfig(type="logfile", path="x", format="json", watch="fanotify")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        LogfileConfig(type="logfile", path="x", format="json", batch_lines=0)


def test_home_directory_in_path_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_seqs(tmp_path / "h.log", range(1))
    run = Run(tmp_path, "~/h.log").start()
    run.wait_seqs(1)
    run.stop()
    assert run.events()[0].fields["log.file.path"] == str(tmp_path / "h.log")


def test_a_fifo_at_the_path_is_not_waited_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "app.log"
    os.mkfifo(log)
    with caplog.at_level(logging.WARNING, logger="ronda.test.logfile"):
        run = Run(tmp_path, log).start()
        wait_until(lambda: "not a regular file" in caplog.text, "a warning")
        os.unlink(log)
        write_seqs(log, range(2))
        run.wait_seqs(2)
        run.stop()
    assert caplog.text.count("not a regular file") == 1


def test_the_folder_removed_and_created_again(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    log = folder / "app.log"
    write_seqs(log, range(3))
    run = Run(tmp_path, log, rotate_grace=0).start()
    run.wait_seqs(3)
    shutil.rmtree(folder)  # the deletion wakes the source: it lets the file go
    wait_until(lambda: run.position() == {"files": []}, "the file let go")
    folder.mkdir()
    write_seqs(log, range(3, 6))
    run.wait_seqs(6)
    run.stop()
    assert run.seqs() == list(range(6))
