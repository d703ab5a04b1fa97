"""The disk spool: order, segments, restart recovery, corrupt tails, bounds, fsync."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from responders.spool import Position, Spool, SpoolFull
from ronda.clock import ManualClock


def _spool(path: Path, clock: ManualClock | None = None, **kw: object) -> Spool:
    opts: dict[str, object] = {"max_bytes": 1 << 20, "segment_bytes": 1 << 16,
                               "fsync": "batch", "fsync_interval": 1.0}
    opts.update(kw)
    return Spool(path, clock=clock or ManualClock(1000.0), **opts)  # type: ignore[arg-type]


def _payloads(n: int, start: int = 0, pad: int = 0) -> list[bytes]:
    return [f'{{"n":{i}}}'.encode() + b" " * pad for i in range(start, start + n)]


def _drain(s: Spool, batch: int = 7) -> list[bytes]:
    out: list[bytes] = []
    while records := s.read(batch):
        out.extend(r.payload for r in records if r.valid)
        s.ack(records[-1].end)
    return out


def _crash(s: Spool) -> None:
    """What dying does to a spool: its descriptors close, nothing else happens."""
    for fd in (s._tail_fd, s._lock_fd):
        if fd is not None:
            os.close(fd)


def _segments(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("seg-*.log"))


def test_append_read_in_order_and_read_does_not_consume(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    s.append(_payloads(3))
    s.append(_payloads(2, 3))
    first = s.read(10)
    assert [r.payload for r in first] == _payloads(5)
    assert [r.payload for r in s.read(2)] == _payloads(2)  # nothing consumed yet
    s.ack(first[1].end)
    assert [r.payload for r in s.read(10)] == _payloads(3, 2)
    assert all(r.time == 1000.0 for r in first)


def test_segments_roll_and_acked_segments_are_deleted(tmp_path: Path) -> None:
    s = _spool(tmp_path, segment_bytes=200)
    for i in range(20):
        s.append(_payloads(1, i, pad=40))
    assert len(_segments(tmp_path)) >= 4
    records = s.read(100)
    assert [r.payload for r in records] == _payloads(20, pad=40)
    s.ack(records[9].end)
    assert records[0].end.segment not in {int(n[4:16]) for n in _segments(tmp_path)}
    assert [r.payload for r in s.read(100)] == _payloads(10, 10, pad=40)
    s.ack(s.read(100)[-1].end)
    assert s.empty and s.pending_bytes == 0 and s.disk_bytes == 0
    assert _segments(tmp_path) == []  # everything delivered: no file left
    s.append(_payloads(1, 99))  # and appending starts a fresh segment
    assert [r.payload for r in s.read(5)] == _payloads(1, 99)


def test_restart_resumes_from_the_saved_cursor(tmp_path: Path) -> None:
    s = _spool(tmp_path, segment_bytes=300)
    for i in range(30):
        s.append(_payloads(1, i))
    records = s.read(12)
    s.ack(records[-1].end)
    s.close()
    again = _spool(tmp_path, segment_bytes=300)
    assert _drain(again) == _payloads(18, 12)
    again.append(_payloads(1, 500))
    assert _drain(again) == _payloads(1, 500)
    again.close()
    third = _spool(tmp_path, segment_bytes=300)
    assert third.empty and third.read(10) == []


def test_restart_without_close_keeps_every_appended_record(tmp_path: Path) -> None:
    s = _spool(tmp_path, fsync="interval", fsync_interval=3600.0)
    s.append(_payloads(4))
    s.ack(s.read(1)[0].end)
    _crash(s)  # no close, no sync: unbuffered writes are in the files all the same
    again = _spool(tmp_path)
    assert _drain(again) == _payloads(3, 1)


def test_corrupt_tail_is_truncated_and_counted(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    s.append(_payloads(3))
    s.close()
    (seg,) = tmp_path.glob("seg-*.log")
    with open(seg, "ab") as fh:
        fh.write(b'1000.000\t{"n":3, "half a rec')  # a crash in the middle of a write
    again = _spool(tmp_path)
    assert again.truncated == 1
    assert seg.read_bytes().endswith(b"\n")
    assert _drain(again) == _payloads(3)
    again.append(_payloads(1, 7))
    assert _drain(again) == _payloads(1, 7)


def test_unreadable_line_is_skipped_counted_and_acked(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    s.append(_payloads(1))
    s.close()
    (seg,) = tmp_path.glob("seg-*.log")
    with open(seg, "ab") as fh:
        fh.write(b"\x00\x00garbage without a stamp\n")
    again = _spool(tmp_path)
    again.append(_payloads(1, 1))
    records = again.read(10)
    assert [r.valid for r in records] == [True, False, True]
    assert again.corrupt == 1
    assert _drain(again) == _payloads(2)


def test_a_cursor_file_that_cannot_be_read_means_read_again_from_the_start(
        tmp_path: Path) -> None:
    s = _spool(tmp_path)
    s.append(_payloads(3))
    s.ack(s.read(1)[0].end)
    s.close()
    (tmp_path / "cursor").write_text("{garbage")
    assert _drain(_spool(tmp_path)) == _payloads(3)  # at worst sent twice, never lost


def test_full_spool_raises_and_writes_nothing(tmp_path: Path) -> None:
    s = _spool(tmp_path, max_bytes=1000, segment_bytes=400)
    s.append(_payloads(10, pad=50))  # ~670 bytes
    before = s.disk_bytes
    with pytest.raises(SpoolFull, match="is full"):
        s.append(_payloads(10, 10, pad=50))
    assert s.disk_bytes == before
    s.ack(s.read(100)[-1].end)  # delivered: room again
    s.append(_payloads(10, 10, pad=50))
    assert _drain(s) == _payloads(10, 10, pad=50)


def test_pending_bytes_and_oldest_time(tmp_path: Path) -> None:
    clock = ManualClock(50.0)
    s = _spool(tmp_path, clock)
    assert s.oldest_time() is None and s.pending_bytes == 0
    s.append(_payloads(2))
    clock.advance(5)
    s.append(_payloads(2, 2))
    assert s.oldest_time() == 50.0
    size = s.pending_bytes
    assert size == s.disk_bytes > 0
    records = s.read(2)
    s.ack(records[-1].end)
    assert s.oldest_time() == 55.0
    assert 0 < s.pending_bytes < size
    s.ack(s.read(10)[-1].end)
    assert s.oldest_time() is None and s.pending_bytes == 0


def test_read_respects_max_bytes_but_returns_at_least_one(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    s.append(_payloads(10, pad=100))
    assert len(s.read(10, max_bytes=10)) == 1
    assert len(s.read(10, max_bytes=250)) == 3  # stops once past the budget


def test_second_process_on_the_same_spool_is_refused(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    with pytest.raises(ValueError, match="in use by another ronda process"):
        _spool(tmp_path)
    s.close()
    _spool(tmp_path).close()  # released on close


class _FsyncCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, fd: int) -> None:
        self.calls += 1


@pytest.mark.parametrize(("policy", "appends_synced"), [
    ("always", True), ("batch", True), ("interval", False)])
def test_fsync_policy_on_append(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                policy: str, appends_synced: bool) -> None:
    clock = ManualClock(0.0)
    s = _spool(tmp_path, clock, fsync=policy, fsync_interval=10.0)
    s.append(_payloads(1))  # creates the first segment
    counter = _FsyncCounter()
    monkeypatch.setattr(os, "fsync", counter)
    for i in range(5):
        s.append(_payloads(1, i))
    assert counter.calls == (5 if appends_synced else 0)
    clock.advance(11)
    s.append(_payloads(1, 9))  # the interval has passed: interval syncs now too
    assert counter.calls == (6 if appends_synced else 1)
    counter.calls = 0
    s.append(_payloads(1, 10))
    s.sync()  # flush: always durable
    assert counter.calls >= 1


@pytest.mark.parametrize(("policy", "each_ack_synced"), [
    ("always", True), ("batch", False), ("interval", False)])
def test_fsync_policy_on_ack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             policy: str, each_ack_synced: bool) -> None:
    clock = ManualClock(0.0)
    s = _spool(tmp_path, clock, fsync=policy, fsync_interval=10.0)
    s.append(_payloads(6))
    records = s.read(6)
    s.ack(records[0].end)  # first ack after start is within the interval
    counter = _FsyncCounter()
    monkeypatch.setattr(os, "fsync", counter)
    for r in records[1:4]:
        s.ack(r.end)
    if each_ack_synced:
        assert counter.calls >= 3
    else:
        assert counter.calls == 0
        s.sync()  # flush makes the cursor durable
        assert counter.calls >= 1
    assert _spool_cursor(tmp_path) == records[3].end


def _spool_cursor(path: Path) -> Position:
    import json
    raw = json.loads((path / "cursor").read_text())
    return Position(raw["segment"], raw["offset"])


def test_acked_segments_left_by_a_crash_are_removed_on_open(tmp_path: Path) -> None:
    s = _spool(tmp_path, segment_bytes=100)
    for i in range(10):
        s.append(_payloads(1, i, pad=60))
    records = s.read(100)
    s.ack(records[5].end)
    s.close()
    # a crash between saving the cursor and deleting: put an old segment back
    (tmp_path / "seg-000000000001.log").write_bytes(b"1.000\t{\"stale\":1}\n")
    again = _spool(tmp_path, segment_bytes=100)
    assert not (tmp_path / "seg-000000000001.log").exists()
    assert _drain(again) == _payloads(4, 6, pad=60)
