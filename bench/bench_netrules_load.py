"""Load time and coverage of the netrules parser over real ET Open rules.

    python bench/bench_netrules_load.py [PATH ...] [--repeat 5] [--json]

PATH: .rules files or folders (default tests/data/et_open, see its README). Prints the
rules found (uncommented ``alert``/``drop``/... lines), loaded, skipped (with the keywords
that skipped them, most common first) and broken, then the time to parse every file
(``load_rules``) and to build the engine (prefilter automata), best and median of
``--repeat`` runs, and rules parsed per second. No thresholds: a measurement to compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.netrules.detector import load_rules, rule_files
from detectors.netrules.engine import Engine
from detectors.netrules.text import rule_lines
from detectors.netrules.vars import normalise_vars

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "et_open"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path, default=[DEFAULT])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--top", type=int, default=15, help="skip keywords to list")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = ap.parse_args(argv)
    files = rule_files(args.paths)
    total = sum(1 for p in files for _ in rule_lines(p.read_text("utf-8", errors="replace")))
    variables = normalise_vars({})
    load_times: list[float] = []
    build_times: list[float] = []
    loaded = None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        loaded = load_rules(args.paths, variables)
        t1 = time.perf_counter()
        Engine(loaded.rules, 100_000, 100_000)
        t2 = time.perf_counter()
        load_times.append(t1 - t0)
        build_times.append(t2 - t1)
    assert loaded is not None
    skipped = sum(loaded.skipped.values())
    share = len(loaded.rules) / total if total else 0.0
    result: dict[str, object] = {
        "files": len(files), "rules": total, "loaded": len(loaded.rules), "skipped": skipped,
        "broken": len(loaded.problems),
        "loaded_share": round(share, 4),
        "skipped_by_keyword": dict(loaded.skipped.most_common()),
        "load_s_best": round(min(load_times), 4),
        "load_s_median": round(statistics.median(load_times), 4),
        "engine_build_s_best": round(min(build_times), 4),
        "rules_per_s": round(total / min(load_times)) if total else 0,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['files']} files, {total} rules: {len(loaded.rules)} loaded "
          f"({100 * share:.1f} %), {skipped} skipped, "
          f"{len(loaded.problems)} broken")
    for keyword, n in loaded.skipped.most_common(args.top):
        print(f"  skipped {n:6d}  {keyword}")
    for problem in loaded.problems[:10]:
        print(f"  broken  {problem}")
    print(f"load (parse every file): best {result['load_s_best']:.4f} s, median "
          f"{result['load_s_median']:.4f} s over {len(load_times)} runs "
          f"({result['rules_per_s']} rules/s)")
    print(f"engine build (prefilter): best {result['engine_build_s_best']:.4f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
