from ronda.pipeline.aggregate import Aggregator
from ronda.schema import Alert, RuleRef, Severity


def _a(t: float, key: str = "k", rule: str = "r") -> Alert:
    return Alert(rule=RuleRef(id=rule, name=rule, ruleset="t", category="scanner"),
                 severity=Severity.MEDIUM, message="m", first_seen=t, last_seen=t, key=key,
                 evidence=(f"line {t}",))


def test_repeats_merge_into_one_alert_with_growing_count() -> None:
    agg = Aggregator(window=60, max_open=100)
    out, merged = agg.add(_a(0), now=0)
    assert [a.count for a in out] == [1] and not merged
    first_id = out[0].id
    for t in range(1, 50):
        out, merged = agg.add(_a(t), now=t)
        assert out == [] and merged
    assert agg.expire(now=50) == []
    closed = agg.expire(now=61)
    assert len(closed) == 1
    assert closed[0].id == first_id and closed[0].count == 50 and closed[0].last_seen == 49
    assert len(closed[0].evidence) == 10
    assert len(agg) == 0


def test_different_keys_and_rules_are_separate() -> None:
    agg = Aggregator(window=60, max_open=100)
    assert len(agg.add(_a(0, key="a"), 0)[0]) == 1
    assert len(agg.add(_a(0, key="b"), 0)[0]) == 1
    assert len(agg.add(_a(0, key="a", rule="other"), 0)[0]) == 1


def test_outside_window_opens_a_new_alert_and_closes_the_old() -> None:
    agg = Aggregator(window=60, max_open=100)
    agg.add(_a(0), 0)
    agg.add(_a(10), 10)
    out, merged = agg.add(_a(100), 100)
    assert not merged
    assert [a.count for a in out] == [2, 1]
    assert out[0].id != out[1].id


def test_bounded_open_entries() -> None:
    agg = Aggregator(window=60, max_open=10)
    for i in range(100):
        agg.add(_a(0, key=str(i)), 0)
    assert len(agg) == 10


def test_flush_all_returns_only_grown_alerts() -> None:
    agg = Aggregator(window=60, max_open=10)
    agg.add(_a(0, key="x"), 0)
    agg.add(_a(0, key="y"), 0)
    agg.add(_a(1, key="y"), 1)
    assert [(a.key, a.count) for a in agg.flush_all()] == [("y", 2)]
    assert agg.flush_all() == []
