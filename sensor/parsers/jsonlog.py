"""JSON lines: one object per line, flattened to dotted ECS keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ronda.clock import Clock
from ronda.schema import Event


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        name = prefix + str(key)
        if isinstance(value, dict):
            _flatten(value, name + ".", out)
        else:
            out[name] = value


def make_json_parser(clock: Clock) -> Callable[[str], Event | None]:
    def parse(line: str) -> Event | None:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(obj, dict):
            return None
        fields: dict[str, Any] = {}
        try:
            _flatten(obj, "", fields)
        except RecursionError:
            return None
        dataset = fields.pop("event.dataset", None)
        return Event(
            dataset=dataset if isinstance(dataset, str) and dataset else "json",
            timestamp=clock.now(),
            fields=fields,
            message=line,
        )

    return parse
