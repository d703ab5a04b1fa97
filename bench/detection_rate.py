"""Detection rate of the Sigma pack per attack category, on the public-payload corpus.

    python bench/detection_rate.py [--rules rules/sigma] [--limit N] [--json]
                                   [--misses 5] [--by-family]

Replays bench/corpus/attacks.log (built by bench/corpus/gen_attacks.py from the payload
lists in bench/corpus/payloads/, separately from the rules' samples) through the nginx
parser and one ``type: sigma`` detector over the pack, one line at a time, and prints per
labelled category: lines, lines that raised any alert, lines that raised an alert of the
same category (rule.category == label), and both rates. ``--by-family`` adds one row per
CVE; ``--misses N`` prints up to N undetected lines per category.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from corpus_replay import ATTACKS, LABELS, RULES, build_detector, read_lines, replay


def load_labels(path: Path) -> list[tuple[str, str]]:
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return [(r.split("\t")[1], r.split("\t")[2]) for r in rows]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=Path, action="append")
    ap.add_argument("--log", type=Path, default=ATTACKS)
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--limit", type=int, help="only the first N lines")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--misses", type=int, default=0)
    ap.add_argument("--by-family", action="store_true")
    args = ap.parse_args()
    labels = load_labels(args.labels)
    det = build_detector(args.rules or [RULES])
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # lines, any, same
    fam_stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    for n, res in enumerate(replay(read_lines(args.log, args.limit), det)):
        cat, fam = labels[n]
        cats = {a.rule.category for a in res.alerts}
        row = [1, int(bool(res.alerts)), int(cat in cats)]
        for key, table in ((cat, stats), (fam, fam_stats)):
            for i in range(3):
                table[key][i] += row[i]
        if not res.alerts and len(misses[cat]) < args.misses:
            misses[cat].append(res.line)
    total = [sum(v[i] for v in stats.values()) for i in range(3)]
    if args.json:
        keys = ("lines", "detected", "same_category")
        print(json.dumps({"categories": {k: dict(zip(keys, v, strict=True))
                                          for k, v in stats.items()},
                          "total": dict(zip(keys, total, strict=True))}))
        return 0
    print(f"{'category':16} {'lines':>6} {'detected':>8} {'rate':>7} {'same-cat':>8} {'rate':>7}")
    for cat in sorted(stats):
        lines, anyd, same = stats[cat]
        print(f"{cat:16} {lines:6d} {anyd:8d} {100 * anyd / lines:6.1f}% {same:8d} "
              f"{100 * same / lines:6.1f}%")
    print(f"{'all':16} {total[0]:6d} {total[1]:8d} {100 * total[1] / total[0]:6.1f}% "
          f"{total[2]:8d} {100 * total[2] / total[0]:6.1f}%")
    if args.by_family:
        print()
        for fam in sorted(f for f in fam_stats if f.startswith("cve:")):
            lines, anyd, same = fam_stats[fam]
            print(f"{fam[4:]:16} {lines:6d} {anyd:8d} {100 * anyd / lines:6.1f}% {same:8d} "
                  f"{100 * same / lines:6.1f}%")
    for cat, missed in sorted((k, v) for k, v in misses.items() if v):
        print(f"\nmissed {cat}:")
        for line in missed:
            print(f"  {line[:220]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
