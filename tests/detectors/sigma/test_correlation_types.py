"""CorrelationSet semantics per correlation type, driven with pySigma-parsed rules."""

from __future__ import annotations

from ronda.schema import Event, Severity
from tests.detectors.sigma.correlation_support import (
    ACCEPTED,
    CORR,
    CORR2,
    FAILED,
    NOTFOUND,
    T0,
    correlation,
    ev,
    make_set,
)

IP = "203.0.113.45"

BRUTE = correlation(
    """
type: event_count
rules: [failed]
group-by: [source.ip]
timespan: 1m
condition: {gte: 10}
""",
    title="SSH brute force",
)


def count_rule(condition: str, timespan: str = "10s", group_by: str = "[source.ip]") -> str:
    return correlation(
        f"type: event_count\nrules: [failed]\ngroup-by: {group_by}\n"
        f"timespan: {timespan}\ncondition: {condition}"
    )


# --- event_count ----------------------------------------------------------------------


def test_event_count_fires_at_threshold_with_alert_details() -> None:
    cs = make_set(BRUTE)
    for i in range(9):
        assert cs.feed(FAILED, ev(i, f"fail {i}", source_ip=IP, user_name="root")) == []
    alerts = cs.feed(FAILED, ev(9, "fail 9", source_ip=IP, user_name="admin", host_hostname="h1"))
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.rule.id == CORR
    assert alert.rule.name == "SSH brute force"
    assert alert.rule.ruleset == "sigma"
    assert alert.rule.category == "brute-force"
    assert alert.techniques == ("T1110.001",)
    assert alert.severity is Severity.HIGH
    assert alert.key == IP
    assert alert.fields == {"source.ip": IP, "user.name": "admin", "host.hostname": "h1"}
    assert alert.evidence == ("fail 5", "fail 6", "fail 7", "fail 8", "fail 9")
    assert alert.message == f"SSH brute force from {IP}: 10 events in 1m"
    assert (alert.first_seen, alert.last_seen) == (T0, T0 + 9)
    assert (alert.sensor, alert.detector) == ("gw-01", "sigma")


def test_event_count_gt_needs_one_more() -> None:
    cs = make_set(count_rule("{gt: 3}"))
    fired = [bool(cs.feed(FAILED, ev(i, source_ip=IP))) for i in range(4)]
    assert fired == [False, False, False, True]


def test_groups_are_counted_separately() -> None:
    cs = make_set(count_rule("{gte: 3}"))
    alerts = []
    for i in range(3):
        for ip in ("198.51.100.1", "198.51.100.2"):
            alerts += cs.feed(FAILED, ev(i, source_ip=ip))
    assert sorted(a.key for a in alerts) == ["198.51.100.1", "198.51.100.2"]


def test_group_by_several_fields_joins_key_with_bar() -> None:
    cs = make_set(count_rule("{gte: 2}", group_by="[source.ip, user.name]"))
    assert cs.feed(FAILED, ev(0, source_ip=IP, user_name="root")) == []
    assert cs.feed(FAILED, ev(1, source_ip=IP, user_name="admin")) == []
    alerts = cs.feed(FAILED, ev(2, source_ip=IP, user_name="root"))
    assert [a.key for a in alerts] == [f"{IP}|root"]
    assert alerts[0].fields["user.name"] == "root"


def test_without_group_by_all_events_share_one_group() -> None:
    doc = correlation("type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {gte: 3}",
                      title="Many failures")
    cs = make_set(doc)
    cs.feed(FAILED, ev(0, source_ip="198.51.100.1"))
    cs.feed(FAILED, ev(1, source_ip="198.51.100.2"))
    alerts = cs.feed(FAILED, ev(2))
    assert [a.key for a in alerts] == [""]
    assert alerts[0].message == "Many failures: 3 events in 1m"


def test_event_without_group_field_is_ignored() -> None:
    cs = make_set(count_rule("{gte: 2}"))
    for i in range(5):
        assert cs.feed(FAILED, ev(i, user_name="root")) == []
    assert cs.group_counts() == {CORR: 0}


def test_window_slides_events_fall_out() -> None:
    cs = make_set(count_rule("{gte: 3}"))  # 3 in 10 s
    assert cs.feed(FAILED, ev(0, source_ip=IP)) == []
    assert cs.feed(FAILED, ev(5, source_ip=IP)) == []
    assert cs.feed(FAILED, ev(11, source_ip=IP)) == []  # the event at 0 fell out
    alerts = cs.feed(FAILED, ev(12, source_ip=IP))
    assert len(alerts) == 1
    assert (alerts[0].first_seen, alerts[0].last_seen) == (T0 + 5, T0 + 12)


def test_rearms_after_firing_for_periodic_alerts() -> None:
    cs = make_set(BRUTE)
    fired_at = [i for i in range(25) if cs.feed(FAILED, ev(i * 0.5, source_ip=IP))]
    assert fired_at == [9, 19]


def test_out_of_order_events_within_window_count() -> None:
    cs = make_set(count_rule("{gte: 3}"))
    assert cs.feed(FAILED, ev(10, source_ip=IP)) == []
    assert cs.feed(FAILED, ev(12, source_ip=IP)) == []
    alerts = cs.feed(FAILED, ev(5, source_ip=IP))  # late, but within 10 s of the newest
    assert len(alerts) == 1
    assert alerts[0].first_seen == T0 + 5


def test_event_older_than_window_is_ignored() -> None:
    cs = make_set(count_rule("{gte: 3}"))
    cs.feed(FAILED, ev(30, source_ip=IP))
    cs.feed(FAILED, ev(31, source_ip=IP))
    assert cs.feed(FAILED, ev(15, source_ip=IP)) == []  # older than 31 - 10
    assert len(cs.feed(FAILED, ev(32, source_ip=IP))) == 1


# --- value_count ------------------------------------------------------------------------

SWEEP = correlation(
    """
type: value_count
rules: [failed]
group-by: [source.ip]
timespan: 5m
condition: {field: user.name, gte: 3}
""",
    title="SSH user sweep",
    level="medium",
)


def test_value_count_counts_distinct_values() -> None:
    cs = make_set(SWEEP)
    for t, user in enumerate(["admin", "admin", "test", "test", "admin"]):
        assert cs.feed(FAILED, ev(t, source_ip=IP, user_name=user)) == []
    alerts = cs.feed(FAILED, ev(9, source_ip=IP, user_name="oracle"))
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.fields["user.name"] == ["oracle", "admin", "test"]  # most recent first
    assert alert.message == (
        f"SSH user sweep from {IP}: 3 distinct user.name (oracle, admin, test) in 5m"
    )
    assert alert.severity is Severity.MEDIUM


def test_value_count_values_expire_with_the_window() -> None:
    cs = make_set(SWEEP)
    cs.feed(FAILED, ev(0, source_ip=IP, user_name="a"))
    cs.feed(FAILED, ev(100, source_ip=IP, user_name="b"))
    assert cs.feed(FAILED, ev(301, source_ip=IP, user_name="c")) == []  # "a" expired
    assert len(cs.feed(FAILED, ev(302, source_ip=IP, user_name="d"))) == 1


def test_value_count_ignores_events_without_the_field() -> None:
    cs = make_set(SWEEP)
    for t in range(5):
        assert cs.feed(FAILED, ev(t, source_ip=IP)) == []


# --- value_sum / value_avg ----------------------------------------------------------------


def sum_rule(condition: str, kind: str = "value_sum") -> str:
    return correlation(
        f"type: {kind}\nrules: [notfound]\ngroup-by: [source.ip]\ntimespan: 1m\n"
        f"condition: {condition}",
        title="Bytes",
    )


def body(t: float, size: object, ip: str = IP) -> Event:
    return ev(t, dataset="nginx.access", source_ip=ip, extra={"http.response.body.bytes": size})


def test_value_sum_fires_when_sum_reaches() -> None:
    cs = make_set(sum_rule("{field: http.response.body.bytes, gte: 1000}"))
    assert cs.feed(NOTFOUND, body(0, 400)) == []
    assert cs.feed(NOTFOUND, body(1, "400")) == []
    assert cs.feed(NOTFOUND, body(2, "lots")) == []
    assert cs.feed(NOTFOUND, body(3, True)) == []
    alerts = cs.feed(NOTFOUND, body(4, 200.5))
    assert len(alerts) == 1
    assert alerts[0].message == (
        f"Bytes from {IP}: http.response.body.bytes sums to 1000.5 over 3 events in 1m"
    )


def test_value_sum_window_slides() -> None:
    cs = make_set(sum_rule("{field: http.response.body.bytes, gt: 1000}"))
    assert cs.feed(NOTFOUND, body(0, 600)) == []
    assert cs.feed(NOTFOUND, body(70, 600)) == []
    assert len(cs.feed(NOTFOUND, body(71, 500))) == 1


def test_value_avg_is_evaluated_when_the_window_closes() -> None:
    cs = make_set(sum_rule("{field: http.response.body.bytes, gte: 150}", kind="value_avg"))
    assert cs.feed(NOTFOUND, body(0, 100)) == []
    assert cs.feed(NOTFOUND, body(30, 300)) == []
    assert cs.feed(NOTFOUND, body(10, 50, ip="198.51.100.9")) == []
    alerts = cs.advance(T0 + 61)  # the window [0, 60] closed
    assert [a.key for a in alerts] == [IP]
    assert alerts[0].message == (
        f"Bytes from {IP}: http.response.body.bytes averages 200 over 2 events in 1m"
    )
    assert alerts[0].fields == {"source.ip": IP}
    assert cs.advance(T0 + 100) == []  # 198.51.100.9 averaged 50


# --- conditions decided when a window closes ---------------------------------------------


def test_lt_is_evaluated_when_window_closes() -> None:
    cs = make_set(count_rule("{lt: 3}", timespan="1m"))
    cs.feed(FAILED, ev(0, "a", source_ip="198.51.100.1", user_name="u1"))
    cs.feed(FAILED, ev(5, "b", source_ip="198.51.100.1", user_name="u2"))
    for t in range(3):
        cs.feed(FAILED, ev(t, source_ip="198.51.100.2"))
    assert cs.feed(FAILED, ev(60, source_ip="198.51.100.3")) == []  # windows end at 60, 62
    alerts = cs.feed(FAILED, ev(61, source_ip="198.51.100.3"))  # closes [0, 60] windows
    assert [a.key for a in alerts] == ["198.51.100.1"]
    alert = alerts[0]
    assert alert.message == "Test correlation from 198.51.100.1: 2 events in 1m"
    assert alert.fields == {"source.ip": "198.51.100.1", "user.name": "u2"}
    assert alert.evidence == ("a", "b")
    assert (alert.first_seen, alert.last_seen) == (T0, T0 + 5)


def test_eq_neq_lte_at_close() -> None:
    for condition, count, expected in [
        ("{eq: 2}", 2, True), ("{eq: 2}", 3, False), ("{neq: 2}", 3, True),
        ("{neq: 2}", 2, False), ("{lte: 2}", 2, True), ("{lte: 2}", 3, False),
    ]:
        cs = make_set(count_rule(condition))
        for i in range(count):
            cs.feed(FAILED, ev(i, source_ip=IP))
        assert bool(cs.advance(T0 + 100)) is expected, (condition, count)


def test_value_count_lt_at_close() -> None:
    doc = correlation(
        "type: value_count\nrules: [failed]\ngroup-by: [source.ip]\ntimespan: 1m\n"
        "condition: {field: user.name, lt: 3}"
    )
    cs = make_set(doc)
    for t, user in enumerate(["a", "b", "a", "b"]):
        cs.feed(FAILED, ev(t, source_ip="198.51.100.1", user_name=user))
    for t in range(50):
        cs.feed(FAILED, ev(t, source_ip="198.51.100.2", user_name=f"user{t}"))
    alerts = cs.advance(T0 + 61)
    assert [a.key for a in alerts] == ["198.51.100.1"]
    assert sorted(alerts[0].fields["user.name"]) == ["a", "b"]


def test_next_event_after_close_opens_a_new_window() -> None:
    cs = make_set(count_rule("{lt: 2}"))
    cs.feed(FAILED, ev(0, source_ip=IP))
    alerts = cs.feed(FAILED, ev(20, source_ip=IP))  # closes [0, 10], opens [20, 30]
    assert len(alerts) == 1
    assert cs.group_counts() == {CORR: 1}
    assert len(cs.advance(T0 + 31)) == 1


# --- temporal ---------------------------------------------------------------------------


def temporal(kind: str = "temporal", rules: str = "[failed, accepted]", extra: str = "") -> str:
    return correlation(
        f"type: {kind}\nrules: {rules}\ngroup-by: [source.ip]\ntimespan: 1m\n{extra}",
        title="Failure and success",
    )


def test_temporal_any_order() -> None:
    cs = make_set(temporal())
    assert cs.feed(ACCEPTED, ev(0, "ok", source_ip=IP)) == []
    assert cs.feed(FAILED, ev(1, source_ip="198.51.100.1")) == []  # other group
    alerts = cs.feed(FAILED, ev(30, "fail", source_ip=IP))
    assert len(alerts) == 1
    assert alerts[0].message == (
        f"Failure and success from {IP}: SSH login failed and SSH login accepted within 1m"
    )
    assert alerts[0].evidence == ("ok", "fail")
    assert (alerts[0].first_seen, alerts[0].last_seen) == (T0, T0 + 30)


def test_temporal_outside_timespan_does_not_fire() -> None:
    cs = make_set(temporal())
    cs.feed(FAILED, ev(0, source_ip=IP))
    assert cs.feed(ACCEPTED, ev(61, source_ip=IP)) == []
    assert len(cs.feed(FAILED, ev(62, source_ip=IP))) == 1


def test_temporal_rearms() -> None:
    cs = make_set(temporal())
    cs.feed(FAILED, ev(0, source_ip=IP))
    assert len(cs.feed(ACCEPTED, ev(1, source_ip=IP))) == 1
    assert cs.feed(ACCEPTED, ev(2, source_ip=IP)) == []
    assert len(cs.feed(FAILED, ev(3, source_ip=IP))) == 1


def test_temporal_with_count_condition() -> None:
    doc = temporal(rules="[failed, accepted, notfound]", extra="condition: {gte: 2}")
    cs = make_set(doc)
    assert cs.feed(NOTFOUND, ev(0, source_ip=IP)) == []
    alerts = cs.feed(ACCEPTED, ev(1, source_ip=IP))
    assert len(alerts) == 1
    assert "SSH login accepted and HTTP not found" in alerts[0].message


def test_temporal_extended_condition() -> None:
    doc = correlation(
        "type: temporal\ngroup-by: [source.ip]\ntimespan: 1m\n"
        "condition: failed and (accepted or notfound)"
    )
    cs = make_set(doc)
    assert cs.feed(ACCEPTED, ev(0, source_ip=IP)) == []
    assert cs.feed(NOTFOUND, ev(1, source_ip=IP)) == []
    assert len(cs.feed(FAILED, ev(2, source_ip=IP))) == 1


def test_temporal_ordered_needs_the_listed_order() -> None:
    cs = make_set(temporal("temporal_ordered"))
    assert cs.feed(ACCEPTED, ev(0, source_ip=IP)) == []
    assert cs.feed(FAILED, ev(1, source_ip=IP)) == []
    alerts = cs.feed(ACCEPTED, ev(2, source_ip=IP))
    assert len(alerts) == 1
    assert alerts[0].message == (
        f"Failure and success from {IP}: SSH login failed then SSH login accepted within 1m"
    )
    assert (alerts[0].first_seen, alerts[0].last_seen) == (T0 + 1, T0 + 2)


def test_temporal_ordered_respects_timespan_from_first_step() -> None:
    cs = make_set(temporal("temporal_ordered"))
    cs.feed(FAILED, ev(0, source_ip=IP))
    assert cs.feed(ACCEPTED, ev(61, source_ip=IP)) == []
    cs.feed(FAILED, ev(62, source_ip=IP))
    assert len(cs.feed(ACCEPTED, ev(63, source_ip=IP))) == 1


def test_temporal_ordered_same_rule_twice() -> None:
    cs = make_set(temporal("temporal_ordered", rules="[failed, failed, accepted]"))
    cs.feed(FAILED, ev(0, source_ip=IP))
    assert cs.feed(ACCEPTED, ev(1, source_ip=IP)) == []  # one failure is not two
    cs.feed(FAILED, ev(2, source_ip=IP))
    assert len(cs.feed(ACCEPTED, ev(3, source_ip=IP))) == 1


def test_temporal_ordered_late_event_in_order_by_timestamp() -> None:
    cs = make_set(temporal("temporal_ordered"))
    cs.feed(FAILED, ev(10, source_ip=IP))
    assert cs.feed(ACCEPTED, ev(5, source_ip=IP)) == []  # happened before the failure
    assert len(cs.feed(ACCEPTED, ev(11, source_ip=IP))) == 1


# --- aliases ------------------------------------------------------------------------------

ALIASED = correlation(
    f"""
type: temporal
rules: [failed, notfound]
group-by: [ip]
aliases:
  ip:
    failed: source.ip
    {NOTFOUND}: client.ip
timespan: 5m
"""
)


def test_alias_maps_group_field_per_rule() -> None:
    cs = make_set(ALIASED)
    assert cs.feed(FAILED, ev(0, source_ip=IP)) == []
    assert cs.feed(NOTFOUND, ev(1, dataset="nginx.access", client_ip="198.51.100.1")) == []
    alerts = cs.feed(NOTFOUND, ev(2, dataset="nginx.access", client_ip=IP))
    assert [a.key for a in alerts] == [IP]
    assert alerts[0].fields == {"client.ip": IP}


def test_alias_with_event_count_over_two_rules() -> None:
    doc = correlation(
        """
type: event_count
rules: [failed, notfound]
group-by: [ip]
aliases:
  ip: {failed: source.ip, notfound: client.ip}
timespan: 1m
condition: {gte: 4}
"""
    )
    cs = make_set(doc)
    cs.feed(FAILED, ev(0, source_ip=IP))
    cs.feed(NOTFOUND, ev(1, client_ip=IP))
    cs.feed(NOTFOUND, ev(2, source_ip=IP))  # no client.ip: not counted
    cs.feed(FAILED, ev(3, source_ip=IP))
    assert len(cs.feed(NOTFOUND, ev(4, client_ip=IP))) == 1


def test_alias_for_the_value_field() -> None:
    doc = correlation(
        """
type: value_count
rules: [failed, notfound]
group-by: [source.ip]
aliases:
  target: {failed: user.name, notfound: url.path}
timespan: 1m
condition: {field: target, gte: 3}
"""
    )
    cs = make_set(doc)
    cs.feed(FAILED, ev(0, source_ip=IP, user_name="root"))
    cs.feed(NOTFOUND, ev(1, source_ip=IP, url_path="/admin"))
    cs.feed(NOTFOUND, ev(2, source_ip=IP, url_path="/admin"))
    alerts = cs.feed(NOTFOUND, ev(3, source_ip=IP, url_path="/backup"))
    assert len(alerts) == 1
    assert alerts[0].fields["url.path"] == ["/backup", "/admin", "root"]


# --- generate, chaining, metadata -------------------------------------------------------


def test_generate_false_suppresses_referenced_base_rules() -> None:
    cs = make_set(temporal())
    assert cs.base_ids() == {FAILED, ACCEPTED}
    assert cs.suppressed_ids() == {FAILED, ACCEPTED}
    cs2 = make_set(temporal(extra="generate: true"))
    assert cs2.suppressed_ids() == frozenset()


def chain(generate: str = "false") -> tuple[str, str]:
    inner = correlation(
        "type: event_count\nrules: [failed]\ngroup-by: [source.ip]\ntimespan: 10m\n"
        "condition: {gte: 3}",
        rid=CORR2, name="failures", title="Failures",
    )
    outer = correlation(
        "type: temporal_ordered\nrules: [failures, accepted]\ngroup-by: [source.ip]\n"
        f"timespan: 10m\ngenerate: {generate}",
        title="Login after failures",
    )
    return inner, outer


def test_chained_correlation_feeds_temporal_ordered() -> None:
    inner, outer = chain()
    cs = make_set(inner, outer)
    assert cs.base_ids() == {FAILED, ACCEPTED}
    assert cs.suppressed_ids() == {FAILED, ACCEPTED}
    assert cs.feed(ACCEPTED, ev(0, source_ip=IP)) == []
    for i in range(3):  # the inner rule fires (silently) at the third failure
        assert cs.feed(FAILED, ev(10 + i, f"fail {i}", source_ip=IP)) == []
    assert cs.feed(ACCEPTED, ev(20, "ok", source_ip="198.51.100.1")) == []
    alerts = cs.feed(ACCEPTED, ev(500, "ok", source_ip=IP, user_name="root"))
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.rule.id == CORR
    assert alert.message == (
        f"Login after failures from {IP}: Failures then SSH login accepted within 10m"
    )
    assert alert.evidence[-2:] == (f"Failures from {IP}: 3 events in 10m", "ok")
    assert (alert.first_seen, alert.last_seen) == (T0 + 12, T0 + 500)
    assert alert.fields == {"source.ip": IP, "user.name": "root"}


def test_chained_correlation_with_generate_true_alerts_too() -> None:
    inner, outer = chain("true")
    cs = make_set(inner, outer)
    alerts = [a for i in range(3) for a in cs.feed(FAILED, ev(i, source_ip=IP))]
    assert [a.rule.id for a in alerts] == [CORR2]
    assert cs.suppressed_ids() == {FAILED}  # the inner rule's own generate is false


def test_referenced_correlation_is_included_when_not_listed() -> None:
    from tests.detectors.sigma.correlation_support import make_ctx, parse

    inner, outer = chain()
    rules = [r for r in parse(inner, outer) if str(r.id) == CORR]
    from detectors.sigma.correlation import CorrelationSet

    cs = CorrelationSet(rules, make_ctx(), "sigma", 100)
    assert set(cs.group_counts()) == {CORR, CORR2}
    for i in range(3):
        cs.feed(FAILED, ev(i, source_ip=IP))
    assert len(cs.feed(ACCEPTED, ev(5, source_ip=IP))) == 1


def test_metadata_mapping() -> None:
    doc = correlation(
        "type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {gte: 10}",
        level="informational",
        tags="[ronda.category.no-such, attack.t1110, attack.T1078.003, "
        "attack.credential-access, attack.t1110]",
    )
    cs = make_set(doc)
    ((ref, severity),) = cs.rule_info()
    assert severity is Severity.LOW
    assert ref.category == "policy"
    for i in range(10):
        alerts = cs.feed(FAILED, ev(i, source_ip=IP))
    assert alerts[0].techniques == ("T1110", "T1078.003")

    no_level = correlation(
        "type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {gte: 1}",
    ).replace("level: high\n", "")
    ((_, severity),) = make_set(no_level).rule_info()
    assert severity is Severity.MEDIUM
