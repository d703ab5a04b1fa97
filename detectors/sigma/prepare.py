"""A rule document before pySigma sees it: shapes it would trip over, spellings it would
get wrong.

- :func:`shape_problem` finds what pySigma reports badly or crashes on (an ``id`` that is
  a list, a ``detection`` that is not a mapping, a ``|re`` value that is not text, a
  correlation without its condition ...) and says it in one plain line.
- :func:`normalise` rewrites ``|utf16le`` (the specification's name) to ``|wide``
  (pySigma's), and renames detections whose name starts with ``not`` (pySigma's condition
  parser reads ``notfound`` as ``not found``).
"""

from __future__ import annotations

import re
from typing import Any


def one_line(value: Any, limit: int = 160) -> str:
    text = re.sub(r"\s+", " ", str(value if value is not None else "")).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


_TEXT_KEYS = ("id", "title", "name", "description", "author", "status", "level", "license")


def shape_problem(data: dict[str, Any]) -> str | None:
    """Shapes pySigma trips over with an unhelpful error: found first, said plainly."""
    for key in _TEXT_KEYS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            return f"'{key}' must be a text (got {type(value).__name__})"
    if "correlation" in data:
        return _correlation_shape(data["correlation"])
    if "filter" in data:
        return None if isinstance(data["filter"], dict) else "'filter' must be a mapping"
    logsource = data.get("logsource")
    if logsource is not None and not isinstance(logsource, dict):
        return "'logsource' must be a mapping"
    detection = data.get("detection")
    if detection is None:
        return None
    if not isinstance(detection, dict):
        return "'detection' must be a mapping"
    for name, value in detection.items():
        if not isinstance(name, str):
            return f"detection name {one_line(name, 40)!r} must be a text"
        if name == "condition":
            if not _texts(value):
                return "'detection.condition' must be a text or a list of texts"
        elif not _detection_value(value):
            return (f"'detection.{one_line(name, 40)}' must hold field: value mappings or "
                    "values (and |re needs texts)")
    return None


def _correlation_shape(corr: Any) -> str | None:
    if not isinstance(corr, dict):
        return "'correlation' must be a mapping"
    if not isinstance(corr.get("type"), str):
        return "'correlation.type' must be a text"
    rules = corr.get("rules")
    if rules is not None and not (isinstance(rules, str) or _texts(rules)):
        return "'correlation.rules' must be a list of rule ids or names"
    group_by = corr.get("group-by")
    if group_by is not None and not _texts(group_by):
        return "'correlation.group-by' must be a list of field names"
    if not isinstance(corr.get("timespan"), str | None):
        return "'correlation.timespan' must be a text such as 5m"
    condition = corr.get("condition")
    temporal = corr["type"] in ("temporal", "temporal_ordered")
    if condition is None and not temporal:
        return "'correlation.condition' is required (a mapping such as {gte: 10})"
    if condition is not None and not (isinstance(condition, dict) or (
            temporal and isinstance(condition, str))):
        return "'correlation.condition' must be a mapping such as {gte: 10}"
    return None


def _texts(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    )


_SCALARS = (str, int, float, bool, type(None))


def _detection_value(value: Any, depth: int = 0) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if depth > 4:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _item_values(k, v) for k, v in value.items())
    if isinstance(value, list):
        return all(_detection_value(v, depth + 1) for v in value)
    return False


def _item_values(key: str, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, _SCALARS) for v in values):
        return False
    if "re" in key.split("|")[1:]:  # pySigma crashes on a regular expression that is not text
        return all(isinstance(v, str) for v in values)
    return True


_MODIFIER_ALIASES = {"utf16le": "wide"}


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """What pySigma would get wrong: ``|utf16le`` (it knows ``|wide``), and detection names
    starting with ``not`` (its condition parser reads ``notfound`` as ``not found``)."""
    detection = data.get("detection")
    if not isinstance(detection, dict):
        return data
    out = dict(data)
    renamed = {k: _rename_keys(v) for k, v in detection.items()}
    if any(isinstance(k, str) and _NOT_PREFIX.match(k) for k in renamed):
        renamed = {(_ident(k) if isinstance(k, str) and k != "condition" else k): v
                   for k, v in renamed.items()}
        cond = renamed.get("condition")
        if isinstance(cond, str):
            renamed["condition"] = _TOKEN.sub(lambda m: _ident(m.group(0)), cond)
        elif isinstance(cond, list):
            renamed["condition"] = [_TOKEN.sub(lambda m: _ident(m.group(0)), c)
                                    if isinstance(c, str) else c for c in cond]
    out["detection"] = renamed
    return out


_NOT_PREFIX = re.compile(r"^not[A-Za-z0-9_*-]", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9_*-]+")


def _ident(name: str) -> str:
    return "r_" + name if _NOT_PREFIX.match(name) else name


def _rename_keys(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, dict):
        return {_rename(k): _rename_keys(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_keys(v, depth + 1) for v in value]
    return value


def _rename(key: Any) -> Any:
    if not isinstance(key, str) or "|" not in key:
        return key
    head, *mods = key.split("|")
    return "|".join([head, *(_MODIFIER_ALIASES.get(m, m) for m in mods)])
