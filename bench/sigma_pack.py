"""The 10x pack of bench_sigma.py: rules/sigma copied under new ids and names, with the
correlations' references rewritten to their own copy."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

COPY_NS = uuid.UUID("6f0b1d2c-4e1a-4c55-9a51-2b7d0c0e5a10")


def _rule_files(src: Path) -> Iterator[Path]:
    for p in sorted(src.rglob("*")):
        if p.suffix in (".yml", ".yaml") and not p.name.endswith((".samples.yml",
                                                                  ".samples.yaml")):
            yield p


def _docs(path: Path) -> list[Any]:
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def _first_field(detection: dict[str, Any]) -> str | None:
    for key, value in detection.items():
        if key in ("condition", "timeframe"):
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                for fname in item:
                    return str(fname).split("|", 1)[0]
    return None


def _distinct(doc: dict[str, Any], k: int) -> None:
    """Make the detection differ from the original's without changing what it matches."""
    det = doc.get("detection")
    if not isinstance(det, dict) or "condition" not in det:
        return
    sel = f"bench_copy{k}"
    marker = f"ronda-bench-never-{k}-{uuid.uuid5(COPY_NS, str(doc.get('id')))}"
    fname = _first_field(det)
    det[sel] = {f"{fname}|contains": marker} if fname else [marker]
    cond = det["condition"]
    if isinstance(cond, list):
        det["condition"] = [f"({c}) and not {sel}" for c in cond]
    else:
        det["condition"] = f"({cond}) and not {sel}"


def make_pack(src: Path, dst: Path, copies: int, distinct: bool = False) -> int:
    """``copies`` copies of the rule pack under ``src`` in ``dst``; returns rule documents
    written. Copy 0 is verbatim (unless ``distinct``)."""
    files = [(p, _docs(p)) for p in _rule_files(src)]
    written = 0
    for k in range(copies):
        ids: dict[str, str] = {}
        names: dict[str, str] = {}
        for _, docs in files:
            for d in docs:
                if isinstance(d, dict):
                    if d.get("id") is not None:
                        ids[str(d["id"])] = str(uuid.uuid5(COPY_NS, f"{k}:{d['id']}"))
                    if d.get("name"):
                        names[str(d["name"])] = f"{d['name']}_copy{k}"
        for path, docs in files:
            out = dst / f"copy{k:02d}" / path.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            if k == 0 and not distinct:
                shutil.copy(path, out)
                written += sum(1 for d in docs if isinstance(d, dict))
                continue
            new_docs = []
            for d in docs:
                if not isinstance(d, dict):
                    new_docs.append(d)
                    continue
                d = json.loads(json.dumps(d, default=str))  # a deep copy, dates as text
                if k:
                    if d.get("id") is not None:
                        d["id"] = ids[str(d["id"])]
                    if d.get("name"):
                        d["name"] = names[str(d["name"])]
                    if isinstance(d.get("title"), str):
                        d["title"] = f"{d['title']} [copy {k}]"
                    d.pop("related", None)
                    for holder in (d.get("correlation"), d.get("filter")):
                        if isinstance(holder, dict) and isinstance(holder.get("rules"), list):
                            holder["rules"] = [ids.get(str(r), names.get(str(r), r))
                                               for r in holder["rules"]]
                    if isinstance(d.get("rules"), list):  # spec-1 style filter
                        d["rules"] = [ids.get(str(r), names.get(str(r), r)) for r in d["rules"]]
                if distinct:
                    _distinct(d, k)
                new_docs.append(d)
                written += 1
            out.write_text(yaml.safe_dump_all(new_docs, sort_keys=False, allow_unicode=True,
                                              width=1000), encoding="utf-8")
    return written

