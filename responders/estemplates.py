"""Ronda's Elasticsearch index templates, component templates and ILM policies: the JSON
files in ``dashboards/elasticsearch/`` and what is put on a server from them.

The files are the source of truth (the Kibana dashboards are checked against them). They
are found in ``$RONDA_ES_TEMPLATES`` if set, else in the source tree next to this package
(Ronda is installed editable, like ``rules/`` and ``config/``), else in
``ronda/data/elasticsearch`` of an installed package. Every object put on a server
carries ``_meta.managed_by: ronda`` and ``_meta.content_hash`` (the hash of the rest of
its body), so a later setup compares content without reading back what the server
normalised.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ronda import __version__
from ronda.errors import ConfigError

ENV_DIR = "RONDA_ES_TEMPLATES"
Kind = Literal["ilm_policy", "component_template", "index_template"]
KINDS: tuple[Kind, ...] = ("ilm_policy", "component_template", "index_template")  # put order
_SUBDIR: dict[Kind, str] = {
    "ilm_policy": "ilm_policies",
    "component_template": "component_templates",
    "index_template": "index_templates",
}
NOUN: dict[Kind, str] = {
    "ilm_policy": "ILM policy",
    "component_template": "component template",
    "index_template": "index template",
}
ALERT_TEMPLATE = "ronda-alert"
EVENT_TEMPLATE = "ronda-event"
# settings component -> the ILM policy it names where the server has ILM
LIFECYCLE = {"ronda-alert@settings": "ronda-alert", "ronda-event@settings": "ronda-event"}


@dataclass(frozen=True)
class EsObject:
    """One object as it should be on the server."""

    kind: Kind
    name: str
    body: dict[str, Any]

    @property
    def content_hash(self) -> str:
        return str(self.body["_meta"]["content_hash"])

    @property
    def label(self) -> str:
        return f"{NOUN[self.kind]} {self.name}"


def template_dir() -> Path:
    """Where the JSON files are (see the module doc)."""
    env = os.environ.get(ENV_DIR)
    if env:
        path = Path(env).expanduser()
        if not (path / "index_templates").is_dir():
            raise ConfigError(f"${ENV_DIR}={env}: no index_templates/ folder there")
        return path
    source_tree = Path(__file__).resolve().parents[1] / "dashboards" / "elasticsearch"
    if (source_tree / "index_templates").is_dir():
        return source_tree
    packaged = Path(str(resources.files("ronda") / "data" / "elasticsearch"))
    if (packaged / "index_templates").is_dir():
        return packaged
    raise ConfigError(f"Elasticsearch templates not found in {source_tree} "
                      f"(set ${ENV_DIR} to the dashboards/elasticsearch folder)")


def content_hash(body: dict[str, Any]) -> str:
    """Hash of everything but ``_meta``, over canonical JSON."""
    rest = {k: v for k, v in body.items() if k != "_meta"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_files(directory: Path | None = None) -> dict[Kind, dict[str, dict[str, Any]]]:
    """The JSON files as they are: kind -> name (file stem) -> body."""
    base = directory or template_dir()
    out: dict[Kind, dict[str, dict[str, Any]]] = {}
    for kind in KINDS:
        out[kind] = {}
        for path in sorted((base / _SUBDIR[kind]).glob("*.json")):
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{path}: cannot read it ({exc})") from None
            if not isinstance(body, dict):
                raise ConfigError(f"{path}: expected a JSON object")
            out[kind][path.stem] = body
    return out


def desired_objects(ilm: bool, directory: Path | None = None) -> list[EsObject]:
    """What to put on a server, in order: ILM policies (only with ``ilm``), component
    templates (with ``index.lifecycle.name`` only with ``ilm``), index templates."""
    files = read_files(directory)
    objects: list[EsObject] = []
    for kind in KINDS:
        if kind == "ilm_policy" and not ilm:
            continue
        for name, raw in files[kind].items():
            body = copy.deepcopy(raw)
            if ilm and name in LIFECYCLE:
                settings = body.setdefault("template", {}).setdefault("settings", {})
                settings.setdefault("index", {})["lifecycle"] = {"name": LIFECYCLE[name]}
            meta = dict(body.get("_meta") or {})
            meta.update({"managed_by": "ronda", "ronda_version": __version__,
                         "content_hash": content_hash(body)})
            body["_meta"] = meta
            objects.append(EsObject(kind, name, body))
    return objects


def mapping_of(objects: list[EsObject], template: str) -> dict[str, Any]:
    """The mappings an index template composes from its component templates (later
    components win, as in Elasticsearch), for checks without a server."""
    comps = {o.name: o.body for o in objects if o.kind == "component_template"}
    index = next(o.body for o in objects if o.kind == "index_template" and o.name == template)
    merged: dict[str, Any] = {}
    for comp in index.get("composed_of", []):
        _merge(merged, comps[comp].get("template", {}).get("mappings", {}))
    _merge(merged, index.get("template", {}).get("mappings", {}))
    return merged


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def field_type(mapping: dict[str, Any], dotted: str) -> str | None:
    """The explicit type of ``a.b.c`` in ``mapping`` (``object`` for an object), else None."""
    node: dict[str, Any] = mapping
    for part in dotted.split(".") if not dotted.startswith("@") else [dotted]:
        props = node.get("properties")
        if not isinstance(props, dict) or part not in props:
            return None
        node = props[part]
    return str(node.get("type", "object"))
