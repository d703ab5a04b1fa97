"""Live capture loss at rising rates: tcpreplay into a veth pair, ``ronda run`` capturing.

    python bench/bench_live.py [--rates 10000,25000,50000,75000,100000,150000,200000]
                               [--seconds 10] [--json] [--tshark] [--flows-only]

Needs root, iproute2 and tcpreplay. Makes two network namespaces joined by a veth pair
(sensor.net.capture_netns: nothing on the host's own interfaces), writes a mixed capture
(bench/gen_pcap.py: TCP sessions with payload, DNS, ICMP echo; replayed in a loop),
starts ``ronda run`` with a ``capture`` source on A's end (protocol parsers on, the
default; ``--flows-only``: also with ``protocols: []``), pinned to CPU 1 with taskset when
there are two CPUs or more, and, for each rate, replays ``rate x seconds`` packets from B
with ``tcpreplay --pps=RATE --limit=N --preload-pcap`` (pinned to CPU 0). Per rate it
reports what tcpreplay sent ("Actual" and its achieved "Rated" pps), what Ronda received (its
``ronda_received_total``), the kernel's drops for the socket
(``ronda_capture_kernel_drops_total``), drops in the kernel's input backlog before any
socket (/proc/net/softnet_stat, read only) and the loss; then the highest rate with loss
under 0.1 %. ``--tshark``: the same rates with ``tshark -i`` (dumpcap) writing to
/dev/null as a peer, its loss from the counts it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from gen_pcap import generate  # noqa: E402

from sensor.net.capture_netns import VethPair, enter_netns, netns_problem  # noqa: E402
from sensor.net.pcapfile import CaptureReader  # noqa: E402

LOSS_OK = 0.001
RONDA = [sys.executable, "-m", "ronda.daemon.cli"]


FILE_PACKETS: dict[Path, int] = {}


def capture_file(packets: int) -> Path:
    cache = ROOT / ".cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"live-mixed-{packets}.pcap"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        generate(tmp, packets, 11)
        tmp.replace(path)
    FILE_PACKETS[path] = sum(1 for _ in CaptureReader(path))
    return path


def softnet_drops() -> int:
    """Packets dropped host-wide because a CPU's input backlog was full (column 2)."""
    with open("/proc/net/softnet_stat") as fh:
        return sum(int(line.split()[1], 16) for line in fh if line.strip())


def pin(cpu: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu)]
    return []


def in_ns(ns: str, fn: Any) -> Any:
    box: list[Any] = []

    def go() -> None:
        try:
            enter_netns(ns)
            box.append(fn())
        except BaseException as exc:
            box.append(exc)

    t = threading.Thread(target=go)
    t.start()
    t.join(30)
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


class Sensor:
    """``ronda run`` with one capture source, inside namespace A."""

    def __init__(self, net: VethPair, tmp: Path, port: int = 9617,
                 protocols: list[str] | None = None) -> None:
        self.ns, self.port = net.a, port
        cfg = tmp / "ronda.yaml"
        cfg.write_text(json.dumps({
            "sensor": {"name": "bench-live"}, "logging": {"level": "warning"},
            "metrics": {"listen": f"127.0.0.1:{port}"},
            "sources": {"lan": {"type": "capture", "interface": net.if_a,
                                "buffer_size": "64MiB",
                                **({} if protocols is None else {"protocols": protocols})}}}))
        self.log = open(tmp / "ronda.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            net.cmd(net.a, [*pin(1), *RONDA, "run", "-c", str(cfg), "--state-dir",
                            str(tmp / "state")]),
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self._up():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"ronda did not start: {(tmp / 'ronda.log').read_text()}")
            time.sleep(0.2)

    def _up(self) -> bool:
        try:
            self.metrics()
            return True
        except OSError:
            return False

    def metrics(self) -> dict[str, float]:
        def get() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                return str(r.read().decode())
        out: dict[str, float] = {}
        for line in in_ns(self.ns, get).splitlines():
            if 'component="lan"' in line and not line.startswith("#"):
                name = line.split("{", 1)[0]
                out[name] = out.get(name, 0.0) + float(line.rpartition(" ")[2])
        return out

    def settled(self, timeout: float = 20) -> dict[str, float]:
        """Counters once the sensor has read everything the kernel queued."""
        last: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(1.2)  # the source moves its counters once a second
            now = self.metrics()
            if now == last:
                return now
            last = now
        return last

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def replay(net: VethPair, path: Path, rate: int, count: int) -> tuple[int, float]:
    """Send ``count`` packets at ``rate`` pps from B (looping over the file as often as
    needed); (packets sent, achieved pps)."""
    loops = -(-count // FILE_PACKETS[path])
    r = net.run(net.b, [*pin(0), "tcpreplay", f"--intf1={net.if_b}", f"--pps={rate}",
                        f"--limit={count}", f"--loop={loops}", "--preload-pcap", str(path)],
                timeout=600)
    text = r.stdout + r.stderr
    sent = re.search(r"Actual:\s+(\d+) packets", text)
    rated = re.search(r"Rated:\s+[\d.]+ Bps,\s+[\d.]+ Mbps,\s+([\d.]+) pps", text)
    if sent is None or rated is None:
        raise SystemExit(f"cannot read tcpreplay's output:\n{text}")
    return int(sent.group(1)), float(rated.group(1))


def measure_ronda(net: VethPair, path: Path, rates: list[int], seconds: float,
                  tmp: Path, protocols: list[str] | None = None) -> list[dict[str, Any]]:
    sensor = Sensor(net, tmp, protocols=protocols)
    rows = []
    try:
        before = sensor.settled()
        for rate in rates:
            count = int(rate * seconds)
            backlog0 = softnet_drops()
            sent, achieved = replay(net, path, rate, count)
            after = sensor.settled()
            backlog = softnet_drops() - backlog0

            def delta(name: str, a: dict[str, float] = after,
                      b: dict[str, float] = before) -> int:
                return int(a.get(name, 0) - b.get(name, 0))

            got = delta("ronda_received_total")
            rows.append({
                "rate": rate, "sent": sent, "achieved_pps": round(achieved),
                "received": got, "kernel_drops": delta("ronda_capture_kernel_drops_total"),
                "backlog_drops": backlog,
                "loss_pct": round(100 * max(0, sent - got) / sent, 4) if sent else 0.0,
                "flows": delta("ronda_flows_total"),
            })
            before = after
    finally:
        sensor.stop()
    return rows


def measure_tshark(net: VethPair, path: Path, rates: list[int],
                   seconds: float) -> list[dict[str, Any]]:
    rows = []
    for rate in rates:
        count = int(rate * seconds)
        proc = net.popen(net.a, [*pin(1), "tshark", "-i", net.if_a, "-n", "-q", "-w",
                                 "/dev/null", "-B", "64"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(2)  # dumpcap opening the interface
        sent, achieved = replay(net, path, rate, count)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        text = err.decode(errors="replace")
        m = re.search(r"(\d+) packets? captured", text)
        got = int(m.group(1)) if m else 0
        rows.append({"rate": rate, "sent": sent, "achieved_pps": round(achieved),
                     "received": got,
                     "loss_pct": round(100 * max(0, sent - got) / sent, 4) if sent else 0.0})
    return rows


def best(rows: list[dict[str, Any]]) -> int:
    ok = [r["rate"] for r in rows if r["sent"] and r["loss_pct"] < 100 * LOSS_OK]
    return max(ok, default=0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="10000,25000,50000,75000,100000,150000,200000")
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="seconds of traffic per rate (longer than the 64 MiB ring can hide)")
    ap.add_argument("--packets", type=int, default=300_000,
                    help="packets in the capture (replayed in a loop as needed)")
    ap.add_argument("--json", action="store_true", help="print one JSON result line")
    ap.add_argument("--tshark", action="store_true", help="also measure tshark (dumpcap)")
    ap.add_argument("--flows-only", action="store_true",
                    help="also measure Ronda with protocols: [] (flows, no protocol parsers)")
    args = ap.parse_args()
    problem = netns_problem()
    if problem:
        raise SystemExit(f"bench_live: {problem}")
    if shutil.which("tcpreplay") is None:
        raise SystemExit("bench_live: tcpreplay not found: apt-get install tcpreplay")
    rates = [int(r) for r in args.rates.split(",")]
    path = capture_file(min(args.packets, max(1000, int(max(rates) * args.seconds))))
    result: dict[str, Any] = {"cpus": os.cpu_count(), "capture": str(path)}
    with tempfile.TemporaryDirectory(prefix="ronda-live-") as tmp, VethPair("b") as net:
        result["ronda"] = measure_ronda(net, path, rates, args.seconds, Path(tmp))
        result["ronda_best_pps"] = best(result["ronda"])
        if args.flows_only:
            result["ronda_flows_only"] = measure_ronda(net, path, rates, args.seconds,
                                                       Path(tmp), protocols=[])
            result["ronda_flows_only_best_pps"] = best(result["ronda_flows_only"])
        if args.tshark:
            result["tshark"] = measure_tshark(net, path, rates, args.seconds)
            result["tshark_best_pps"] = best(result["tshark"])
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"live capture over a veth pair, {result['cpus']} CPUs, {path.name}")
    for peer in ("ronda", "ronda_flows_only", "tshark"):
        if peer not in result:
            continue
        print(f"{peer}:")
        print("  rate pps  tcpreplay pps      sent  received  kernel drops  backlog drops"
              "    loss %")
        for r in result[peer]:
            print(f"  {r['rate']:>8,}  {r['achieved_pps']:>13,}  {r['sent']:>8,}  "
                  f"{r['received']:>8,}  {r.get('kernel_drops', '-'):>12}  "
                  f"{r.get('backlog_drops', '-'):>13}  {r['loss_pct']:>8.3f}")
        print(f"  highest rate with loss < {100 * LOSS_OK:g} %: "
              f"{result[peer + '_best_pps']:,} packets/s (requested)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
