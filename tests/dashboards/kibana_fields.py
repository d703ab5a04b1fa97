"""Which fields Ronda's Kibana saved objects use, and how: Lens columns and queries, saved
search columns, sorts and queries, map layers, dashboard controls and queries."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_FIELD = re.compile(r"(?<![\w.@*-])([A-Za-z_@][\w.@-]*)\s*(?::|<=|>=|<|>)")
_VALUES = r"\s*:\s*(\([^)]*\)|[^\s()]+)"


@dataclass(frozen=True)
class Use:
    """``field`` of data view ``view`` used by ``where`` as ``need`` (a Lens operation,
    ``geo``, ``query``, ``column``, ``sort`` or ``control``); ``data_type``: Lens's idea of
    the field's type, when it has one."""

    where: str
    view: str
    field: str
    need: str
    data_type: str | None = None


def kql_fields(query: str) -> list[str]:
    """The field names of a KQL query's ``field:value`` / ``field >= n`` clauses."""
    return _FIELD.findall(_QUOTED.sub('""', query))


def kql_values(query: str, field_name: str) -> list[str]:
    """The values a KQL query compares ``field_name`` with (``f:v``, ``f:(a or b)``)."""
    out: list[str] = []
    for match in re.finditer(re.escape(field_name) + _VALUES, query):
        text = match.group(1).strip("()")
        out.extend(v.strip().strip('"') for v in re.split(r"\s+or\s+", text) if v.strip())
    return out


def kql_balanced(query: str) -> bool:
    text = _QUOTED.sub('""', query)
    if text.count('"') % 2:
        return False
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def queries(obj: Obj) -> list[tuple[str, str]]:
    """(view id or "", KQL text) of every query an object holds ("" = all its views)."""
    kind, attrs = obj["type"], obj["attributes"]
    out: list[tuple[str, str]] = []
    if kind == "lens":
        state = attrs["state"]
        view = lens_views(obj)
        out.append((view, state["query"]["query"]))
        for layer in state["datasourceStates"]["formBased"]["layers"].values():
            for col in layer["columns"].values():
                if col.get("filter"):
                    out.append((view, col["filter"]["query"]))
    elif kind == "search":
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        out.append((ref_id(obj, source["indexRefName"]), source["query"]["query"]))
    elif kind == "dashboard":
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        out.append(("", source.get("query", {}).get("query", "")))
    elif kind == "map":
        state = json.loads(attrs["mapStateJSON"])
        out.append(("", state.get("query", {}).get("query", "")))
    return [(view, q) for view, q in out if q]


def ref_id(obj: Obj, name: str) -> str:
    for ref in obj["references"]:
        if ref["name"] == name:
            return str(ref["id"])
    raise KeyError(f"{obj['type']} {obj['id']}: no reference named {name!r}")


def lens_views(obj: Obj) -> str:
    layers = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    views = {ref_id(obj, f"indexpattern-datasource-layer-{lid}") for lid in layers}
    assert len(views) == 1, f"lens {obj['id']}: one data view expected, got {views}"
    return views.pop()


def uses(obj: Obj) -> list[Use]:
    """Every field use of one saved object (queries included)."""
    where = f"{obj['type']} {obj['id']}"
    out: list[Use] = []
    kind, attrs = obj["type"], obj["attributes"]
    if kind == "lens":
        view = lens_views(obj)
        for layer in attrs["state"]["datasourceStates"]["formBased"]["layers"].values():
            for col in layer["columns"].values():
                if col.get("sourceField", "___records___") != "___records___":
                    op = col["operationType"]
                    # dataType is the field's type for these, the result's for the others
                    typed = op in ("terms", "date_histogram", "min", "max")
                    out.append(Use(where, view, col["sourceField"], op,
                                   col.get("dataType") if typed else None))
    elif kind == "search":
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        view = ref_id(obj, source["indexRefName"])
        out += [Use(where, view, c, "column") for c in attrs["columns"]]
        out += [Use(where, view, s[0], "sort") for s in attrs["sort"]]
    elif kind == "map":
        for layer in json.loads(attrs["layerListJSON"]):
            source = layer.get("sourceDescriptor", {})
            if "indexPatternRefName" not in source:
                continue
            view = ref_id(obj, source["indexPatternRefName"])
            out.append(Use(where, view, source["geoField"], "geo"))
            out += [Use(where, view, f, "column") for f in source.get("tooltipProperties", [])]
            out += [Use(where, view, m["field"], m["type"]) for m in source.get("metrics", [])
                    if m.get("field")]
    elif kind == "dashboard" and attrs.get("controlGroupInput"):
        for cid, control in json.loads(attrs["controlGroupInput"]["panelsJSON"]).items():
            view = ref_id(obj, f"controlGroup_{cid}:optionsListDataView")
            out.append(Use(where, view, control["explicitInput"]["fieldName"], "control"))
    for view, query in queries(obj):
        out += [Use(where, view, f, "query") for f in kql_fields(query)]
    return out
