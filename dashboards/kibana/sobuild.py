"""Builders for Kibana 8.x saved objects: data views, saved searches, Lens, maps, dashboards.

The shapes follow what Kibana 8.19 exports (``POST /api/saved_objects/_export``): Lens
visualisations by reference with one form-based layer whose data view is a reference named
``indexpattern-datasource-layer-<layer>``; dashboards whose ``panelsJSON``, ``optionsJSON``
and ``kibanaSavedObjectMeta.searchSourceJSON`` are JSON strings and whose by-reference panels
carry ``panelRefName: panel_<i>`` resolved by the reference ``<i>:panel_<i>``.

Used by ``generate.py`` only; standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSION = {
    "index-pattern": "8.0.0",
    "search": "10.5.0",
    "lens": "8.9.0",
    "map": "8.4.0",
    "dashboard": "10.2.0",
}
LAYER = "layer1"
SEARCH_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


def dumps(value: Any) -> str:
    """Compact JSON, as Kibana stores its JSON-in-string attributes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def saved_object(type_: str, id_: str, attributes: Obj, references: list[Obj]) -> Obj:
    return {
        "attributes": attributes,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": id_,
        "managed": False,
        "references": references,
        "type": type_,
        "typeMigrationVersion": TYPE_MIGRATION_VERSION[type_],
    }


def ref(name: str, type_: str, id_: str) -> Obj:
    return {"id": id_, "name": name, "type": type_}


def kuery(query: str) -> Obj:
    return {"language": "kuery", "query": query}


# -- data views and saved searches -------------------------------------------------------

def data_view(id_: str, name: str, title: str, field_formats: Obj | None = None) -> Obj:
    attributes = {
        "allowHidden": False,
        "fieldAttrs": "{}",
        "fieldFormatMap": dumps(field_formats or {}),
        "fields": "[]",
        "name": name,
        "runtimeFieldMap": "{}",
        "sourceFilters": "[]",
        "timeFieldName": "@timestamp",
        "title": title,
        "typeMeta": "{}",
    }
    return saved_object("index-pattern", id_, attributes, [])


def saved_search(id_: str, title: str, description: str, view: str, query: str,
                 columns: list[str]) -> Obj:
    source = {"query": kuery(query), "filter": [], "indexRefName": SEARCH_INDEX_REF}
    attributes = {
        "columns": columns,
        "description": description,
        "grid": {},
        "hideChart": False,
        "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": {"searchSourceJSON": dumps(source)},
        "sort": [["@timestamp", "desc"]],
        "timeRestore": False,
        "title": title,
    }
    return saved_object("search", id_, attributes, [ref(SEARCH_INDEX_REF, "index-pattern", view)])


# -- Lens columns ------------------------------------------------------------------------

@dataclass(frozen=True)
class Col:
    """One Lens column: its id in the layer and its definition."""

    id: str
    spec: Obj


def _filtered(spec: Obj, query: str | None) -> Obj:
    if query:
        spec["filter"] = kuery(query)
    return spec


def date_col(id_: str = "time") -> Col:
    return Col(id_, {
        "dataType": "date", "isBucketed": True, "label": "@timestamp",
        "operationType": "date_histogram", "scale": "interval", "sourceField": "@timestamp",
        "params": {"dropPartials": False, "includeEmptyRows": True, "interval": "auto"},
    })


def count_col(label: str, id_: str = "count", query: str | None = None) -> Col:
    return Col(id_, _filtered({
        "customLabel": True, "dataType": "number", "isBucketed": False, "label": label,
        "operationType": "count", "params": {"emptyAsNull": True}, "scale": "ratio",
        "sourceField": "___records___",
    }, query))


def metric_col(op: str, field_name: str, label: str, id_: str, *, data_type: str = "number",
               fmt: str | None = None, query: str | None = None) -> Col:
    """``sum``, ``average``, ``max``, ``min`` or ``unique_count`` of a field."""
    params: Obj = {"emptyAsNull": True}
    if fmt:
        params["format"] = {"id": fmt, "params": {"decimals": 1}}
    return Col(id_, _filtered({
        "customLabel": True, "dataType": data_type, "isBucketed": False, "label": label,
        "operationType": op, "params": params, "scale": "ratio", "sourceField": field_name,
    }, query))


def terms_col(field_name: str, label: str, id_: str, *, order_by: str, size: int = 10,
              data_type: str = "string", other: bool = True) -> Col:
    """Top ``size`` values of a field, ordered by the metric column ``order_by``."""
    return Col(id_, {
        "customLabel": True, "dataType": data_type, "isBucketed": True, "label": label,
        "operationType": "terms", "scale": "ordinal", "sourceField": field_name,
        "params": {
            "exclude": [], "excludeIsRegex": False, "include": [], "includeIsRegex": False,
            "missingBucket": False, "orderBy": {"columnId": order_by, "type": "column"},
            "orderDirection": "desc", "otherBucket": other, "parentFormat": {"id": "terms"},
            "size": size,
        },
    })


# -- Lens visualisation states -----------------------------------------------------------

def xy(series: str, x: str, ys: list[str], split: str | None = None,
       legend: str = "right") -> Obj:
    """``series``: bar_stacked, bar_horizontal_stacked, line, area_stacked..."""
    layer: Obj = {"accessors": ys, "layerId": LAYER, "layerType": "data", "position": "top",
                  "seriesType": series, "showGridlines": False, "xAccessor": x}
    if split:
        layer["splitAccessor"] = split
    both = {"x": True, "yLeft": True, "yRight": True}
    return {
        "axisTitlesVisibilitySettings": both, "fittingFunction": "None",
        "gridlinesVisibilitySettings": both, "layers": [layer],
        "legend": {"isVisible": True, "position": legend}, "preferredSeriesType": series,
        "tickLabelsVisibilitySettings": both, "valueLabels": "hide",
    }


def table(columns: list[str]) -> Obj:
    return {"columns": [{"columnId": c, "isTransposed": False} for c in columns],
            "layerId": LAYER, "layerType": "data", "paging": {"enabled": True, "size": 10}}


def pie(group: str, metric: str, shape: str = "donut") -> Obj:
    return {"shape": shape, "layers": [{
        "categoryDisplay": "default", "layerId": LAYER, "layerType": "data",
        "legendDisplay": "default", "metrics": [metric], "nestedLegend": False,
        "numberDisplay": "percent", "primaryGroups": [group],
    }]}


def metric(accessor: str) -> Obj:
    return {"layerId": LAYER, "layerType": "data", "metricAccessor": accessor}


VIS_TYPES = {"xy": "lnsXY", "table": "lnsDatatable", "pie": "lnsPie", "metric": "lnsMetric"}


def lens(id_: str, title: str, view: str, columns: list[Col], kind: str, vis: Obj, *,
         query: str = "", description: str = "") -> Obj:
    layer = {
        "columnOrder": [c.id for c in columns],
        "columns": {c.id: c.spec for c in columns},
        "ignoreGlobalFilters": False, "incompleteColumns": {}, "sampling": 1,
    }
    state = {
        "adHocDataViews": {},
        "datasourceStates": {"formBased": {"layers": {LAYER: layer}},
                             "indexpattern": {"layers": {}}, "textBased": {"layers": {}}},
        "filters": [], "internalReferences": [], "query": kuery(query), "visualization": vis,
    }
    attributes = {"description": description, "state": state, "title": title,
                  "visualizationType": VIS_TYPES[kind]}
    refs = [ref(f"indexpattern-datasource-layer-{LAYER}", "index-pattern", view)]
    return saved_object("lens", id_, attributes, refs)


# -- maps --------------------------------------------------------------------------------

def geo_grid_map(id_: str, title: str, view: str, geo_field: str, description: str) -> Obj:
    """A map of clusters (count per grid cell) of ``geo_field`` over the EMS base map."""
    base = {"alpha": 1, "id": "basemap", "includeInFitToBounds": True, "label": None,
            "maxZoom": 24, "minZoom": 0, "type": "EMS_VECTOR_TILE", "visible": True,
            "sourceDescriptor": {"isAutoSelect": True, "lightModeDefault": "road_map_desaturated",
                                 "type": "EMS_TMS"},
            "style": {"color": "", "type": "EMS_VECTOR_TILE"}}
    dynamic = {"field": {"name": "doc_count", "origin": "source"},
               "fieldMetaOptions": {"isEnabled": True, "sigma": 3}}
    grid = {
        "alpha": 0.75, "id": "sources", "includeInFitToBounds": True, "joins": [],
        "label": title, "maxZoom": 24, "minZoom": 0, "type": "GEOJSON_VECTOR", "visible": True,
        "sourceDescriptor": {
            "applyForceRefresh": True, "applyGlobalQuery": True, "applyGlobalTime": True,
            "geoField": geo_field, "id": "sources-grid",
            "indexPatternRefName": "layer_1_source_index_pattern",
            "metrics": [{"type": "count"}], "requestType": "point", "resolution": "COARSE",
            "type": "ES_GEO_GRID",
        },
        "style": {"isTimeAware": True, "type": "VECTOR", "properties": {
            "fillColor": {"type": "DYNAMIC", "options": {
                **dynamic, "color": "Yellow to Red", "type": "ORDINAL"}},
            "iconSize": {"type": "DYNAMIC", "options": {**dynamic, "maxSize": 24, "minSize": 6}},
            "lineColor": {"type": "STATIC", "options": {"color": "#3d3d3d"}},
            "lineWidth": {"type": "STATIC", "options": {"size": 1}},
            "symbolizeAs": {"options": {"value": "circle"}},
        }},
    }
    map_state = {"center": {"lat": 5.0, "lon": 110.0}, "zoom": 1.6, "filters": [],
                 "query": kuery(""), "refreshConfig": {"interval": 0, "isPaused": True},
                 "timeFilters": {"from": "now-24h", "to": "now"},
                 "settings": {"autoFitToDataBounds": False,
                              "initialLocation": "LAST_SAVED_LOCATION",
                              "showSpatialFilters": True}}
    attributes = {"description": description, "layerListJSON": dumps([base, grid]),
                  "mapStateJSON": dumps(map_state), "title": title,
                  "uiStateJSON": dumps({"isLayerTOCOpen": False, "openTOCDetails": []})}
    refs = [ref("layer_1_source_index_pattern", "index-pattern", view)]
    return saved_object("map", id_, attributes, refs)


# -- dashboards --------------------------------------------------------------------------

@dataclass(frozen=True)
class Panel:
    """A panel at (x, y) of size w x h on the 48-column grid: a saved object by reference
    (``obj``) or, without one, a markdown text (``markdown``)."""

    x: int
    y: int
    w: int
    h: int
    obj: Obj | None = None
    markdown: str = ""
    title: str = ""
    config: Obj = field(default_factory=dict)


@dataclass(frozen=True)
class Control:
    """An options-list control (a drop-down filter) on a field of a data view."""

    field: str
    title: str
    view: str


def _panel_json(index: str, panel: Panel) -> tuple[Obj, list[Obj]]:
    out: Obj = {"gridData": {"h": panel.h, "i": index, "w": panel.w, "x": panel.x,
                             "y": panel.y},
                "panelIndex": index, "embeddableConfig": {"enhancements": {}, **panel.config}}
    if panel.title:
        out["title"] = panel.title
    if panel.obj is None:
        out["type"] = "visualization"
        out["embeddableConfig"]["savedVis"] = {
            "data": {"aggs": [], "searchSource": {"filter": [], "query": kuery("")}},
            "description": "", "id": "", "title": panel.title, "type": "markdown",
            "uiState": {}, "params": {"fontSize": 12, "markdown": panel.markdown,
                                      "openLinksInNewTab": False},
        }
        return out, []
    out["type"] = panel.obj["type"]
    out["panelRefName"] = f"panel_{index}"
    return out, [ref(f"{index}:panel_{index}", panel.obj["type"], panel.obj["id"])]


def _controls(controls: list[Control]) -> tuple[Obj, list[Obj]]:
    panels: Obj = {}
    refs: list[Obj] = []
    for order, control in enumerate(controls):
        cid = "control-" + control.field.replace(".", "-")
        panels[cid] = {"explicitInput": {"enhancements": {}, "fieldName": control.field,
                                         "id": cid, "selectedOptions": [],
                                         "title": control.title},
                       "grow": True, "order": order, "type": "optionsListControl",
                       "width": "medium"}
        refs.append(ref(f"controlGroup_{cid}:optionsListDataView", "index-pattern",
                        control.view))
    ignore = {"ignoreFilters": False, "ignoreQuery": False, "ignoreTimerange": False,
              "ignoreValidations": False}
    group = {"chainingSystem": "HIERARCHICAL", "controlStyle": "oneLine",
             "ignoreParentSettingsJSON": dumps(ignore), "panelsJSON": dumps(panels)}
    return group, refs


def dashboard(id_: str, title: str, description: str, panels: list[Panel],
              controls: list[Control] | None = None, time_from: str = "now-24h") -> Obj:
    panels_json: list[Obj] = []
    refs: list[Obj] = []
    for i, panel in enumerate(panels, start=1):
        pj, prefs = _panel_json(f"p{i}", panel)
        panels_json.append(pj)
        refs.extend(prefs)
    options = {"hidePanelTitles": False, "syncColors": True, "syncCursor": True,
               "syncTooltips": False, "useMargins": True}
    attributes: Obj = {
        "description": description,
        "kibanaSavedObjectMeta": {"searchSourceJSON": dumps({"filter": [],
                                                             "query": kuery("")})},
        "optionsJSON": dumps(options),
        "panelsJSON": dumps(panels_json),
        "refreshInterval": {"pause": False, "value": 60000},
        "timeFrom": time_from,
        "timeRestore": True,
        "timeTo": "now",
        "title": title,
    }
    if controls:
        group, crefs = _controls(controls)
        attributes["controlGroupInput"] = group
        refs.extend(crefs)
    return saved_object("dashboard", id_, attributes, refs)
