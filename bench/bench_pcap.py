"""Packets/s for pcap -> flows + metadata events (rules on): Ronda vs tshark vs scapy.

    python bench/bench_pcap.py [--packets 1500000] [--repeat 3] [--scapy-slice 100000]
    python bench/bench_pcap.py --flood 1000000 [--max-flows 200000]

One deterministic capture of an office network segment (bench/gen_pcap.py: HTTP, TLS, SSH
sessions with real protocol bytes, DNS over UDP, ICMP echo; ~1.5 % of the web requests are
attacks), cached under .cache/bench/. Measured on the same file, in the same run:
- Ronda, ``ronda replay pcap:FILE --no-store --output none`` (the whole command, process
  start included), four configurations (bench/pcap_config.py): every detector (protocol
  parsers, the Sigma pack, every network detector, a threat-intel list and the
  Suricata-subset rules of rules/suricata, so payload samples too); parsers + netrules
  (the issue's "flows + metadata events, rules on"); parsers without detectors; flows
  only (a pcap source with ``protocols: []`` in the config, which replay applies). The
  start-up (imports, config, rules) is the same command on a one-packet capture; the rate
  without it is also printed, for Ronda and for tshark;
- Ronda's hot loop in this process (reader, decoder, flow table, events): flows only,
  with a no-op observer on the protocol hook, and with the protocol parsers;
- tshark: ``tshark -r FILE -T fields`` with the same fields (frame, addresses, ports, DNS,
  HTTP, TLS SNI/ALPN/JA3, SSH version);
- scapy: ``rdpcap`` of the first ``--scapy-slice`` packets, scaled to packets/s.
The best of ``--repeat`` runs is taken (runs alternate so machine noise hits all). Prints
packets/s, the ratios, the peak RSS of the Ronda commands, Ronda's replay summary, the
events by dataset (from the in-process parser run) and the alerts by rule (from one more,
untimed, run with ``--output jsonl``).

``--flood N``: instead, N TCP SYNs from N distinct (spoofed) source addresses through the
decoder and a flow table of ``--max-flows``; prints the table's peak size, the evictions
and this process's peak RSS.
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
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import pcap_config  # noqa: E402
from gen_pcap import generate  # noqa: E402

from ronda.schema import Event  # noqa: E402
from sensor.net.engine import PacketEngine  # noqa: E402
from sensor.net.flowrecord import Flow  # noqa: E402
from sensor.net.flows import FlowTable  # noqa: E402
from sensor.net.hooks import EmitEvent, FlowObserver, Packet  # noqa: E402
from sensor.net.pcapfile import CaptureReader  # noqa: E402
from sensor.net.pcapwrite import PcapWriter  # noqa: E402
from sensor.net.proto.registry import ALL, make_observers  # noqa: E402

TSHARK_FIELDS = ("frame.time_epoch", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
                 "udp.srcport", "udp.dstport", "frame.len", "dns.qry.name", "dns.qry.type",
                 "dns.flags.rcode", "dns.a", "http.request.method", "http.host",
                 "http.request.uri", "http.user_agent", "http.response.code",
                 "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
                 "tls.handshake.ja3", "ssh.protocol")
SUMMARY = re.compile(r"replayed (\d+) packets from \d+ capture\(s\): (\d+) flows, (\d+) "
                     r"undecodable, (\d+) malformed protocol messages, (\d+) alerts")
GOAL_PPS, GOAL_VS_TSHARK = 250_000, 2.0


class NoopObserver:
    name = "noop"
    payload_only = True

    def __init__(self) -> None:
        self.calls = 0

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        self.calls += 1

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        pass


def capture(packets: int, seed: int) -> Path:
    cache = ROOT / ".cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"office-{packets}-{seed}.pcap"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        generate(tmp, packets, seed)
        tmp.replace(path)
    return path


def count_packets(path: Path) -> int:
    return sum(1 for _ in CaptureReader(path))


def run_cmd(cmd: list[str], out: Path | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stderr of a command; its stdout goes to ``out``
    (a file) or nowhere."""
    t0 = time.perf_counter()
    with open(out or os.devnull, "wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return took, usage.ru_maxrss, err


def in_process(path: Path, observers: list[FlowObserver],
               datasets: Counter[str] | None = None) -> float:
    events: list[Event] = []
    table = FlowTable(events.append, observers=observers)
    engine = PacketEngine(table)

    def tick(ts: float) -> bool:
        if datasets is not None:
            datasets.update(e.dataset for e in events)
        events.clear()
        return True

    t0 = time.perf_counter()
    engine.run(CaptureReader(path), tick)
    table.flush()
    took = time.perf_counter() - t0
    tick(0.0)
    return took


def scapy_rate(path: Path, limit: int) -> float:
    from scapy.all import rdpcap  # all layers, so rdpcap dissects Ethernet/IP/TCP/UDP

    with tempfile.TemporaryDirectory(prefix="ronda-bench-") as tmp:
        part = Path(tmp) / "slice.pcap"
        with open(part, "wb") as fh:
            out = PcapWriter(fh)
            for i, (ts, _, buf, off, caplen, wirelen) in enumerate(CaptureReader(path)):
                if i >= limit:
                    break
                out.write(ts, buf[off:off + caplen], wirelen)
        t0 = time.perf_counter()
        n = len(rdpcap(str(part)))
        return n / (time.perf_counter() - t0)


def flood(n: int, bound: int) -> int:
    from sensor.net.pcapwrite import SYN, ether, ipv4, tcp

    template = ether(ipv4(b"\x0a\0\0\1", b"\xc0\x00\x02\x01", 6, tcp(40000, 443, SYN)))
    head, tail = template[:26], template[30:]
    emitted = 0

    def count(ev: Event) -> None:
        nonlocal emitted
        emitted += 1

    table = FlowTable(count, max_flows=bound)
    engine = PacketEngine(table)
    most = 0

    def tick(ts: float) -> bool:
        nonlocal most
        most = max(most, len(table))
        return True

    def records():  # type: ignore[no-untyped-def]
        for i in range(n):
            frame = head + (0x0B000000 + i).to_bytes(4, "big") + tail
            yield 1_767_225_600.0 + i * 1e-5, 1, frame, 0, len(frame), len(frame)

    t0 = time.perf_counter()
    engine.run(records(), tick)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table.flush()
    took = time.perf_counter() - t0
    ok = most <= bound and table.peak <= bound and table.evictions == max(0, n - bound)
    print(f"flood: {n} SYNs from {n} source addresses, max_flows {bound}: peak table "
          f"{table.peak}, evictions {table.evictions}, flow events {emitted}, "
          f"{n / took:,.0f} packets/s, peak RSS {peak_rss:.0f} MiB -> "
          f"{'within bounds' if ok else 'BOUND EXCEEDED'}")
    return 0 if ok else 1


def tshark_fields(tshark: str) -> list[str]:
    """TSHARK_FIELDS this tshark knows (tls.handshake.ja3 came in 3.6)."""
    known = subprocess.run([tshark, "-G", "fields"], capture_output=True, text=True,
                           check=True).stdout
    names = {line.split("\t")[2] for line in known.splitlines() if line.startswith("F\t")}
    return [f for f in TSHARK_FIELDS if f in names]


def parse_summary(err: str) -> dict[str, Any]:
    """The replay's summary line (stderr) and its counts."""
    m = SUMMARY.search(err)
    if m is None:
        raise SystemExit(f"no replay summary in: {err[-2000:]}")
    keys = ("packets", "flows", "undecodable", "malformed", "alerts")
    return {"line": m.group(0), **dict(zip(keys, map(int, m.groups()), strict=True))}


def alerts_by_rule(path: Path) -> dict[str, int]:
    names: Counter[str] = Counter()
    with open(path) as fh:
        for line in fh:
            rule = json.loads(line).get("rule", {})
            names[f"{rule.get('ruleset', '?')}: {rule.get('name', '?')}"] += 1
    return dict(names.most_common())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_500_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scapy-slice", type=int, default=100_000)
    ap.add_argument("--json", action="store_true", help="print one JSON result line")
    ap.add_argument("--flood", type=int, metavar="N", help="spoofed-source flood instead")
    ap.add_argument("--max-flows", type=int, default=200_000)
    args = ap.parse_args()
    if args.flood:
        return flood(args.flood, args.max_flows)
    tshark = shutil.which("tshark")
    if tshark is None:
        raise SystemExit("tshark not found: apt-get install tshark")
    path = capture(args.packets, args.seed)
    n = count_packets(path)
    fields = tshark_fields(tshark)
    datasets: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="ronda-bench-") as tmp_name:
        tmp = Path(tmp_name)
        replay = [sys.executable, "-m", "ronda.daemon.cli", "replay", f"pcap:{path}",
                  "--no-store"]
        cmds = {k: [*replay, "-c", str(pcap_config.write(tmp, f"{k}.yaml", k)),
                    "--output", "none"] for k in ("full", "netrules", "bare", "flows")}
        full = cmds["full"]
        # start-up (imports, config, rules) measured apart: the same commands on a
        # capture of one packet
        tiny = tmp / "one.pcap"
        with open(tiny, "wb") as fh:
            PcapWriter(fh).write(*next((r[0], r[2][r[3]:r[3] + r[4]])
                                       for r in CaptureReader(path)))
        shark = [tshark, "-n", "-r", str(path), "-T", "fields",
                 *[x for f in fields for x in ("-e", f)]]
        best = dict.fromkeys(("ronda", "netrules", "bare", "flows", "tshark", "engine",
                              "hook", "proto", "start_full", "start_netrules",
                              "start_tshark"), float("inf"))
        rss = dict.fromkeys(("ronda", "netrules", "bare", "flows"), 0)
        err = ""
        for i in range(args.repeat):
            for key, cmd in (("ronda", full), ("netrules", cmds["netrules"]),
                             ("bare", cmds["bare"]), ("flows", cmds["flows"])):
                took, rss_now, out = run_cmd(cmd)
                best[key] = min(best[key], took)
                rss[key] = max(rss[key], rss_now)
                if key == "ronda":
                    err = out
            for key, cmd in (("start_full", full), ("start_netrules", cmds["netrules"])):
                best[key] = min(best[key], run_cmd([*cmd[:4], f"pcap:{tiny}", *cmd[5:]])[0])
            best["start_tshark"] = min(best["start_tshark"], run_cmd(
                [*shark[:3], str(tiny), *shark[4:]])[0])
            best["tshark"] = min(best["tshark"], run_cmd(shark)[0])
            best["engine"] = min(best["engine"], in_process(path, []))
            best["hook"] = min(best["hook"], in_process(path, [NoopObserver()]))
            best["proto"] = min(best["proto"], in_process(
                path, make_observers(ALL), datasets if i == 0 else None))
        summary = parse_summary(err)
        jsonl = tmp / "alerts.jsonl"  # which rules fired: one more run, not timed
        run_cmd([*full[:-1], "jsonl"], jsonl)
        rules = alerts_by_rule(jsonl)
    rate = {k: n / v for k, v in best.items() if not k.startswith("start_")}
    # throughput once started: the one-packet run's time taken off
    steady = {k: n / max(1e-9, best[k] - best[s]) for k, s in (
        ("ronda", "start_full"), ("netrules", "start_netrules"), ("tshark", "start_tshark"))}
    rate["scapy"] = scapy_rate(path, min(args.scapy_slice, n))
    result = {
        "packets": n,
        "ronda_pps": round(rate["ronda"]),
        "ronda_netrules_pps": round(rate["netrules"]),
        "ronda_no_detectors_pps": round(rate["bare"]),
        "ronda_flows_only_pps": round(rate["flows"]),
        "startup_s": {"full": round(best["start_full"], 2),
                      "netrules": round(best["start_netrules"], 2),
                      "tshark": round(best["start_tshark"], 2)},
        "steady_pps": {k: round(v) for k, v in steady.items()},
        "netrules_ratio_vs_tshark": round(rate["netrules"] / rate["tshark"], 2),
        "ronda_engine_pps": round(rate["engine"]),
        "ronda_engine_hook_pps": round(rate["hook"]),
        "ronda_engine_protocols_pps": round(rate["proto"]),
        "tshark_pps": round(rate["tshark"]),
        "scapy_rdpcap_pps": round(rate["scapy"]),
        "ratio_vs_tshark": round(rate["ronda"] / rate["tshark"], 2),
        "ratio_vs_scapy": round(rate["ronda"] / rate["scapy"], 2),
        "ronda_peak_rss_mib": round(rss["ronda"] / 1024, 1),
        "ronda_no_detectors_peak_rss_mib": round(rss["bare"] / 1024, 1),
        "ronda_summary": summary["line"],
        "flows": summary["flows"],
        "undecodable": summary["undecodable"],
        "malformed": summary["malformed"],
        "alerts": summary["alerts"],
        "events_by_dataset": dict(datasets.most_common()),
        "alerts_by_rule": rules,
        "tshark_fields": fields,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    report(path, result, min(args.scapy_slice, n))
    return 0


def report(path: Path, r: dict[str, Any], scapy_n: int) -> None:
    def pps(key: str) -> str:
        return f"{r[key]:>10,} packets/s"

    print(f"capture: {path} ({r['packets']} packets, {path.stat().st_size / 2**20:.0f} MiB)")
    st, sp = r["startup_s"], r["steady_pps"]
    print("  whole commands (start-up included; then without it: the time of the same command"
          " on a one-packet capture taken off)")
    print(f"  ronda replay, every detector            {pps('ronda_pps')}   "
          f"peak RSS {r['ronda_peak_rss_mib']} MiB; start-up {st['full']} s, then "
          f"{sp['ronda']:,}/s")
    print(f"  ronda replay, parsers + netrules        {pps('ronda_netrules_pps')}   "
          f"start-up {st['netrules']} s, then {sp['netrules']:,}/s")
    print(f"  ronda replay, parsers, no detectors     {pps('ronda_no_detectors_pps')}   "
          f"peak RSS {r['ronda_no_detectors_peak_rss_mib']} MiB")
    print(f"  ronda replay, flows only                {pps('ronda_flows_only_pps')}")
    print(f"  ronda hot loop in process, flows only    {pps('ronda_engine_pps')}")
    print(f"  ... with a no-op hook                    {pps('ronda_engine_hook_pps')}")
    print(f"  ... with the protocol parsers            {pps('ronda_engine_protocols_pps')}")
    label = f"tshark -T fields ({len(r['tshark_fields'])} fields)"
    print(f"  {label:<41}{pps('tshark_pps')}   start-up {st['tshark']} s, then "
          f"{sp['tshark']:,}/s")
    label = f"scapy rdpcap (first {scapy_n})"
    print(f"  {label:<41}{pps('scapy_rdpcap_pps')}")
    ok = r["ronda_pps"] >= GOAL_PPS and r["ratio_vs_tshark"] >= GOAL_VS_TSHARK
    print(f"  parsers + netrules / tshark = {r['netrules_ratio_vs_tshark']}x")
    print(f"  every detector: ronda / tshark = {r['ratio_vs_tshark']}x   ronda / scapy = "
          f"{r['ratio_vs_scapy']}x   (goal: >= {GOAL_PPS:,} packets/s and >= "
          f"{GOAL_VS_TSHARK}x tshark: {'met' if ok else 'NOT met'})")
    print(f"  {r['ronda_summary']}")
    events = r["events_by_dataset"]
    print("  events by dataset (in process, same parsers): "
          + ", ".join(f"{k} {v:,}" for k, v in events.items()))
    rules = r["alerts_by_rule"]
    print(f"  alerts by rule ({sum(rules.values())}):")
    for name, count in rules.items():
        print(f"    {count:>5}  {name}")


if __name__ == "__main__":
    sys.exit(main())
