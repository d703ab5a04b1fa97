"""The Elasticsearch index templates in dashboards/elasticsearch/, read as Elasticsearch
would: the index template that a data stream name picks (highest priority among those whose
``index_patterns`` match), its component templates merged in ``composed_of`` order, then its
own ``template``; the merged mapping flattened to ``{"source.ip": "ip", ...}``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

Json = dict[str, Any]

KEYWORDS = frozenset({"keyword", "constant_keyword", "wildcard"})
NUMBERS = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float",
                     "scaled_float", "unsigned_long"})
DATES = frozenset({"date", "date_nanos"})
AGGREGATABLE = KEYWORDS | NUMBERS | DATES | {"ip", "boolean"}


@dataclass
class Templates:
    components: dict[str, Json]
    index: dict[str, Json]

    def for_stream(self, name: str) -> tuple[str, Json] | None:
        """The index template Elasticsearch uses for a new data stream ``name``."""
        found = [(int(body.get("priority") or 0), tname, body)
                 for tname, body in self.index.items()
                 if any(fnmatchcase(name, p) for p in _patterns(body))]
        if not found:
            return None
        _, tname, body = max(found, key=lambda f: f[0])
        return tname, body

    def mappings(self, index_template: Json) -> Json:
        """The effective mappings: components in ``composed_of`` order, then its own."""
        merged: Json = {}
        for cname in index_template.get("composed_of", []):
            if cname not in self.components:
                raise KeyError(f"component template {cname!r} is not in the files")
            merged = merge(merged, self.components[cname].get("template", {}).get("mappings", {}))
        return merge(merged, index_template.get("template", {}).get("mappings", {}))


def _patterns(body: Json) -> list[str]:
    pats = body.get("index_patterns", [])
    return [pats] if isinstance(pats, str) else list(pats)


def _entries(path: Path, doc: Any) -> list[tuple[str, str, Json]]:
    """(kind, name, body) of the templates in one file: a bare template body (named by the
    file), a ``{"name", "component_template"|"index_template"}`` record, or the GET API's
    ``{"component_templates": [...]}`` / ``{"index_templates": [...]}`` lists."""
    if isinstance(doc, list):
        return [e for item in doc for e in _entries(path, item)]
    if not isinstance(doc, dict):
        return []
    out: list[tuple[str, str, Json]] = []
    for key, kind in (("component_templates", "component"), ("index_templates", "index")):
        for item in doc.get(key, []):
            out.append((kind, item["name"], item[f"{kind}_template"]))
    for key, kind in (("component_template", "component"), ("index_template", "index")):
        if isinstance(doc.get(key), dict):
            out.append((kind, str(doc.get("name") or path.stem), doc[key]))
    if out:
        return out
    if "index_patterns" in doc:
        return [("index", str(doc.get("name") or path.stem), doc)]
    if "template" in doc:
        return [("component", str(doc.get("name") or path.stem), doc)]
    return []


def load(folder: Path) -> Templates:
    components: dict[str, Json] = {}
    index: dict[str, Json] = {}
    for path in sorted(folder.rglob("*.json")):
        for kind, name, body in _entries(path, json.loads(path.read_text(encoding="utf-8"))):
            (components if kind == "component" else index)[name] = body
            # A file named after the template with a prefix or suffix (ronda-ecs@mappings)
            # is found by its stem too.
            if kind == "component":
                components.setdefault(path.stem, body)
    return Templates(components, index)


def merge(base: Json, extra: Json) -> Json:
    """Merge two ``mappings``: object fields recursively, a leaf field replaced."""
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        if key == "properties" and isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge_properties(old, value)
        elif key == "dynamic_templates" and isinstance(old, list):
            out[key] = old + list(value)
        else:
            out[key] = value
    return out


def merge_properties(base: Json, extra: Json) -> Json:
    out = dict(base)
    for name, spec in extra.items():
        old = out.get(name)
        if (isinstance(old, dict) and "properties" in old and "properties" in spec
                and spec.get("type", "object") == "object"):
            out[name] = merge(old, spec)
        else:
            out[name] = spec
    return out


def flatten(mappings: Json) -> dict[str, str]:
    """``{"source.ip": "ip", "source.geo": "object", "url.original.text": "match_only_text"}``;
    aliases take their target's type."""
    fields: dict[str, str] = {}
    aliases: dict[str, str] = {}

    def walk(props: Json, prefix: str) -> None:
        for name, spec in props.items():
            path = prefix + name
            kind = spec.get("type", "object" if "properties" in spec else "")
            fields[path] = kind
            if kind == "alias":
                aliases[path] = spec.get("path", "")
            walk(spec.get("properties", {}), path + ".")
            for sub, sub_spec in spec.get("fields", {}).items():
                fields[f"{path}.{sub}"] = sub_spec.get("type", "")

    walk(mappings.get("properties", {}), "")
    for path, target in aliases.items():
        fields[path] = fields.get(target, "")
    return fields


def field_type(fields: dict[str, str], name: str) -> str | None:
    """The mapped type of ``name``; a key inside a ``flattened`` field is a keyword."""
    if name in fields:
        return fields[name]
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        if fields.get(".".join(parts[:i])) == "flattened":
            return "keyword"
    return None
