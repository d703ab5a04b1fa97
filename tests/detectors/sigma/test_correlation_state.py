"""CorrelationSet state: bounded memory, eviction metric, reload, reset."""

from __future__ import annotations

from typing import Any

from detectors.sigma.correlation import CorrelationSet
from ronda.schema import Event
from tests.detectors.sigma.correlation_support import (
    BASES,
    CORR,
    CORR2,
    FAILED,
    NOTFOUND,
    T0,
    correlation,
    ev,
    evicted,
    make_ctx,
    make_set,
    parse,
)

IP = "203.0.113.45"


def count_rule(threshold: int = 3, timespan: str = "1m", title: str = "Count", op: str = "gte",
               rid: str = CORR) -> str:
    return correlation(
        f"type: event_count\nrules: [failed]\ngroup-by: [source.ip]\ntimespan: {timespan}\n"
        f"condition: {{{op}: {threshold}}}",
        title=title, rid=rid,
    )


def table(cs: CorrelationSet, rid: str = CORR) -> Any:
    """The window state of one rule (white-box checks of the memory bounds)."""
    return cs._runtimes[rid].table


def test_lru_eviction_is_bounded_and_counted() -> None:
    ctx = make_ctx()
    cs = make_set(count_rule(), max_groups=3, ctx=ctx)
    cs.feed(FAILED, ev(0, source_ip="a"))
    cs.feed(FAILED, ev(1, source_ip="a"))
    for t, ip in enumerate(["b", "c", "d"], start=2):  # "a" is the least recently used
        cs.feed(FAILED, ev(t, source_ip=ip))
    assert cs.group_counts() == {CORR: 3}
    assert evicted(ctx) == 1
    assert cs.feed(FAILED, ev(6, source_ip="a")) == []  # its two events were lost
    assert evicted(ctx) == 2  # "b" made room


def test_recently_used_group_survives_eviction() -> None:
    cs = make_set(count_rule(), max_groups=2)
    cs.feed(FAILED, ev(0, source_ip="a"))
    cs.feed(FAILED, ev(1, source_ip="b"))
    cs.feed(FAILED, ev(2, source_ip="a"))  # touch "a"
    cs.feed(FAILED, ev(3, source_ip="c"))  # evicts "b"
    assert len(cs.feed(FAILED, ev(4, source_ip="a"))) == 1


def test_one_million_distinct_keys_stay_within_max_groups() -> None:
    ctx = make_ctx()
    cs = make_set(count_rule(threshold=2), max_groups=1000, ctx=ctx)
    event = Event(dataset="sshd.auth", timestamp=T0, fields={}, message="x")
    fields = event.fields
    feed = cs.feed
    n = 1_000_000
    for i in range(n):
        fields["source.ip"] = i
        event.timestamp = T0 + i * 0.001
        feed(FAILED, event)
    assert cs.group_counts() == {CORR: 1000}
    assert evicted(ctx) == n - 1000  # none idle long enough to be pruned instead


def test_idle_groups_are_pruned_without_counting() -> None:
    ctx = make_ctx()
    cs = make_set(count_rule(timespan="10s"), ctx=ctx)
    for i in range(50):
        cs.feed(FAILED, ev(0, source_ip=f"10.0.0.{i}"))
    assert cs.group_counts() == {CORR: 50}
    cs.feed(FAILED, ev(25, source_ip="10.0.1.1"))  # idle for more than two windows
    assert cs.group_counts() == {CORR: 1}
    assert evicted(ctx) == 0


def test_count_group_keeps_at_most_threshold_timestamps() -> None:
    cs = make_set(count_rule(threshold=5, timespan="1h"))
    for i in range(4):
        cs.feed(FAILED, ev(i, source_ip=IP))
    for _ in range(1000):  # late events inside the window: inserted, then trimmed
        cs.feed(FAILED, ev(0.5, source_ip="other"))
        assert len(table(cs).groups[("other",)].times) < 5
    assert len(table(cs).groups[(IP,)].times) == 4


def test_closing_value_count_keeps_at_most_count_plus_one_values() -> None:
    doc = correlation(
        "type: value_count\nrules: [failed]\ngroup-by: [source.ip]\ntimespan: 1h\n"
        "condition: {field: user.name, lt: 10}"
    )
    cs = make_set(doc)
    for i in range(10_000):
        cs.feed(FAILED, ev(1, source_ip=IP, user_name=f"u{i}"))
    assert len(table(cs).groups[(IP,)].values) == 11
    assert cs.advance(T0 + 4000) == []  # 10000 distinct: not fewer than 10


def test_closing_heap_stays_bounded_under_eviction() -> None:
    cs = make_set(count_rule(op="lt"), max_groups=100)
    for i in range(100_000):
        cs.feed(FAILED, ev(0, source_ip=i))
    assert cs.group_counts()[CORR] == 100
    assert len(table(cs)._heap) <= 2 * 100 + 64 + 1


def test_sum_group_keeps_bounded_buckets() -> None:
    doc = correlation(
        "type: value_sum\nrules: [notfound]\ngroup-by: [source.ip]\ntimespan: 1m\n"
        "condition: {field: bytes, gte: 1000000000}"
    )
    cs = make_set(doc)
    for i in range(20_000):
        cs.feed(NOTFOUND, ev(i * 0.01, source_ip=IP, bytes=1))
    assert len(table(cs).groups[(IP,)].buckets) <= 65


# --- reload ------------------------------------------------------------------------------


def test_adopt_state_keeps_windows_of_unchanged_rules() -> None:
    old = make_set(count_rule(threshold=10))
    for i in range(9):
        old.feed(FAILED, ev(i, source_ip=IP))
    new = make_set(count_rule(threshold=10, title="Renamed"))  # metadata change only
    new.adopt_state(old)
    alerts = new.feed(FAILED, ev(9, source_ip=IP))
    assert [a.rule.name for a in alerts] == ["Renamed"]


def test_adopt_state_drops_windows_of_changed_rules() -> None:
    old = make_set(count_rule(threshold=10))
    for i in range(9):
        old.feed(FAILED, ev(i, source_ip=IP))
    new = make_set(count_rule(threshold=11))
    new.adopt_state(old)
    assert new.group_counts() == {CORR: 0}
    assert new.feed(FAILED, ev(9, source_ip=IP)) == []


def test_adopt_state_drops_windows_when_base_rule_detection_changed() -> None:
    old = make_set(count_rule(threshold=10))
    for i in range(9):
        old.feed(FAILED, ev(i, source_ip=IP))
    changed = BASES.replace("event.outcome: failure", "event.outcome: failed")
    assert changed != BASES
    rules = parse(count_rule(threshold=10), bases=changed)
    new = CorrelationSet(rules, make_ctx(), "sigma", 1000)
    new.adopt_state(old)
    assert new.group_counts() == {CORR: 0}


def test_adopt_state_applies_a_smaller_max_groups() -> None:
    ctx = make_ctx()
    old = make_set(count_rule(threshold=10), max_groups=100)
    for i in range(50):
        old.feed(FAILED, ev(i, source_ip=i))
    new = make_set(count_rule(threshold=10), max_groups=10, ctx=ctx)
    new.adopt_state(old)
    assert new.group_counts() == {CORR: 10}
    assert evicted(ctx) == 40


def test_adopt_state_with_removed_and_added_rules() -> None:
    old = make_set(count_rule(threshold=10), count_rule(threshold=3, rid=CORR2))
    for i in range(9):
        old.feed(FAILED, ev(i, source_ip=IP))
    new = make_set(count_rule(threshold=3, rid=CORR2))
    new.adopt_state(old)
    assert new.group_counts() == {CORR2: 1}


def test_adopt_state_keeps_closing_windows() -> None:
    old = make_set(count_rule(op="lt", threshold=3))
    old.feed(FAILED, ev(0, source_ip=IP))
    new = make_set(count_rule(op="lt", threshold=3))
    new.adopt_state(old)
    assert len(new.advance(T0 + 61)) == 1


# --- reset, advance, info ------------------------------------------------------------------


def test_reset_drops_all_state() -> None:
    cs = make_set(count_rule(threshold=3), count_rule(op="lt", threshold=3, rid=CORR2))
    cs.feed(FAILED, ev(100, source_ip=IP))
    cs.feed(FAILED, ev(101, source_ip=IP))
    cs.reset()
    assert cs.group_counts() == {CORR: 0, CORR2: 0}
    assert cs.advance(T0 + 1000) == []
    # the event-time watermark was reset too: an earlier scenario can be replayed
    cs.feed(FAILED, ev(0, source_ip=IP))
    cs.feed(FAILED, ev(1, source_ip=IP))
    assert [a.rule.id for a in cs.feed(FAILED, ev(2, source_ip=IP))] == [CORR]


def test_closing_windows_close_on_any_later_event() -> None:
    cs = make_set(count_rule(op="lt", threshold=3))
    cs.feed(FAILED, ev(0, source_ip=IP))
    alerts = cs.feed("some-other-base-rule", ev(61))
    assert [a.key for a in alerts] == [IP]


def test_rule_info() -> None:
    cs = make_set(count_rule(title="Brute"))
    [(ref, severity)] = cs.rule_info()
    assert (ref.id, ref.name, ref.ruleset, ref.category, severity.value) == (
        CORR, "Brute", "sigma", "brute-force", "high",
    )
