"""The Alert a correlation hit becomes: fields, message, evidence.

* ``key``: the group-by values joined with ``|`` (empty without group-by);
* ``fields``: context fields of the group's last event (:data:`CONTEXT_FIELDS`, every
  ``destination.*``), the group-by fields under the event's own field names, and for
  value_count the field with its most recent distinct values (a list);
* ``message``: ``<title> from <key>: <what> in <timespan>``, for example
  ``SSH brute force from 203.0.113.45: 10 events in 1m``;
* ``evidence``: the last few raw messages of the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detectors.sigma.correlation_check import Kind
from detectors.sigma.correlation_groups import Hit
from detectors.sigma.correlation_rule import CompiledCorrelation
from ronda.schema import Alert, Event

CONTEXT_FIELDS = (
    "source.ip",
    "source.domain",
    "user.name",
    "url.domain",
    "host.hostname",
    "host.name",
)
"""ECS fields copied from the group's last event into the alert when present."""

CONTEXT_PREFIXES = ("destination.",)

SHOWN_VALUES = 5
"""Distinct values named in a value_count message."""


def context_fields(
    event: Event, group_fields: Sequence[str], key: Sequence[Any]
) -> dict[str, Any]:
    """Alert fields from ``event``: context fields, then the group-by values."""
    src = event.fields
    fields: dict[str, Any] = {name: src[name] for name in CONTEXT_FIELDS if name in src}
    for name, value in src.items():
        if name.startswith(CONTEXT_PREFIXES):
            fields[name] = value
    fields.update(zip(group_fields, key, strict=True))
    return fields


def build_alert(
    rule: CompiledCorrelation,
    hit: Hit,
    key: Sequence[Any],
    fields: dict[str, Any],
    value_field: str | None,
    source: str,
    sensor: str,
    detector: str,
) -> Alert:
    """``value_field``: the event field behind the rule's ``field`` (value_count lists its
    distinct values under that name)."""
    key_text = "|".join(str(v) for v in key)
    if rule.kind is Kind.VALUE_COUNT and value_field is not None:
        fields = {**fields, value_field: list(hit.values)}
    return Alert(
        rule=rule.ref,
        severity=rule.severity,
        message=describe(rule, hit, key_text),
        first_seen=hit.first_seen,
        last_seen=hit.last_seen,
        key=key_text,
        techniques=rule.techniques,
        fields=fields,
        evidence=hit.evidence,
        sensor=sensor,
        detector=detector,
        source=source,
    )


def describe(rule: CompiledCorrelation, hit: Hit, key_text: str) -> str:
    subject = f" from {key_text}" if key_text else ""
    kind = rule.kind
    span = rule.span_text
    if kind is Kind.TEMPORAL or kind is Kind.TEMPORAL_ORDERED:
        titles = [rule.references[i].title for i in hit.matched]
        joined = " then ".join(titles) if kind is Kind.TEMPORAL_ORDERED else _and(titles)
        return f"{rule.ref.name}{subject}: {joined} within {span}"
    if kind is Kind.EVENT_COUNT:
        what = f"{_num(hit.value)} events"
    elif kind is Kind.VALUE_COUNT:
        what = f"{_num(hit.value)} distinct {rule.value_field}"
        if hit.values:
            shown = ", ".join(str(v) for v in hit.values[:SHOWN_VALUES])
            more = ", ..." if len(hit.values) > SHOWN_VALUES else ""
            what += f" ({shown}{more})"
    elif kind is Kind.VALUE_SUM:
        what = f"{rule.value_field} sums to {_num(hit.value)} over {hit.events} events"
    else:
        what = f"{rule.value_field} averages {_num(hit.value)} over {hit.events} events"
    return f"{rule.ref.name}{subject}: {what} in {span}"


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
