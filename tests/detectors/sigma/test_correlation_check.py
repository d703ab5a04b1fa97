"""CorrelationSet.check: one clear reason per rule Ronda cannot run."""

from __future__ import annotations

import pytest
from sigma.correlations import SigmaCorrelationRule

from detectors.sigma.correlation import CorrelationSet
from tests.detectors.sigma.correlation_support import (
    CORR,
    CORR2,
    correlation,
    make_ctx,
    parse,
)


def reason(*docs: str) -> str | None:
    rules = [r for r in parse(*docs) if str(r.id) == CORR]
    return CorrelationSet.check(rules[0])


def corr(body: str) -> str:
    return correlation(body)


OK = [
    "type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {gte: 10}",
    "type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {lt: 2}",
    "type: value_count\nrules: [failed]\ntimespan: 1m\ncondition: {field: user.name, gt: 3}",
    "type: value_sum\nrules: [failed]\ntimespan: 1m\ncondition: {field: bytes, lt: 0}",
    "type: value_avg\nrules: [failed]\ntimespan: 1m\ncondition: {field: bytes, eq: 5}",
    "type: temporal\nrules: [failed, accepted]\ntimespan: 1m",
    "type: temporal\nrules: [failed, accepted, notfound]\ntimespan: 1m\ncondition: {gte: 2}",
    "type: temporal\ntimespan: 1m\ncondition: failed and (accepted or notfound)",
    "type: temporal_ordered\nrules: [failed, accepted]\ntimespan: 1m",
]


@pytest.mark.parametrize("body", OK)
def test_supported_rules_pass(body: str) -> None:
    assert reason(corr(body)) is None


BAD = [
    (
        "type: value_percentile\nrules: [failed]\ntimespan: 1m\n"
        "condition: {field: bytes, gte: 5, percentile: 95}",
        "correlation type 'value_percentile' is not supported by Ronda",
    ),
    (
        "type: value_median\nrules: [failed]\ntimespan: 1m\ncondition: {field: bytes, gte: 5}",
        "correlation type 'value_median' is not supported",
    ),
    (
        "type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {lt: 1}",
        "condition 'lt: 1' can never be met (a window holds at least one event)",
    ),
    (
        "type: value_count\nrules: [failed]\ntimespan: 1m\ncondition: {field: user.name, eq: 0}",
        "condition 'eq: 0' can never be met",
    ),
    (
        "type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {gte: 1000001}",
        "condition count 1000001 is above Ronda's limit of 100000",
    ),
    (
        "type: temporal\nrules: [failed, accepted]\ntimespan: 1m\ncondition: {lt: 2}",
        "condition 'lt' is not supported for temporal",
    ),
    (
        "type: temporal\nrules: [failed, accepted]\ntimespan: 1m\ncondition: {gte: 3}",
        "condition can never be met: it needs 3 of 2 referenced rules",
    ),
    (
        "type: temporal_ordered\nrules: [failed, accepted]\ntimespan: 1m\ncondition: {gte: 1}",
        "temporal_ordered supports only the default condition (all 2 rules, in order)",
    ),
    (
        "type: temporal\ntimespan: 1m\ncondition: failed and not accepted",
        "'not' in a correlation condition is not supported",
    ),
    (
        "type: temporal_ordered\ntimespan: 1m\ncondition: failed and accepted",
        "an extended (and/or) condition is only supported for type temporal",
    ),
    (
        "type: value_count\nrules: [failed]\ntimespan: 1m\n"
        "condition: {field: [user.name, source.ip], gte: 3}",
        "condition 'field' must name exactly one field",
    ),
    (
        "type: temporal\nrules: [failed, accepted]\ngroup-by: [ip]\ntimespan: 1m\n"
        "aliases: {ip: {failed: source.ip}}",
        "alias 'ip' has no field for rule 'accepted'",
    ),
    (
        "type: temporal\nrules: [failed, accepted]\ngroup-by: [ip]\ntimespan: 1m\n"
        "aliases: {ip: {failed: source.ip, accepted: source.ip, notfound: client.ip}}",
        "alias 'ip' maps rule 'notfound', which the correlation does not reference",
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD)
def test_unsupported_rules_give_one_line_reason(body: str, expected: str) -> None:
    got = reason(corr(body))
    assert got is not None
    assert expected in got
    assert "\n" not in got


def test_cycle_between_correlations() -> None:
    a = correlation(
        "type: temporal\nrules: [failed, corr2]\ntimespan: 1m", rid=CORR, name="corr1"
    )
    b = correlation(
        "type: temporal\nrules: [accepted, corr1]\ntimespan: 1m", rid=CORR2, name="corr2"
    )
    got = reason(a, b)
    assert got is not None and "cycle" in got


def test_problem_of_a_referenced_correlation_is_reported() -> None:
    inner = correlation(
        "type: value_median\nrules: [failed]\ntimespan: 1m\ncondition: {field: b, gte: 1}",
        rid=CORR2, name="inner",
    )
    outer = correlation("type: temporal\nrules: [inner, accepted]\ntimespan: 1m")
    got = reason(inner, outer)
    assert got is not None
    assert got.startswith("referenced correlation 'inner': correlation type 'value_median'")


def test_unresolved_references() -> None:
    rule = SigmaCorrelationRule.from_yaml(
        corr("type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {gte: 1}")
    )
    got = CorrelationSet.check(rule)
    assert got is not None and "resolve" in got


def test_constructor_rejects_unsupported_rule() -> None:
    rules = parse(corr("type: event_count\nrules: [failed]\ntimespan: 1m\ncondition: {lt: 1}"))
    with pytest.raises(ValueError, match="correlation rule 'Test correlation': condition"):
        CorrelationSet(rules, make_ctx(), "sigma", 10)
