"""Ronda's Kibana saved objects (dashboards/kibana/*.ndjson), checked structurally: Kibana
cannot run here. Every line parses, JSON-in-string attributes parse, every reference
resolves within the files, every dashboard panel and Lens layer points at an object that
exists, and every field a visualisation, search, map or control uses is mapped with a
suitable type by the index templates in dashboards/elasticsearch/."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from fnmatch import fnmatchcase
from typing import Any

import pytest

from ronda.daemon.paths import PROJECT_DIR
from ronda.schema import CATEGORIES, Severity
from tests.dashboards import kibana_templates as tpl
from tests.dashboards.kibana_fields import Use, kql_balanced, kql_values, queries, ref_id, uses

KIBANA_DIR = PROJECT_DIR / "dashboards" / "kibana"
ES_DIR = PROJECT_DIR / "dashboards" / "elasticsearch"

Obj = dict[str, Any]

TYPE_MIGRATION_VERSION = {"index-pattern": "8.0.0", "search": "10.5.0", "lens": "8.9.0",
                          "map": "8.4.0", "dashboard": "10.2.0"}
DASHBOARDS = {"ronda-overview", "ronda-web-attacks", "ronda-network", "ronda-response"}
ALERT_STREAMS = ["logs-ronda.alert-default", "logs-ronda.alert-diskominfo"]
EVENT_STREAMS = ["logs-ronda.network.flow-default", "logs-ronda.dns-default",
                 "logs-ronda.tls-default", "logs-ronda.nginx.access-default",
                 "logs-ronda.sshd.auth-default", "logs-ronda.fim-default",
                 "logs-ronda.response-default"]
STREAMS = {"ronda-alerts-dataview": ALERT_STREAMS, "ronda-events-dataview": EVENT_STREAMS}
LENS_TYPES = {"string": tpl.KEYWORDS, "ip": {"ip"}, "number": tpl.NUMBERS,
              "date": tpl.DATES, "boolean": {"boolean"}}
TERMS = tpl.KEYWORDS | tpl.NUMBERS | {"ip", "boolean"}
SUITABLE: dict[str, frozenset[str] | None] = {
    "terms": TERMS, "control": TERMS,
    "date_histogram": tpl.DATES,
    "sum": tpl.NUMBERS, "average": tpl.NUMBERS, "median": tpl.NUMBERS,
    "max": tpl.NUMBERS | tpl.DATES, "min": tpl.NUMBERS | tpl.DATES,
    "unique_count": tpl.AGGREGATABLE,
    "geo": frozenset({"geo_point"}),
    "sort": tpl.AGGREGATABLE,
    "query": None, "column": None,  # any mapped field
}


def load_lines() -> list[tuple[str, int, str]]:
    return [(path.name, number, line)
            for path in sorted(KIBANA_DIR.glob("*.ndjson"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]


LINES = load_lines()
OBJECTS: list[Obj] = [json.loads(line) for _, _, line in LINES if line.strip()]
BY_KEY = {(o["type"], o["id"]): o for o in OBJECTS}


def of_type(kind: str) -> list[Obj]:
    return [o for o in OBJECTS if o["type"] == kind]


def ids(kind: str) -> list[str]:
    return [o["id"] for o in of_type(kind)]


# -- the files ---------------------------------------------------------------------------

def test_every_line_is_a_saved_object() -> None:
    assert LINES, f"no saved objects in {KIBANA_DIR}"
    for name, number, line in LINES:
        assert line.strip(), f"{name}:{number}: blank line"
        obj = json.loads(line)
        where = f"{name}:{number}"
        assert isinstance(obj, dict), where
        assert isinstance(obj.get("type"), str) and isinstance(obj.get("id"), str), where
        assert isinstance(obj.get("attributes"), dict), where
        assert isinstance(obj.get("references"), list), where
        assert obj.get("coreMigrationVersion") == "8.8.0", where
        assert obj.get("typeMigrationVersion") == TYPE_MIGRATION_VERSION[obj["type"]], where
        assert obj["id"].startswith("ronda-"), f"{where}: ids are stable ronda-* names"
        assert obj["attributes"].get("title"), f"{where}: no title"


def test_ids_are_unique() -> None:
    repeated = [k for k, n in Counter(o["id"] for o in OBJECTS).items() if n > 1]
    assert not repeated


def test_the_expected_objects_are_there() -> None:
    assert set(ids("dashboard")) == DASHBOARDS
    assert set(ids("index-pattern")) == set(STREAMS)
    assert len(ids("search")) >= 4
    assert ids("map") == ["ronda-overview-map"]


def test_files_are_what_the_generator_writes() -> None:
    run = subprocess.run([sys.executable, str(KIBANA_DIR / "generate.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def json_strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every attribute whose name ends in JSON, anywhere in the attributes."""
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("JSON"):
                out.append((f"{path}{key}", item))
            out += json_strings(item, f"{path}{key}.")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += json_strings(item, f"{path}{i}.")
    return out


REQUIRED_JSON = {
    "index-pattern": ["fieldAttrs", "fieldFormatMap", "fields", "runtimeFieldMap",
                      "sourceFilters", "typeMeta"],
    "dashboard": ["panelsJSON", "optionsJSON"],
    "map": ["layerListJSON", "mapStateJSON", "uiStateJSON"],
}


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: f"{o['type']}:{o['id']}")
def test_json_in_string_attributes_parse(obj: Obj) -> None:
    attrs = obj["attributes"]
    found = json_strings(attrs)
    for name in REQUIRED_JSON.get(obj["type"], []):
        assert isinstance(attrs.get(name), str), f"{name} is not a JSON string"
        found.append((name, attrs[name]))
    if obj["type"] in ("search", "dashboard"):
        meta = attrs["kibanaSavedObjectMeta"]["searchSourceJSON"]
        assert isinstance(meta, str)
        found.append(("searchSourceJSON", meta))
    for name, text in found:
        assert isinstance(text, str), f"{name} must be a string holding JSON"
        json.loads(text)


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: f"{o['type']}:{o['id']}")
def test_references_resolve_within_the_files(obj: Obj) -> None:
    names = [r["name"] for r in obj["references"]]
    assert len(names) == len(set(names)), "reference names repeat"
    for ref in obj["references"]:
        assert (ref["type"], ref["id"]) in BY_KEY, f"reference {ref} resolves to nothing"


def test_data_views() -> None:
    for view in of_type("index-pattern"):
        assert view["attributes"]["timeFieldName"] == "@timestamp"
        assert view["attributes"]["name"]


def view_matches(title: str, stream: str) -> bool:
    """A data view title: comma-separated patterns, those starting with - exclude."""
    pats = title.split(",")
    return (any(fnmatchcase(stream, p) for p in pats if not p.startswith("-"))
            and not any(fnmatchcase(stream, p[1:]) for p in pats if p.startswith("-")))


def test_data_view_patterns_split_alerts_from_events() -> None:
    titles = {v["id"]: v["attributes"]["title"] for v in of_type("index-pattern")}
    assert " " not in "".join(titles.values()), "no spaces after the commas"
    for view in STREAMS:
        for other, others in STREAMS.items():
            for stream in others:
                assert view_matches(titles[view], stream) == (view == other), (view, stream)
    for view, title in titles.items():
        assert not view_matches(title, ".ds-logs-ronda.alert-default-2026.11.21-000001"), view
        assert not view_matches(title, "logs-nginx.access-default"), view


# -- dashboards --------------------------------------------------------------------------

@pytest.mark.parametrize("board", of_type("dashboard"), ids=lambda o: o["id"])
def test_dashboard_panels_resolve_and_fit(board: Obj) -> None:
    attrs = board["attributes"]
    panels = json.loads(attrs["panelsJSON"])
    refs = {r["name"]: r for r in board["references"]}
    used: set[str] = set()
    cells: set[tuple[int, int]] = set()
    indexes = [p["panelIndex"] for p in panels]
    assert len(indexes) == len(set(indexes))
    for panel in panels:
        grid, index = panel["gridData"], panel["panelIndex"]
        assert grid["i"] == index
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 48 and grid["h"] > 0
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not mine & cells, f"panel {index} overlaps another"
        cells |= mine
        if "panelRefName" not in panel:
            vis = panel["embeddableConfig"]["savedVis"]
            assert panel["type"] == "visualization" and vis["type"] == "markdown", index
            continue
        name = f"{index}:{panel['panelRefName']}"
        assert name in refs, f"panel {index}: no reference {name}"
        assert refs[name]["type"] == panel["type"]
        assert (refs[name]["type"], refs[name]["id"]) in BY_KEY
        used.add(name)
    unused = {n for n in refs if n not in used and not n.startswith("controlGroup_")}
    assert not unused, f"references no panel uses: {unused}"
    options = json.loads(attrs["optionsJSON"])
    assert options["useMargins"] is True
    assert attrs["timeRestore"] is True and attrs["timeFrom"].startswith("now-")


@pytest.mark.parametrize("board", of_type("dashboard"), ids=lambda o: o["id"])
def test_dashboard_controls_have_their_data_view(board: Obj) -> None:
    group = board["attributes"].get("controlGroupInput")
    if not group:
        return
    json.loads(group["ignoreParentSettingsJSON"])
    for cid, control in json.loads(group["panelsJSON"]).items():
        assert control["type"] == "optionsListControl"
        assert control["explicitInput"]["id"] == cid
        ref = ref_id(board, f"controlGroup_{cid}:optionsListDataView")
        assert ("index-pattern", ref) in BY_KEY


def test_markdown_links_point_at_dashboards() -> None:
    for board in of_type("dashboard"):
        for panel in json.loads(board["attributes"]["panelsJSON"]):
            text = panel["embeddableConfig"].get("savedVis", {}).get("params", {}).get(
                "markdown", "")
            for target in [part.split(")")[0] for part in text.split("(#/view/")[1:]]:
                assert target in DASHBOARDS, (board["id"], target)


def test_response_dashboard_documents_the_audit_event_contract() -> None:
    board = BY_KEY[("dashboard", "ronda-response")]["attributes"]
    for needle in ("logs-ronda.response-", "ip_blocked", "ip_unblocked", "file_restored",
                   "source.ip", "file.path", "event.outcome"):
        assert needle in board["description"], needle
        assert needle in board["panelsJSON"], needle


# -- Lens, maps, searches ----------------------------------------------------------------

LENS_VIS = {"lnsXY", "lnsDatatable", "lnsPie", "lnsMetric"}


def accessors(vis: Obj, kind: str) -> list[str]:
    if kind == "lnsXY":
        return [a for layer in vis["layers"] for a in
                [layer["xAccessor"], *layer["accessors"], layer.get("splitAccessor")] if a]
    if kind == "lnsDatatable":
        return [c["columnId"] for c in vis["columns"]]
    if kind == "lnsPie":
        return [a for layer in vis["layers"] for a in
                [*layer["primaryGroups"], *layer["metrics"]]]
    return [vis["metricAccessor"]]


@pytest.mark.parametrize("obj", of_type("lens"), ids=lambda o: o["id"])
def test_lens_layers_and_columns(obj: Obj) -> None:
    attrs = obj["attributes"]
    assert attrs["visualizationType"] in LENS_VIS
    state = attrs["state"]
    layers = state["datasourceStates"]["formBased"]["layers"]
    assert layers
    for lid, layer in layers.items():
        view = ref_id(obj, f"indexpattern-datasource-layer-{lid}")
        assert ("index-pattern", view) in BY_KEY
        assert sorted(layer["columnOrder"]) == sorted(layer["columns"])
        for col in layer["columns"].values():
            order = col.get("params", {}).get("orderBy", {})
            if order.get("type") == "column":
                assert order["columnId"] in layer["columns"]
            assert col["isBucketed"] == (col["operationType"] in ("terms", "date_histogram"))
    vis = state["visualization"]
    all_columns = {c for layer in layers.values() for c in layer["columns"]}
    wanted = accessors(vis, attrs["visualizationType"])
    assert wanted and set(wanted) <= all_columns
    assert set(wanted) == all_columns, "every column is shown"
    layer_ids = {layer["layerId"] for layer in vis.get("layers", [vis])}
    assert layer_ids == set(layers)


@pytest.mark.parametrize("obj", of_type("map"), ids=lambda o: o["id"])
def test_map_layers(obj: Obj) -> None:
    layers = json.loads(obj["attributes"]["layerListJSON"])
    data_layers = [la for la in layers if "indexPatternRefName" in la["sourceDescriptor"]]
    assert data_layers
    for layer in data_layers:
        view = ref_id(obj, layer["sourceDescriptor"]["indexPatternRefName"])
        assert ("index-pattern", view) in BY_KEY
    assert len({la["id"] for la in layers}) == len(layers)


@pytest.mark.parametrize("obj", of_type("search"), ids=lambda o: o["id"])
def test_saved_search(obj: Obj) -> None:
    attrs = obj["attributes"]
    source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert ("index-pattern", ref_id(obj, source["indexRefName"])) in BY_KEY
    assert attrs["columns"] and attrs["sort"] == [["@timestamp", "desc"]]


# -- queries -----------------------------------------------------------------------------

ALL_QUERIES = [(o["id"], q) for o in OBJECTS for _, q in queries(o)]


def test_queries_are_kql_with_known_values() -> None:
    assert ALL_QUERIES
    severities = {s.value for s in Severity}
    for where, query in ALL_QUERIES:
        assert kql_balanced(query), (where, query)
        assert set(kql_values(query, "rule.category")) <= set(CATEGORIES), (where, query)
        assert set(kql_values(query, "ronda.severity")) <= severities, (where, query)
    used = {v for _, q in ALL_QUERIES for v in kql_values(q, "rule.category")}
    assert used, "the dashboards select alerts by rule.category"


# -- fields against the index templates --------------------------------------------------

def view_fields() -> dict[str, list[dict[str, str]]]:
    """For each data view, the flattened mapping of each sample data stream it covers."""
    if not ES_DIR.is_dir():
        pytest.fail(f"{ES_DIR} is missing: the index templates the fields are checked against")
    templates = tpl.load(ES_DIR)
    out: dict[str, list[dict[str, str]]] = {}
    for view, streams in STREAMS.items():
        out[view] = []
        for stream in streams:
            found = templates.for_stream(stream)
            assert found, f"no index template matches {stream}"
            out[view].append(tpl.flatten(templates.mappings(found[1])))
    return out


def problem(use: Use, mappings: list[dict[str, str]]) -> str | None:
    types = {t for m in mappings if (t := tpl.field_type(m, use.field))}
    if not types:
        return f"{use.field}: not mapped (used by {use.where} as {use.need})"
    families = {next((name for name, fam in LENS_TYPES.items() if t in fam), t) for t in types}
    if len(families) > 1:
        return f"{use.field}: mapped as {sorted(types)} in different data streams ({use.where})"
    suitable = SUITABLE[use.need]
    if suitable is not None and not types <= suitable:
        return (f"{use.field}: mapped as {sorted(types)}, {use.need} needs one of "
                f"{sorted(suitable)} ({use.where})")
    if use.data_type and not types <= LENS_TYPES[use.data_type]:
        return f"{use.field}: Lens dataType {use.data_type} but mapped as {sorted(types)}"
    return None


def test_every_field_used_is_mapped_with_a_suitable_type() -> None:
    fields = view_fields()
    every = [m for ms in fields.values() for m in ms]
    problems = set()
    for obj in OBJECTS:
        for use in uses(obj):
            assert use.need in SUITABLE, use
            found = problem(use, fields[use.view] if use.view else every)
            if found:
                problems.add(found)
    assert not problems, "fields the index templates do not map as needed:\n" + "\n".join(
        sorted(problems))


def test_time_field_is_a_date_in_every_stream() -> None:
    for view, mappings in view_fields().items():
        for mapping in mappings:
            assert tpl.field_type(mapping, "@timestamp") in tpl.DATES, view


def test_field_uses_cover_the_visualisations() -> None:
    by_need: defaultdict[str, set[str]] = defaultdict(set)
    for obj in OBJECTS:
        for use in uses(obj):
            by_need[use.need].add(use.field)
    assert "source.geo.location" in by_need["geo"]
    assert {"ronda.severity", "rule.category", "rule.name", "source.ip", "url.domain",
            "dns.question.name", "event.action"} <= by_need["terms"]
    assert by_need["date_histogram"] == {"@timestamp"}
    assert "network.bytes" in by_need["sum"]
