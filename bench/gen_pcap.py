"""A deterministic mixed capture for the packet benchmark (classic pcap, Ethernet).

    python bench/gen_pcap.py OUT.pcap [--packets 1500000] [--seed 7]

Many concurrent sessions interleaved in time: TCP (handshake, a request, a response of
several full-size segments with ACKs, FIN teardown), DNS over UDP (query and answer), and
ICMP echo (a few request/reply pairs). Frames are built as bytes (sensor.net.pcapwrite).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sensor.net.pcapwrite import (  # noqa: E402
    ACK,
    FIN,
    PSH,
    SYN,
    PcapWriter,
    ether,
    icmp,
    ipv4,
    tcp,
    udp,
)

Frame = tuple[float, bytes]


def _addr(rng: random.Random, net: int) -> bytes:
    return bytes((10, net, rng.randrange(256), rng.randrange(1, 255)))


def _tcp_session(rng: random.Random, t: float, body: bytes) -> Iterator[Frame]:
    c, s = _addr(rng, 1), _addr(rng, 2)
    cp, sp = rng.randrange(32768, 61000), rng.choice((80, 443, 8080, 22))
    cs, ss = rng.getrandbits(32), rng.getrandbits(32)
    rtt = rng.uniform(0.0005, 0.05)

    def c2s(flags: int, data: bytes = b"") -> bytes:
        return ether(ipv4(c, s, 6, tcp(cp, sp, flags, data, seq=cs, ack=ss)))

    def s2c(flags: int, data: bytes = b"") -> bytes:
        return ether(ipv4(s, c, 6, tcp(sp, cp, flags, data, seq=ss, ack=cs)),
                     src=b"\x02\x00\x00\x00\x00\x02", dst=b"\x02\x00\x00\x00\x00\x01")

    yield t, c2s(SYN)
    yield t + rtt, s2c(SYN | ACK)
    t += rtt * 2
    yield t, c2s(ACK)
    yield t, c2s(PSH | ACK, body[:rng.randrange(200, 600)])
    t += rtt
    for i in range(rng.randrange(2, 12)):
        yield t, s2c(ACK, body[:1400] if i else body[:rng.randrange(100, 1400)])
        t += 0.0001
        if i % 2:
            yield t, c2s(ACK)
    yield t, s2c(FIN | ACK)
    yield t + rtt, c2s(FIN | ACK)
    yield t + rtt * 2, s2c(ACK)


def _dns(rng: random.Random, t: float, body: bytes) -> Iterator[Frame]:
    c, s = _addr(rng, 1), bytes((10, 0, 0, 53))
    cp = rng.randrange(1024, 65535)
    yield t, ether(ipv4(c, s, 17, udp(cp, 53, body[:rng.randrange(30, 60)])))
    yield t + rng.uniform(0.001, 0.03), ether(ipv4(s, c, 17, udp(53, cp,
                                                              body[:rng.randrange(60, 300)])))


def _ping(rng: random.Random, t: float, body: bytes) -> Iterator[Frame]:
    c, s = _addr(rng, 1), _addr(rng, 3)
    ident = rng.randrange(65536)
    for seq in range(rng.randrange(1, 5)):
        yield t, ether(ipv4(c, s, 1, icmp(8, 0, body[:56], ident, seq)))
        yield t + 0.002, ether(ipv4(s, c, 1, icmp(0, 0, body[:56], ident, seq)))
        t += 1.0


def generate(path: Path, packets: int, seed: int = 7, start: float = 1_767_225_600.0) -> int:
    """Write at least ``packets`` packets (open sessions are finished); return the count."""
    rng = random.Random(seed)
    body = bytes(rng.getrandbits(8) for _ in range(1500))
    heap: list[tuple[float, int, bytes, Iterator[Frame]]] = []
    t = start
    n = written = 0
    with open(path, "wb") as fh:
        out = PcapWriter(fh)
        while heap or written < packets:
            if written < packets and (not heap or heap[0][0] >= t):
                kind = rng.random()
                maker = _tcp_session if kind < 0.55 else _dns if kind < 0.9 else _ping
                gen = maker(rng, t, body)
                ts, frame = next(gen)
                heapq.heappush(heap, (ts, n, frame, gen))
                n += 1
                t += rng.expovariate(1 / 0.0002)
                continue
            ts, i, frame, gen = heapq.heappop(heap)
            out.write(ts, frame)
            written += 1
            nxt = next(gen, None)
            if nxt is not None:
                heapq.heappush(heap, (nxt[0], i, nxt[1], gen))
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--packets", type=int, default=1_500_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    generate(args.out, args.packets, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
