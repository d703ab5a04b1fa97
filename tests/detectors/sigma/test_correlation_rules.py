"""The shipped correlation rules (rules/sigma/correlation/) and their samples.

The samples are replayed through the real log parsers and a CorrelationSet. Base rules
are matched here by a small stand-in for the sigma compiler that handles exactly the
detection forms these rule files use (one ``selection`` mapping of equality, ``*`` and
``|gte``/``|lt`` items); ``ronda rules test`` runs the same samples through the real one.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCompareExpression,
    SigmaNumber,
    SigmaString,
    SpecialChars,
)

from detectors.sigma.correlation import CorrelationSet
from ronda.clock import ManualClock
from ronda.schema import CATEGORIES, Event
from sensor.parsers import FORMATS, make_parser
from tests.detectors.sigma.correlation_support import T0, make_ctx

RULES = Path(__file__).resolve().parents[3] / "rules" / "sigma" / "correlation"
RULE_FILES = sorted(p for p in RULES.glob("*.yml") if not p.name.endswith(".samples.yml"))

DATASETS = {
    ("service", "sshd"): {"sshd.auth"},
    ("category", "webserver"): {"nginx.access", "apache.access"},
}

_COMPARE: dict[Any, Callable[[Any, Any], bool]] = {
    SigmaCompareExpression.CompareOperators.LT: operator.lt,
    SigmaCompareExpression.CompareOperators.LTE: operator.le,
    SigmaCompareExpression.CompareOperators.GT: operator.gt,
    SigmaCompareExpression.CompareOperators.GTE: operator.ge,
}


def load(path: Path) -> SigmaCollection:
    collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
    collection.resolve_rule_references()
    return collection


def correlations(collection: SigmaCollection) -> list[SigmaCorrelationRule]:
    return [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]


def bases(collection: SigmaCollection) -> list[SigmaRule]:
    return [r for r in collection.rules if isinstance(r, SigmaRule)]


def test_rule_files_exist() -> None:
    names = {p.stem for p in RULE_FILES}
    assert {
        "ssh_brute_force", "ssh_user_sweep", "ssh_login_after_failures",
        "http_404_storm", "web_path_sweep", "http_flood",
    } <= names


def test_all_files_load_together_with_unique_ids_and_names() -> None:
    text = "\n---\n".join(p.read_text(encoding="utf-8") for p in RULE_FILES)
    collection = SigmaCollection.from_yaml(text)
    collection.resolve_rule_references()
    ids = [str(r.id) for r in collection.rules]
    names = [r.name for r in collection.rules]
    assert len(ids) == len(set(ids))
    assert len(names) == len(set(names))
    for rule in collection.rules:
        assert isinstance(rule.id, UUID), rule.title
        assert rule.level is not None, rule.title
    cs = CorrelationSet(correlations(collection), make_ctx(), "sigma", 100)
    assert cs.suppressed_ids() == {str(r.id) for r in bases(collection)}


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_file_is_runnable_and_tagged(path: Path) -> None:
    collection = load(path)
    for rule in correlations(collection):
        assert CorrelationSet.check(rule) is None, rule.title
        tags = [str(t) for t in rule.tags]
        categories = [t.split(".", 2)[2] for t in tags if t.startswith("ronda.category.")]
        assert len(categories) == 1 and categories[0] in CATEGORIES, rule.title
        assert any(re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", t) for t in tags), rule.title
    for base in bases(collection):
        assert list(base.detection.condition) == ["selection"], base.title
    assert len(alerting(collection)) == 1


def alerting(collection: SigmaCollection) -> list[str]:
    """Ids of the correlation rules of a file that alert (not referenced with generate
    false by another one)."""
    cs = CorrelationSet(correlations(collection), make_ctx(), "sigma", 100)
    referenced = {
        str(ref.rule.id)
        for rule in correlations(collection)
        if not rule.generate
        for ref in rule.referenced_rules
    }
    return [ref.id for ref, _ in cs.rule_info() if ref.id not in referenced]


# --- samples ----------------------------------------------------------------------------


def matcher(rule: SigmaRule) -> Callable[[Event], bool]:
    datasets: set[str] = set()
    for attribute in ("category", "product", "service"):
        value = getattr(rule.logsource, attribute)
        datasets |= DATASETS.get((attribute, value), set())
    items = rule.detection.detections["selection"].detection_items

    def matches(event: Event) -> bool:
        return event.dataset in datasets and all(_item(i, event.fields) for i in items)

    return matches


def _item(item: Any, fields: dict[str, Any]) -> bool:
    value = fields.get(item.field)
    if value is None:
        return False
    for expected in item.value:
        if isinstance(expected, SigmaCompareExpression):
            if _COMPARE[expected.op](value, expected.number.number):
                return True
        elif isinstance(expected, SigmaBool):
            if value is expected.boolean:
                return True
        elif isinstance(expected, SigmaNumber):
            if value == expected.number:
                return True
        elif isinstance(expected, SigmaString):
            if list(expected.s) == [SpecialChars.WILDCARD_MULTI]:
                return True
            assert not expected.contains_special(), "stand-in matcher: plain strings only"
            if str(value).lower() == expected.to_plain().lower():
                return True
        else:
            raise AssertionError(f"stand-in matcher cannot handle {expected!r}")
    return False


def replay(path: Path, kind: str) -> list[tuple[int, list[str]]]:
    """Replay each scenario of ``kind`` (match or nomatch); the alerting rule ids per
    scenario."""
    samples_path = path.with_name(path.stem + ".samples.yml")
    samples = yaml.safe_load(samples_path.read_text(encoding="utf-8"))
    assert samples["format"] in FORMATS
    collection = load(path)
    cs = CorrelationSet(correlations(collection), make_ctx(), "sigma", 1000)
    matchers = {str(r.id): matcher(r) for r in bases(collection)}
    assert set(matchers) == cs.base_ids()
    results = []
    for n, scenario in enumerate(samples[kind]):
        cs.reset()
        parse = make_parser(samples["format"], ManualClock(T0))
        fired: list[str] = []
        for line in scenario:
            event = parse(line)
            assert event is not None, f"{samples_path.name}: unparsable sample line {line!r}"
            for base_id, matches in matchers.items():
                if matches(event):
                    assert base_id in cs.suppressed_ids()
                    fired += [a.rule.id for a in cs.feed(base_id, event)]
        results.append((n, fired))
    return results


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_samples_match(path: Path) -> None:
    [rule_id] = alerting(load(path))
    for n, fired in replay(path, "match"):
        assert rule_id in fired, f"{path.name}: match scenario {n + 1} did not fire"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_samples_nomatch(path: Path) -> None:
    for n, fired in replay(path, "nomatch"):
        assert fired == [], f"{path.name}: nomatch scenario {n + 1} fired {fired}"


def test_threshold_rules_are_all_migrated() -> None:
    """Every rule of the former threshold detector has a Sigma counterpart, same numbers."""
    expected = {
        "ssh_brute_force": ("event_count", "1m", 10, None),
        "ssh_user_sweep": ("value_count", "5m", 5, "user.name"),
        "http_404_storm": ("event_count", "1m", 30, None),
        "web_path_sweep": ("value_count", "1m", 60, "url.path"),
    }
    for stem, (kind, span, count, field) in expected.items():
        [rule] = correlations(load(RULES / f"{stem}.yml"))
        cond: Any = rule.condition
        assert (rule.type.name.lower(), rule.timespan.spec, cond.count, cond.fieldref) == (
            kind, span, count, field,
        ), stem
        assert rule.group_by == ["source.ip"]
