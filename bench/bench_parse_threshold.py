"""Lines/s for parse + threshold detection over one large nginx log: Ronda vs fail2ban-regex.

    python bench/bench_parse_threshold.py [--lines 300000] [--repeat 3]

Both tools read the same file, end to end, as whole commands (process start included):
- Ronda: ``ronda replay nginx:FILE`` with the shipped threshold rules (404 storm, path
  sweep), no store, no output;
- fail2ban: ``fail2ban-regex FILE nginx-botsearch`` (Debian's fail2ban filter).
The best of ``--repeat`` runs of each is taken; runs alternate so machine noise hits both.
Prints lines/s for each and the ratio Ronda / fail2ban-regex.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen_nginx import generate  # noqa: E402

F2B_FILTER = "/etc/fail2ban/filter.d/nginx-botsearch.conf"


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return took, r.stdout + r.stderr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON result line")
    args = ap.parse_args()
    f2b = shutil.which("fail2ban-regex")
    if f2b is None:
        raise SystemExit("fail2ban-regex not found: apt-get install fail2ban "
                         "(scripts/test.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="ronda-bench-") as tmp:
        log = Path(tmp) / "access.log"
        generate(log, args.lines)
        cfg = Path(tmp) / "ronda.yaml"
        cfg.write_text(json.dumps({
            "sensor": {"name": "bench"}, "state_dir": tmp, "logging": {"level": "warning"},
            "detectors": {"thresholds": {"type": "threshold",
                                         "rules": [str(ROOT / "rules" / "thresholds")]}}}))
        ronda = [sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg),
                 f"nginx:{log}", "--no-store", "--output", "none"]
        fail2ban = [f2b, "--print-no-missed", "--print-no-ignored", str(log), F2B_FILTER]
        best_r = best_f = float("inf")
        out_r = out_f = ""
        for _ in range(args.repeat):
            t, out_r = timed(ronda)
            best_r = min(best_r, t)
            t, out_f = timed(fail2ban)
            best_f = min(best_f, t)
    r_rate, f_rate = args.lines / best_r, args.lines / best_f
    summary = [ln for ln in out_r.splitlines() if ln.startswith("replayed")]
    matched = [ln.strip() for ln in out_f.splitlines() if ln.strip().startswith("Lines:")]
    alerts = re.search(r"(\d+) alerts", summary[0]) if summary else None
    if args.json:
        print(json.dumps({"lines": args.lines, "ronda_lines_per_s": round(r_rate),
                          "ronda_alerts": int(alerts.group(1)) if alerts else 0,
                          "fail2ban_lines_per_s": round(f_rate),
                          "ratio": round(r_rate / f_rate, 2)}))
        return 0
    print(f"input: {args.lines} nginx combined lines, best of {args.repeat} runs each")
    print(f"ronda replay (parse + threshold rules): {best_r:7.2f} s  {r_rate:10,.0f} lines/s"
          f"   [{summary[0] if summary else ''}]")
    print(f"fail2ban-regex nginx-botsearch:         {best_f:7.2f} s  {f_rate:10,.0f} lines/s"
          f"   [{matched[0] if matched else ''}]")
    print(f"ratio ronda / fail2ban-regex: {r_rate / f_rate:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
