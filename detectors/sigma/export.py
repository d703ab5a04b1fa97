"""Sigma rules to Elastic Security detection rules (``ronda rules export``).

The same rules Ronda runs, converted with pySigma's Elasticsearch backends and Ronda's own
processing pipeline (:func:`detectors.sigma.pipeline.ronda_pipeline`), so the field names
in the queries are the ECS names Ronda writes into ``logs-ronda.<dataset>-*``:

* single-event rules: Lucene queries (``type: query``), the backend's
  ``siem_rule_ndjson`` format, importable in Kibana under Security > Rules > Import;
* correlation rules: ES|QL queries (``type: esql``) with ``stats`` aggregations, the only
  one of the backends that converts correlations.

Building-block rules (referenced by a correlation with ``generate: false``) are left out,
as they are in Ronda: they only feed their correlation. A rule a backend cannot convert
is reported with its id and the reason, and the others are still written.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigma.backends.elasticsearch.elasticsearch_esql import ESQLBackend
from sigma.backends.elasticsearch.elasticsearch_lucene import LuceneBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from detectors.sigma.pipeline import ronda_pipeline

EVENT_INDICES = ("logs-ronda.*-*", "-logs-ronda.alert-*")
"""Where Ronda's raw events live (the alert stream excluded)."""

FORMATS = ("elasticsearch",)


@dataclass
class ExportResult:
    """What an export produced: one Elastic rule per exported Sigma rule, and the
    problems (``<id> <title>: <reason>``) of rules left out."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    building_blocks: int = 0

    def ndjson(self) -> str:
        return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n"
                       for r in self.rules)


def export_elasticsearch(
    collection: SigmaCollection,
    indices: Sequence[str] = EVENT_INDICES,
    placeholders: dict[str, list[str | int]] | None = None,
) -> ExportResult:
    """Convert every rule of ``collection`` (references already resolved)."""
    lucene = LuceneBackend(processing_pipeline=ronda_pipeline(placeholders),
                           index_names=list(indices))
    esql = ESQLBackend(processing_pipeline=ronda_pipeline(placeholders))
    esql.init_processing_pipeline("siem_rule_ndjson")
    result = ExportResult()
    # ES|QL correlation queries are built from the base rules' own ES|QL conversions.
    for rule in collection.rules:
        if isinstance(rule, SigmaRule) and rule._backreferences:
            # If it fails, the correlation that needs it reports the problem.
            with contextlib.suppress(SigmaError, NotImplementedError):
                esql.convert_rule(rule, "siem_rule_ndjson")
    for rule in collection.rules:
        if not rule._output:
            result.building_blocks += 1
            continue
        if isinstance(rule, SigmaCorrelationRule) and any(
                isinstance(ref.rule, SigmaCorrelationRule) for ref in rule.rules or ()):
            result.skipped.append(f"{rule.id} {rule.title}: it correlates another "
                                  "correlation rule, which ES|QL export does not support")
            continue
        try:
            if isinstance(rule, SigmaCorrelationRule):
                converted = esql.convert_correlation_rule(rule, "siem_rule_ndjson")
            elif isinstance(rule, SigmaRule):
                converted = lucene.convert_rule(rule, "siem_rule_ndjson")
            else:
                continue
        except (SigmaError, NotImplementedError) as exc:
            result.skipped.append(f"{rule.id} {rule.title}: {_reason(exc)}")
            continue
        for item in _flatten(converted):
            if isinstance(rule, SigmaCorrelationRule):
                item["query"] = _esql_index(item.get("query", ""), indices)
            item.setdefault("tags", [])
            if "Ronda" not in item["tags"]:
                item["tags"].append("Ronda")
            result.rules.append(item)
    return result


def _flatten(converted: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for item in converted:
        if isinstance(item, list):
            yield from _flatten(item)
        elif isinstance(item, dict):
            yield item


def _esql_index(query: str, indices: Sequence[str]) -> str:
    """The ES|QL backend starts queries with ``from *``; point it at Ronda's streams.
    ES|QL ``FROM`` takes no exclusions, so only the inclusive patterns are kept."""
    include = ", ".join(i for i in indices if not i.startswith("-"))
    head, sep, rest = query.partition(" metadata ")
    if head.lower().startswith("from ") and sep:
        return f"from {include} metadata {rest}"
    return query


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    # pySigma appends the whole rule's repr ("... in rule SigmaRule(...)"): keep the news.
    text = text.split(" in rule Sigma", 1)[0].split(" (while ", 1)[0]
    return text if len(text) <= 200 else text[:197] + "..."
