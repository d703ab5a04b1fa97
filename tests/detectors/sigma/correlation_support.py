"""Helpers for the correlation tests: rules parsed by pySigma, hand-made events."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule

from detectors.sigma.correlation import CorrelationSet
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Event

T0 = 1_800_000_000.0
DETECTOR = "sigma"

FAILED = "11111111-1111-4111-8111-111111111111"
ACCEPTED = "22222222-2222-4222-8222-222222222222"
NOTFOUND = "33333333-3333-4333-8333-333333333333"
CORR = "99999999-9999-4999-8999-999999999999"
CORR2 = "88888888-8888-4888-8888-888888888888"

BASES = f"""
title: SSH login failed
id: {FAILED}
name: failed
logsource: {{product: linux, service: sshd}}
detection:
  selection: {{event.action: ssh_login, event.outcome: failure}}
  condition: selection
level: low
---
title: SSH login accepted
id: {ACCEPTED}
name: accepted
logsource: {{product: linux, service: sshd}}
detection:
  selection: {{event.action: ssh_login, event.outcome: success}}
  condition: selection
level: low
---
title: HTTP not found
id: {NOTFOUND}
name: notfound
logsource: {{category: webserver}}
detection:
  selection: {{http.response.status_code: 404}}
  condition: selection
level: low
"""


def correlation(
    body: str,
    *,
    rid: str = CORR,
    title: str = "Test correlation",
    level: str = "high",
    tags: str = "[ronda.category.brute-force, attack.t1110.001]",
    name: str = "corr",
) -> str:
    """A correlation document; ``body`` is the text under ``correlation:`` (2-space indent)."""
    lines = "\n".join("  " + line for line in body.strip().splitlines())
    return (
        f"title: {title}\nid: {rid}\nname: {name}\nlevel: {level}\ntags: {tags}\n"
        f"correlation:\n{lines}\n"
    )


def parse(*docs: str, bases: str = BASES) -> list[SigmaCorrelationRule]:
    """The correlation rules of ``bases`` + ``docs``, references resolved."""
    collection = SigmaCollection.from_yaml("\n---\n".join((bases, *docs)))
    collection.resolve_rule_references()
    return [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]


def make_ctx(tmp: Path = Path("/nonexistent")) -> Context:
    return Context(
        sensor="gw-01",
        clock=ManualClock(T0),
        metrics=Metrics(),
        state_dir=tmp / "state",
        log=logging.getLogger("test.correlation"),
    )


def make_set(
    *docs: str, max_groups: int = 1000, ctx: Context | None = None
) -> CorrelationSet:
    return CorrelationSet(parse(*docs), ctx or make_ctx(), DETECTOR, max_groups)


def ev(
    t: float,
    message: str = "",
    dataset: str = "sshd.auth",
    extra: dict[str, Any] | None = None,
    **fields: Any,
) -> Event:
    """An event at ``T0 + t``; keyword ``source_ip`` becomes the field ``source.ip``
    (``extra`` holds fields whose names have underscores)."""
    flat = {k.replace("_", "."): v for k, v in fields.items()}
    flat.update(extra or {})
    return Event(dataset=dataset, timestamp=T0 + t, fields=flat, message=message or f"line {t}")


def evicted(ctx: Context) -> float:
    value = ctx.metrics.registry.get_sample_value(
        "ronda_dropped_total", {"component": DETECTOR, "reason": "group_evicted"}
    )
    return value or 0.0
