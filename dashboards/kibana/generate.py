"""Write Ronda's Kibana saved objects (``*.ndjson`` in this folder) from their definitions.

    .venv/bin/python dashboards/kibana/generate.py           # rewrite the files
    .venv/bin/python dashboards/kibana/generate.py --check   # exit 1 if a file is stale

The ``.ndjson`` files are what ``ronda kibana import`` sends; edit the ``objects_*.py``
definitions, not the files, and run this. Files are imported in name order, data views
first, though one import request holds them all and Kibana resolves references within it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import objects_network
import objects_overview
import objects_response
import objects_web
from objects_common import data_views, saved_searches
from sobuild import Obj

HERE = Path(__file__).resolve().parent

FILES: dict[str, Callable[[], list[Obj]]] = {
    "00-data-views.ndjson": data_views,
    "01-saved-searches.ndjson": saved_searches,
    "10-overview.ndjson": objects_overview.objects,
    "20-web-attacks.ndjson": objects_web.objects,
    "30-network.ndjson": objects_network.objects,
    "40-response.ndjson": objects_response.objects,
}


def render(objects: list[Obj]) -> str:
    return "".join(json.dumps(o, sort_keys=True, ensure_ascii=False) + "\n" for o in objects)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only report stale files")
    ap.add_argument("--dir", type=Path, default=HERE, help="where the files are")
    args = ap.parse_args(argv)
    stale = []
    for name, build in FILES.items():
        path = args.dir / name
        text = render(build())
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        print(f"stale: {', '.join(stale)} (run dashboards/kibana/generate.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
