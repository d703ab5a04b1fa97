"""False-alarm rate of the Sigma pack on the benign government-site corpus.

    python bench/false_alarm_rate.py [--rules rules/sigma] [--log bench/corpus/benign_gov.log.gz]
                                     [--limit N] [--json] [--show 3]

Replays the benign corpus (bench/corpus/gen_benign.py: 20,000 requests of one day on a
regency Diskominfo site) through the nginx parser and one ``type: sigma`` detector over the
whole pack (web, linux and correlation rules), one line at a time, and counts the lines that
raised at least one alert. Prints the rate, the alerts per rule and example lines. The goal
(and the test in tests/detectors/sigma/test_pack.py) is at most 0.1% of lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from corpus_replay import BENIGN, RULES, build_detector, read_lines, replay


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=Path, action="append")
    ap.add_argument("--log", type=Path, default=BENIGN)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--show", type=int, default=3, help="example lines per rule")
    args = ap.parse_args()
    det = build_detector(args.rules or [RULES])
    total = unparsed = alerting = 0
    per_rule: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for res in replay(read_lines(args.log, args.limit), det):
        total += 1
        if not res.parsed:
            unparsed += 1
            continue
        if res.alerts:
            alerting += 1
            for a in res.alerts:
                per_rule[a.rule.name] += 1
                examples.setdefault(a.rule.name, [])
                if len(examples[a.rule.name]) < args.show:
                    examples[a.rule.name].append(res.line)
    rate = 100.0 * alerting / total if total else 0.0
    if args.json:
        print(json.dumps({"lines": total, "unparsed": unparsed, "alerting_lines": alerting,
                          "rate_percent": rate, "per_rule": dict(per_rule),
                          "examples": examples}))
        return 0
    print(f"{args.log}: {total} lines, {unparsed} unparsed, {alerting} raised an alert "
          f"= {rate:.3f}% (goal <= 0.1%)")
    for name, n in per_rule.most_common():
        print(f"  {n:5d}  {name}")
        for line in examples[name]:
            print(f"         {line[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
