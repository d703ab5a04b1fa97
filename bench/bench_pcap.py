"""Packets/s for pcap -> flows: Ronda vs tshark (fields output) vs scapy's rdpcap.

    python bench/bench_pcap.py [--packets 1500000] [--repeat 3] [--scapy-slice 100000]
    python bench/bench_pcap.py --flood 1000000 [--max-flows 200000]

One deterministic capture (bench/gen_pcap.py: TCP sessions with payload, DNS over UDP,
ICMP echo), cached under .cache/bench/. Measured on the same file, in the same run:
- Ronda: ``ronda replay pcap:FILE --no-store --output none`` (the whole command, process
  start included: read, decode, flow table, network.flow events through the pipeline);
- Ronda's hot loop in this process (reader, decoder, flow table, events), without and with
  a no-op observer on the protocol hook (rules do not exist yet);
- tshark: ``tshark -r FILE -T fields -e frame.time_epoch -e ip.src ... -e frame.len``;
- scapy: ``rdpcap`` of the first ``--scapy-slice`` packets, scaled to packets/s.
The best of ``--repeat`` runs is taken (runs alternate so machine noise hits all). Prints
packets/s and the ratios, and the peak RSS of the Ronda command.

``--flood N``: instead, N TCP SYNs from N distinct (spoofed) source addresses through the
decoder and a flow table of ``--max-flows``; prints the table's peak size, the evictions
and this process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from gen_pcap import generate  # noqa: E402

from ronda.schema import Event  # noqa: E402
from sensor.net.engine import PacketEngine  # noqa: E402
from sensor.net.flowrecord import Flow  # noqa: E402
from sensor.net.flows import FlowTable  # noqa: E402
from sensor.net.hooks import EmitEvent, FlowObserver, Packet  # noqa: E402
from sensor.net.pcapfile import CaptureReader  # noqa: E402

TSHARK_FIELDS = ("frame.time_epoch", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
                 "udp.srcport", "udp.dstport", "frame.len")


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
    path = cache / f"mixed-{packets}-{seed}.pcap"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        generate(tmp, packets, seed)
        tmp.replace(path)
    return path


def count_packets(path: Path) -> int:
    return sum(1 for _ in CaptureReader(path))


def run_cmd(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stderr of a command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return took, usage.ru_maxrss, err


def in_process(path: Path, observers: list[FlowObserver]) -> float:
    events: list[Event] = []
    table = FlowTable(events.append, observers=observers)
    engine = PacketEngine(table)

    def tick(ts: float) -> bool:
        events.clear()
        return True

    t0 = time.perf_counter()
    engine.run(CaptureReader(path), tick)
    table.flush()
    return time.perf_counter() - t0


def scapy_rate(path: Path, limit: int) -> float:
    from scapy.all import rdpcap  # all layers, so rdpcap dissects Ethernet/IP/TCP/UDP

    from sensor.net.pcapwrite import PcapWriter

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
    with tempfile.TemporaryDirectory(prefix="ronda-bench-") as tmp:
        cfg = Path(tmp) / "ronda.yaml"
        cfg.write_text(json.dumps({"sensor": {"name": "bench"}, "state_dir": tmp,
                                   "logging": {"level": "warning"}}))
        ronda = [sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg),
                 f"pcap:{path}", "--no-store", "--output", "none"]
        fields = [x for f in TSHARK_FIELDS for x in ("-e", f)]
        shark = [tshark, "-n", "-r", str(path), "-T", "fields", *fields]
        best = {"ronda": float("inf"), "tshark": float("inf"), "engine": float("inf"),
                "hook": float("inf")}
        rss = 0
        summary = ""
        for _ in range(args.repeat):
            took, rss_now, err = run_cmd(ronda)
            best["ronda"] = min(best["ronda"], took)
            rss = max(rss, rss_now)
            summary = next((ln for ln in err.splitlines() if ln.startswith("replayed")), "")
            best["tshark"] = min(best["tshark"], run_cmd(shark)[0])
            best["engine"] = min(best["engine"], in_process(path, []))
            noop = NoopObserver()
            best["hook"] = min(best["hook"], in_process(path, [noop]))
    rate = {k: n / v for k, v in best.items()}
    rate["scapy"] = scapy_rate(path, min(args.scapy_slice, n))
    result = {
        "packets": n,
        "ronda_pps": round(rate["ronda"]),
        "ronda_engine_pps": round(rate["engine"]),
        "ronda_engine_hook_pps": round(rate["hook"]),
        "tshark_pps": round(rate["tshark"]),
        "scapy_rdpcap_pps": round(rate["scapy"]),
        "ratio_vs_tshark": round(rate["ronda"] / rate["tshark"], 2),
        "ratio_vs_scapy": round(rate["ronda"] / rate["scapy"], 2),
        "ronda_peak_rss_mib": round(rss / 1024, 1),
        "ronda_summary": summary,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"capture: {path} ({n} packets, {path.stat().st_size / 2**20:.0f} MiB)")
    print(f"  ronda replay (whole command)  {result['ronda_pps']:>10,} packets/s   "
          f"peak RSS {result['ronda_peak_rss_mib']} MiB")
    print(f"  ronda hot loop, in process    {result['ronda_engine_pps']:>10,} packets/s")
    print(f"  ... with a no-op hook         {result['ronda_engine_hook_pps']:>10,} packets/s")
    print(f"  tshark -T fields              {result['tshark_pps']:>10,} packets/s")
    print(f"  scapy rdpcap (first {min(args.scapy_slice, n)})  "
          f"{result['scapy_rdpcap_pps']:>10,} packets/s")
    print(f"  ronda / tshark = {result['ratio_vs_tshark']}x   "
          f"ronda / scapy = {result['ratio_vs_scapy']}x")
    print(f"  {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
