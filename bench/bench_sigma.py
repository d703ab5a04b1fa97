"""Lines/s for parse + the Sigma rule pack over one nginx log; 1x vs 10x the rules; peers.

    python bench/bench_sigma.py [--lines 300000] [--repeat 3] [--crowdsec-lines 30000]
                                [--distinct] [--profile] [--cpu 0] [--keep DIR] [--json]

Input: one nginx access log (combined format), written once and read by every tool:
``--lines`` lines over one day. Benign traffic is bench/corpus/benign_gov.log.gz (a day of
a regency government site, in sessions) laid over itself as many times as needed, each
copy with its own visitors (addresses moved within their network) and shifted by a few
seconds; without the corpus, synthetic requests to bench/gen_nginx.py's pages. Mixed in:
1.5% attacks (bench/corpus/attacks.log: SQLi, XSS, traversal, RCE, webshells, scanners,
brute force ...; without it the rule samples' ``match`` lines), 0.5% benign look-alikes
(the samples' ``nomatch`` lines, which reach the regexes behind the prefilter) and, every
10,000 lines, a scanner sending 60 404 probes in 30 s (so correlations have work to do).

What is measured, each command pinned to one CPU (``taskset -c 0``; ``--cpu``), best of
``--repeat``, as wall time and as CPU time (user + system of the command: on a busy
machine the wall time also counts what else ran on that CPU; the CPU time mostly not):

- Ronda, whole command: ``ronda replay -c CFG nginx:FILE --no-store --output none`` with
  one ``type: sigma`` detector over a snapshot of rules/sigma (the full pack: web, linux
  and correlation rules), then over the 10x pack. Process start-up is included: with the
  10x pack it includes pySigma loading ten times the rules, so the whole-command 10x ratio
  mixes a one-off start-up cost into the per-line one.
- Ronda, in-process: a fresh interpreter builds the detector (load time reported on its
  own), reads the file into memory, then, batch by batch (2,000 lines, as the pipeline
  does), times the nginx parser and ``SigmaDetector.process``. No process start, no
  queue, no responders. The issue's goals are judged on this, in CPU time:
  >= 50,000 lines/s with parse + the full pack, and time_10x / time_1x <= 2.
- The 10x pack: the pack copied ten times into a scratch dir; copy 0 verbatim, copies 1-9
  with a fresh id (uuid5 of copy and old id), ``name`` + ``_copyN``, title + `` [copy N]``,
  and every reference to a rule (correlation and filter ``rules:``, by id or by name)
  rewritten to the same copy's rule. The engine shares one matcher among rules with an
  identical detection, so copies cost an alert each rather than an evaluation -- but each
  copied correlation keeps its own windows. ``--distinct`` adds a pessimistic "10x
  distinct" pack where each copy's detection becomes ``(<condition>) and not bench_copyN``
  with ``bench_copyN`` a literal that never occurs: the same matches, but ten matchers per
  rule, all behind the same prefilter literals.
- fail2ban-regex (Debian's fail2ban 1.0): the ``nginx-botsearch`` filter; and Debian's
  whole set of filters that read an access log (nginx-botsearch, nginx-bad-request,
  apache-badbots, php-url-fopen), one ``fail2ban-regex`` per filter with the times summed,
  since fail2ban runs one jail (one pass over the log) per filter. Debian ships no
  SQLi/XSS/traversal/RCE filter, so even that set covers a small part of what the pack
  looks for.
- CrowdSec 1.4.6 (Debian bookworm's package, unpacked by scripts/install-crowdsec.sh into
  .cache/crowdsec; config from bench/crowdsec/, see peer.py there):
  ``crowdsec -c CFG -dsn file://FILE -type nginx -no-capi``, time-machine replay with the
  collection crowdsecurity/nginx (parsers nginx-logs, http-logs, dateparse-enrich and the
  non-syslog stage of syslog-logs; the base-http-scenarios and http-cve scenarios) from the
  package's offline hub. The local API runs inside the same process on 127.0.0.1 (the 1.4
  agent pushes its alerts there and will not start without it: ``-no-api`` ends in
  "authenticate watcher ... connection refused"); the Central API is off. CrowdSec 1.4
  parses nginx lines with Go regexps built from grok patterns and runs at a few hundred
  lines/s on one core (upstream measured the same order: crowdsecurity/crowdsec#2138,
  #2669), so the whole file would take 20-30 minutes per run: by default it replays the
  first ``--crowdsec-lines`` lines of the same file (the mix is the same throughout;
  ``--crowdsec-lines 0`` = all of it), ``--crowdsec-repeat`` times (default 1: a run of
  minutes is not noisy). Its start-up and shutdown (~4 s; it waits for its buckets to
  drain) are in its time, as Ronda's start-up is in Ronda's. If CrowdSec cannot run, one
  line says why ("CrowdSec: not runnable here: ...").

Alerts: Ronda's whole-command count is after its aggregation (``replayed ... N alerts``),
the in-process count is what the detector returned; fail2ban's is matched lines (it has
no alerts without a jail); CrowdSec's is alerts in its database (one per overflow, each
with a ban decision). They are not comparable one to one.

``--profile`` adds one in-process pass under cProfile per pack and prints the functions
with the largest own time (file:line:function, own and cumulative share of parse +
detect) and the own time per file.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from crowdsec.peer import NotRunnable, Peer  # noqa: E402

PACK = ROOT / "rules" / "sigma"
F2B_DIR = Path("/etc/fail2ban/filter.d")
F2B_MAIN = "nginx-botsearch"
F2B_SET = ("nginx-botsearch", "nginx-bad-request", "apache-badbots", "php-url-fopen")
GOAL_RATE = 50_000
GOAL_10X = 2.0

# The input log, the 10x pack and the in-process pass live in sigma_input.py,
# sigma_pack.py and sigma_inprocess.py.
from sigma_inprocess import BATCH, inprocess  # noqa: E402
from sigma_input import COMBINED, generate  # noqa: E402,F401
from sigma_pack import make_pack  # noqa: E402

# ---------------------------------------------------------------------------------------
# runs


def pinned_cpu() -> str:
    """The CPU measured commands run on: --cpu, passed on in $BENCH_SIGMA_CPU."""
    return os.environ.get("BENCH_SIGMA_CPU", "0")


def pin_prefix() -> list[str]:
    cpu = pinned_cpu()
    return ["taskset", "-c", cpu] if shutil.which("taskset") and cpu != "none" else []


def write_config(path: Path, rules: Path, state: Path) -> None:
    path.write_text(json.dumps({
        "sensor": {"name": "bench"}, "state_dir": str(state), "logging": {"level": "warning"},
        "detectors": {"sigma": {"type": "sigma", "rules": [str(rules)]}}}))


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str], timeout: float | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, the command and its children), output."""
    c0 = children_cpu()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    took = time.perf_counter() - t0
    cpu = children_cpu() - c0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} ... failed ({r.returncode}):\n"
                         f"{(r.stdout + r.stderr)[-3000:]}")
    return took, cpu, r.stdout + r.stderr


def ronda_cmd(cfg: Path, log: Path) -> list[str]:
    return [*pin_prefix(), sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg),
            f"nginx:{log}", "--no-store", "--output", "none"]


def ronda_alerts(out: str) -> tuple[int, int]:
    m = re.search(r"replayed (\d+) lines .*?(\d+) skipped .*?(\d+) alerts", out)
    if m is None:
        raise SystemExit(f"no 'replayed ...' summary in ronda's output:\n{out[-2000:]}")
    return int(m.group(1)), int(m.group(3))


def f2b_cmd(log: Path, flt: str) -> list[str]:
    return [*pin_prefix(), shutil.which("fail2ban-regex") or "fail2ban-regex",
            "--print-no-missed", "--print-no-ignored", str(log), str(F2B_DIR / f"{flt}.conf")]


def f2b_matched(out: str) -> int:
    m = re.search(r"^Lines: \d+ lines, \d+ ignored, (\d+) matched", out, re.M)
    return int(m.group(1)) if m else 0


@dataclass
class Best:
    seconds: float = float("inf")
    cpu: float = float("inf")
    alerts: int = 0
    out: str = ""

    def add(self, seconds: float, cpu: float, alerts: int, out: str = "") -> None:
        self.cpu = min(self.cpu, cpu)
        if seconds < self.seconds:
            self.seconds, self.alerts, self.out = seconds, alerts, out


# in-process -------------------------------------------------------------------------------


def run_inprocess(cfg: Path, log: Path, repeat: int, profile: bool) -> dict[str, Any]:
    cmd = [*pin_prefix(), sys.executable, str(Path(__file__).resolve()), "--_inprocess",
           str(cfg), str(log), "--repeat", str(repeat)]
    if profile:
        cmd.append("--profile")
    _, _, out = timed(cmd)
    res: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    n = res["lines"]
    for u in ("s", "cpu"):
        res[f"both_{u}"] = res[f"parse_{u}"] + res[f"detect_{u}"]
        for p in ("parse", "detect", "both"):
            res[f"{p}_rate_{'wall' if u == 's' else 'cpu'}"] = _rate(n, res[f"{p}_{u}"])
    return res


# ---------------------------------------------------------------------------------------


def _rate(lines: int, seconds: float) -> float:
    return lines / seconds if seconds > 0 else float("inf")


def _head(src: Path, dst: Path, n: int) -> int:
    count = 0
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            if count >= n:
                break
            fout.write(line)
            count += 1
    return count


def crowdsec_run(tmp: Path, log: Path, lines: int, limit: int, repeat: int,
                 timeout: float) -> dict[str, Any]:
    peer = Peer(tmp / "crowdsec", pin=pin_prefix())
    try:
        peer.prepare()
        if limit and limit < lines:
            part = tmp / "access-crowdsec.log"
            lines = _head(log, part, limit)
            log = part
        best: Any = None
        cpu = float("inf")
        for _ in range(repeat):
            r = peer.run(log, timeout=timeout)
            cpu = min(cpu, r.cpu)
            if best is None or r.seconds < best.seconds:
                best = r
    except NotRunnable as exc:
        return {"error": str(exc)}
    except subprocess.TimeoutExpired:
        return {"error": f"a replay took longer than {timeout:.0f} s (--crowdsec-timeout)"}
    except OSError as exc:
        return {"error": f"cannot run crowdsec: {exc}"}
    return {"version": peer.version(), "lines": lines, "seconds": best.seconds, "cpu": cpu,
            "lines_per_s": _rate(lines, best.seconds), "cpu_lines_per_s": _rate(lines, cpu),
            "alerts": best.alerts, "by_scenario": best.by_scenario,
            "items": len(peer.enabled), "repeat": repeat}


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best of)")
    ap.add_argument("--copies", type=int, default=10, help="pack copies for the 'Nx' runs")
    ap.add_argument("--distinct", action="store_true",
                    help="also measure a 10x pack whose copies have distinct detections")
    ap.add_argument("--crowdsec-lines", type=int, default=30_000,
                    help="lines (from the top of the same file) CrowdSec replays; 0 = all")
    ap.add_argument("--crowdsec-repeat", type=int, default=1)
    ap.add_argument("--crowdsec-timeout", type=float, default=3600)
    ap.add_argument("--no-crowdsec", action="store_true")
    ap.add_argument("--no-fail2ban-set", action="store_true",
                    help="only nginx-botsearch, not Debian's four access-log filters")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the in-process detect path; print the hotspots")
    ap.add_argument("--cpu", default=pinned_cpu(),
                    help="the CPU every measured command is pinned to (taskset -c; 'none': "
                         "no pinning; default 0, or $BENCH_SIGMA_CPU)")
    ap.add_argument("--keep", metavar="DIR", help="write the log, configs, packs here")
    ap.add_argument("--json", action="store_true", help="print one JSON result line")
    ap.add_argument("--_inprocess", nargs=2, metavar=("CFG", "LOG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ["BENCH_SIGMA_CPU"] = str(args.cpu)
    if args._inprocess:
        res = inprocess(Path(args._inprocess[0]), Path(args._inprocess[1]), args.repeat,
                        args.profile)
        print(json.dumps(res))
        return 0
    if not (PACK / "web").is_dir():
        raise SystemExit(f"{PACK} has no rule pack (rules/sigma/web ...)")
    if shutil.which("fail2ban-regex") is None:
        raise SystemExit("fail2ban-regex not found: apt-get install fail2ban "
                         "(scripts/test.sh installs it)")
    if args.keep:
        tmp_ctx: Any = None
        tmp = Path(args.keep).resolve()
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="ronda-bench-sigma-")
        tmp = Path(tmp_ctx.name)
    try:
        result = _bench(args, tmp)
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    if args.json:
        print(json.dumps(result))
    else:
        report(result)
    return 0


def _measure(n: int, b: Best, count: str = "alerts") -> dict[str, Any]:
    return {"seconds": b.seconds, "cpu": b.cpu, "lines_per_s": _rate(n, b.seconds),
            "cpu_lines_per_s": _rate(n, b.cpu), count: b.alerts}


def _bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    log = tmp / "access.log"
    mix = generate(log, args.lines)
    nx = f"{args.copies}x"
    # 1x is a snapshot too, so that every pack comes from the same state of rules/sigma
    packs: dict[str, Path] = {"1x": tmp / "pack-1x", nx: tmp / "pack-nx"}
    if args.distinct:
        packs[f"{nx} distinct"] = tmp / "pack-nx-distinct"
    counts: dict[str, int] = {}
    for key, pack in packs.items():
        if pack.exists():
            shutil.rmtree(pack)
        copies = 1 if key == "1x" else args.copies
        counts[key] = make_pack(PACK, pack, copies, distinct="distinct" in key)
    cfgs: dict[str, Path] = {}
    for key, pack in packs.items():
        d = tmp / ("cfg-" + key.replace(" ", "-"))
        (d / "state").mkdir(parents=True, exist_ok=True)
        cfgs[key] = d / "ronda.yaml"
        write_config(cfgs[key], pack, d / "state")

    ronda = {k: Best() for k in cfgs}
    f2b_main = Best()
    f2b_set = {f: Best() for f in (() if args.no_fail2ban_set else F2B_SET)}
    for _ in range(args.repeat):  # alternate, so machine noise hits every tool alike
        for key, cfg in cfgs.items():
            t, c, out = timed(ronda_cmd(cfg, log))
            ronda[key].add(t, c, ronda_alerts(out)[1], out)
        t, c, out = timed(f2b_cmd(log, F2B_MAIN))
        f2b_main.add(t, c, f2b_matched(out))
        for flt, best in f2b_set.items():
            t, c, out = timed(f2b_cmd(log, flt))
            best.add(t, c, f2b_matched(out))
    replayed = ronda_alerts(ronda["1x"].out)[0]
    inproc = {k: run_inprocess(cfg, log, args.repeat, args.profile) for k, cfg in cfgs.items()}
    cs: dict[str, Any] = ({"error": "skipped (--no-crowdsec)"} if args.no_crowdsec else
                          crowdsec_run(tmp, log, args.lines, args.crowdsec_lines,
                                       args.crowdsec_repeat, args.crowdsec_timeout))
    n = args.lines
    res: dict[str, Any] = {
        "lines": n, "replayed": replayed, "repeat": args.repeat, "copies": args.copies,
        "mix": mix.__dict__, "pinned": bool(pin_prefix()), "rule_docs": counts,
        "ronda": {k: _measure(n, b) for k, b in ronda.items()},
        "inprocess": inproc,
        "fail2ban": {F2B_MAIN: _measure(n, f2b_main, "matched")},
        "crowdsec": cs,
    }
    if f2b_set:
        total = Best(sum(b.seconds for b in f2b_set.values()),
                     sum(b.cpu for b in f2b_set.values()),
                     sum(b.alerts for b in f2b_set.values()))
        res["fail2ban"]["debian_access_set"] = {
            **_measure(n, total, "matched"), "filters": list(f2b_set),
            "per_filter": {f: _measure(n, b, "matched") for f, b in f2b_set.items()}}
    one, ip1 = res["ronda"]["1x"], inproc["1x"]
    res["cost_ratio"] = {
        k: {"whole_command": res["ronda"][k]["seconds"] / one["seconds"],
            "whole_command_cpu": res["ronda"][k]["cpu"] / one["cpu"],
            "inprocess": v["both_s"] / ip1["both_s"],
            "inprocess_cpu": v["both_cpu"] / ip1["both_cpu"],
            "detect_cpu": v["detect_cpu"] / ip1["detect_cpu"],
            "load_cpu": v["load_cpu"] / ip1["load_cpu"]}
        for k, v in inproc.items() if k != "1x"}
    ratios: dict[str, dict[str, float]] = {}
    peers = {"fail2ban " + F2B_MAIN: res["fail2ban"][F2B_MAIN]}
    if "debian_access_set" in res["fail2ban"]:
        peers["fail2ban access-log set"] = res["fail2ban"]["debian_access_set"]
    if "lines_per_s" in cs:
        peers["crowdsec"] = cs
    for name, peer in peers.items():
        ratios[name] = {"wall": one["lines_per_s"] / peer["lines_per_s"],
                        "cpu": one["cpu_lines_per_s"] / peer["cpu_lines_per_s"]}
    res["ratios"] = ratios
    res["goals"] = {
        "rate_1x_cpu": ip1["both_rate_cpu"], "rate_1x_wall": ip1["both_rate_wall"],
        "rate_met": ip1["both_rate_cpu"] >= GOAL_RATE,
        "cost_10x_cpu": res["cost_ratio"][nx]["inprocess_cpu"],
        "cost_met": res["cost_ratio"][nx]["inprocess_cpu"] <= GOAL_10X,
    }
    return res


def _line(label: str, wall: float, cpu: float, n: int, extra: str) -> str:
    return (f"  {label:<46} {wall:8.2f} s {_rate(n, wall):>10,.0f}/s | cpu {cpu:8.2f} s "
            f"{_rate(n, cpu):>10,.0f}/s | {extra}")


def report(res: dict[str, Any]) -> None:
    n = res["lines"]
    mix = res["mix"]
    nx = f"{res['copies']}x"
    pin = f"pinned to CPU {pinned_cpu()} (taskset)" if res["pinned"] else "NOT pinned (no taskset)"
    print(f"input: {n:,} nginx lines: {mix['benign']:,} benign ({mix['sources']['benign']}),"
          f" {mix['lookalike']:,} look-alikes, {mix['attack']:,} attacks "
          f"({mix['sources']['attack']}), {mix['probe']:,} scanner probes")
    packs = ", ".join(f"{k} = {v} rule documents" for k, v in res["rule_docs"].items())
    print(f"rule packs (snapshots of rules/sigma): {packs}")
    print(f"best of {res['repeat']} runs each; {pin}; lines/s from wall time and from CPU "
          "time (user+sys: what the tool itself used, whatever else the machine ran)")
    print()
    print("whole command (process start included):            wall            |       cpu")
    for k, v in res["ronda"].items():
        print(_line(f"ronda replay, sigma {k}", v["seconds"], v["cpu"], n,
                    f"{v['alerts']:,} alerts"))
    f = res["fail2ban"][F2B_MAIN]
    print(_line(f"fail2ban-regex {F2B_MAIN}", f["seconds"], f["cpu"], n,
                f"{f['matched']:,} lines matched"))
    if "debian_access_set" in res["fail2ban"]:
        s = res["fail2ban"]["debian_access_set"]
        print(_line(f"fail2ban-regex x{len(s['filters'])} access-log filters (sum)",
                    s["seconds"], s["cpu"], n, f"{s['matched']:,} lines matched"))
    cs = res["crowdsec"]
    if "error" in cs:
        print(f"  CrowdSec: not runnable here: {cs['error']}")
    else:
        print(_line(f"crowdsec {cs['version'].split('-')[0]}, first {cs['lines']:,} lines",
                    cs["seconds"], cs["cpu"], cs["lines"],
                    f"{cs['alerts']:,} alerts (best of {cs['repeat']})"))
        by = sorted(cs["by_scenario"].items(), key=lambda kv: -kv[1])
        print("    crowdsec alerts: " + (", ".join(f"{k.split('/')[-1]} {v}" for k, v in by)
                                         or "none"))
    print()
    print(f"in-process, fresh interpreter, CPU time (wall in brackets); parse = nginx parser, "
          f"detect = SigmaDetector.process on batches of {BATCH}:")
    for k, v in res["inprocess"].items():
        print(f"  sigma {k:<13} load {v['load_cpu']:5.2f} s | parse {v['parse_rate_cpu']:>9,.0f}"
              f"/s | detect {v['detect_rate_cpu']:>9,.0f}/s | parse+detect "
              f"{v['both_rate_cpu']:>9,.0f}/s [{v['both_rate_wall']:,.0f}/s] | "
              f"{v['rules']} rules, {v['alerts']:,} alerts")
    print()
    for name, r in res["ratios"].items():
        print(f"ratio ronda (sigma 1x, whole command) / {name}: {r['wall']:.2f}x wall, "
              f"{r['cpu']:.2f}x cpu")
    for k, v in res["cost_ratio"].items():
        print(f"cost of {k} (time / time 1x): in-process parse+detect {v['inprocess_cpu']:.2f} "
              f"cpu [{v['inprocess']:.2f} wall], detect alone {v['detect_cpu']:.2f}; "
              f"whole command {v['whole_command_cpu']:.2f} cpu [{v['whole_command']:.2f} wall]; "
              f"load {v['load_cpu']:.1f}")
    g = res["goals"]
    print(f"goal >= {GOAL_RATE:,} lines/s, parse + full pack, one core (in-process, cpu): "
          f"{g['rate_1x_cpu']:,.0f} -> {'met' if g['rate_met'] else 'MISSED'}")
    print(f"goal {nx} rules <= {GOAL_10X:.0f}x time (in-process, cpu): {g['cost_10x_cpu']:.2f}"
          f" -> {'met' if g['cost_met'] else 'MISSED'}")
    for k, v in res["inprocess"].items():
        hot = v.get("hotspots") or {}
        if hot:
            print(f"\nhotspots, sigma {k} (cProfile of parse + detect; own-time share, "
                  "cumulative share):")
            for name, own, cum in hot["functions"]:
                print(f"  {own:6.1%} {cum:6.1%}  {name}")
            print("  by file (own time): " + ", ".join(f"{n} {s:.0%}" for n, s in hot["files"]))


if __name__ == "__main__":
    sys.exit(main())
