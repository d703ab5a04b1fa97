"""A deterministic capture of an office network segment (classic pcap, Ethernet).

    python bench/gen_pcap.py OUT.pcap [--packets 1500000] [--seed 7]

Many concurrent sessions interleaved in time, each a TCP connection with real protocol
bytes by port (handshake, a request, a response whose full-size segments dominate the
packet count, client ACKs, FIN teardown; sequence numbers tracked), DNS over UDP or ICMP
echo:
- HTTP/1.1 on 80: the internet to the regency's web servers (10.2.0.10-13); on 8080: office
  PCs to intranet apps. Real request and response heads (Content-Length = the body sent);
  about 1.5 % of the requests on 80 come from a few attacking addresses (SQL injection,
  path traversal, sqlmap, Nikto, .env probes, a webshell, Log4Shell in the User-Agent);
- TLS on 443: office PCs (10.1.0.0/19) to sites outside; a ClientHello with SNI and ALPN
  (Chrome, Firefox, legacy TLS 1.2 profiles), a ServerHello (TLS 1.3, or a resumed
  TLS 1.2 session), then application-data records of full-size segments;
- SSH on 22: admins to the servers (banners, KEXINIT, ECDH, NEWKEYS, encrypted bulk); 2 %
  are short login attempts from two brute-forcing addresses outside;
- DNS over UDP to the resolver 10.0.0.53: A/AAAA/TXT queries and answers, some NXDOMAIN,
  and a dynamic-DNS name one infected PC looks up now and then;
- ICMP echo: a few request/reply pairs.
Frames are built as bytes (sensor.net.pcapwrite), payloads from templates built once
(bench/pcap_protocols.py).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import pcap_protocols as P  # noqa: E402

from sensor.net.pcapwrite import (  # noqa: E402
    ACK,
    FIN,
    MAC_A,
    MAC_B,
    PSH,
    SYN,
    PcapWriter,
    ether,
    ipv4,
    tcp,
    udp,
)

Frame = tuple[float, bytes]
MSS = 1400
ATTACK_SHARE = 0.015  # of the HTTP requests to the web servers
SSH_ATTACK_SHARE = 0.02
WEB_SERVERS = [bytes((10, 2, 0, 10 + i)) for i in range(4)]
APP_SERVERS = [bytes((10, 2, 1, 20 + i)) for i in range(2)]
SSH_SERVERS = [bytes((10, 2, 0, 2 + i)) for i in range(8)]
RESOLVER = bytes((10, 0, 0, 53))
INFECTED = bytes((10, 1, 9, 77))
PUBLIC_PREFIXES = ((36, 64), (36, 80), (114, 120), (114, 124), (180, 241), (180, 252),
                   (103, 147), (182, 252), (125, 160), (110, 136))


def _ip(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


ATTACKERS = [_ip(a) for a in P.ATTACKERS]
SSH_ATTACKERS = [_ip(a) for a in P.SSH_ATTACKERS]


class World:
    """The templates and address pools, built once per capture."""

    def __init__(self, rng: random.Random) -> None:
        self.sites: list[tuple[bytes, bytes, tuple[bytes, ...]]] = []  # ip, alpn, hellos
        names = [n for n in P.DNS_NAMES if "sukamajukab" not in n] + ["pastebin.com"]
        for i, name in enumerate(names):
            ip = bytes((104 + i % 8, 16 + i, rng.randrange(256), rng.randrange(1, 255)))
            alpn = (b"h2", b"http/1.1") if i % 5 else (b"http/1.1",)
            self.sites.append((ip, alpn[0], tuple(P.client_hello(p, name, alpn)
                                                  for p in ("chrome", "firefox", "legacy"))))
        # popularity: Zipf-like, so a few sites carry most sessions; pastebin (last) is rare
        self.site_weights = [1 / (1 + i) for i in range(len(self.sites) - 1)] + [0.002]
        self.server_hellos = {(v13, alpn): P.server_hello(v13, alpn)
                              for v13 in (True, False) for alpn in (b"h2", b"http/1.1", b"")}
        self.noise = rng.randbytes(1 << 16)  # encrypted bytes, images
        self.html = P.HTML * (1 + (1 << 16) // len(P.HTML))

    def site(self, rng: random.Random) -> tuple[bytes, bytes, tuple[bytes, ...]]:
        return rng.choices(self.sites, self.site_weights)[0]

    def blob(self, rng: random.Random, n: int, text: bool = False) -> bytes:
        src = self.html if text else self.noise
        at = rng.randrange(len(src) - n) if len(src) > n else 0
        return src[at:at + n]


def _office(rng: random.Random) -> bytes:
    return bytes((10, 1, rng.randrange(32), rng.randrange(1, 255)))


def _public(rng: random.Random) -> bytes:
    a, b = PUBLIC_PREFIXES[rng.randrange(len(PUBLIC_PREFIXES))]
    return bytes((a, b + rng.randrange(4), rng.randrange(256), rng.randrange(1, 255)))


class Conn:
    """One TCP connection's two directions, with their sequence numbers."""

    __slots__ = ("ack", "c", "cp", "cs", "s", "sp", "ss")

    def __init__(self, rng: random.Random, c: bytes, s: bytes, sp: int) -> None:
        self.c, self.s, self.sp = c, s, sp
        self.cp = rng.randrange(32768, 61000)
        self.cs, self.ss = rng.getrandbits(32), rng.getrandbits(32)

    def c2s(self, flags: int, data: bytes = b"") -> bytes:
        seq = self.cs
        self.cs = (seq + len(data) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        return ether(ipv4(self.c, self.s, 6, tcp(self.cp, self.sp, flags, data, seq=seq,
                                                 ack=self.ss if flags & ACK else 0)))

    def s2c(self, flags: int, data: bytes = b"") -> bytes:
        seq = self.ss
        self.ss = (seq + len(data) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        return ether(ipv4(self.s, self.c, 6, tcp(self.sp, self.cp, flags, data, seq=seq,
                                                 ack=self.cs)), src=MAC_B, dst=MAC_A)


def _tcp_session(rng: random.Random, t: float, w: World) -> Iterator[Frame]:
    """Handshake, the protocol's opening, ``k`` server segments (the bulk, client ACKs on
    every second one), FIN teardown."""
    sp = rng.choice((80, 443, 8080, 22))
    attack = False
    if sp == 80:
        attack = rng.random() < ATTACK_SHARE
        client = ATTACKERS[rng.randrange(len(ATTACKERS))] if attack else _public(rng)
        server = WEB_SERVERS[rng.randrange(len(WEB_SERVERS))]
    elif sp == 8080:
        client, server = _office(rng), APP_SERVERS[rng.randrange(len(APP_SERVERS))]
    elif sp == 443:
        site = w.site(rng)
        client, server = _office(rng), site[0]
    else:
        attack = rng.random() < SSH_ATTACK_SHARE
        client = SSH_ATTACKERS[rng.randrange(2)] if attack else _office(rng)
        server = SSH_SERVERS[rng.randrange(len(SSH_SERVERS))]
    cn = Conn(rng, client, server, sp)
    rtt = rng.uniform(0.0005, 0.05)
    yield t, cn.c2s(SYN)
    yield t + rtt, cn.s2c(SYN | ACK)
    t += rtt * 2
    yield t, cn.c2s(ACK)
    k = rng.randrange(2, 12)
    if sp in (80, 8080):
        req = P.http_request(rng, P.INTRANET[rng.randrange(2)] if sp == 8080
                             else P.GOV_SITES[rng.randrange(len(P.GOV_SITES))], attack,
                             sp == 8080)
        yield t, cn.c2s(PSH | ACK, req)
        t += rtt
        target = req.split(b" ", 2)[1]
        ctype = P.content_type(target)
        status = rng.choice((404, 404, 403, 200, 500)) if attack else \
            200 if rng.random() < 0.97 else rng.choice((302, 404))
        if attack or status != 200:
            k = 1
        text = ctype.startswith(("text", "application/j"))
        if k == 1:
            first_body = blen = rng.randrange(150, 600)
        else:
            first_body = max(0, rng.randrange(300, MSS + 1) - 200)
            blen = first_body + MSS * (k - 1)
        head = P.http_response_head(status, ctype, blen, t)
        body = w.blob(rng, blen, text)
        segs = [head + body[:first_body]] + [body[first_body + MSS * i:][:MSS]
                                             for i in range(k - 1)]
        yield from _bulk(rng, t, cn, segs)
    elif sp == 443:
        _, alpn, hellos = site
        p = rng.randrange(4)
        hello = P.tls_hello(hellos[min(p, 2)], rng)  # chrome (twice as common), firefox, legacy
        v13 = p < 3
        yield t, cn.c2s(PSH | ACK, hello)
        t += rtt
        sh = P.tls_hello(w.server_hellos[(v13, alpn)], rng)
        sh = sh[:44] + hello[44:76] + sh[76:]  # echo the session id
        if v13:
            first = sh + P.CCS + P.tls_record(0x17, w.blob(rng, MSS - len(sh) - 11))
        else:  # resumed: ChangeCipherSpec and the encrypted Finished
            first = sh + P.CCS + P.tls_record(0x16, w.blob(rng, 40))
        fin = P.CCS + (P.tls_record(0x17, w.blob(rng, 53)) if v13 else
                       P.tls_record(0x16, w.blob(rng, 40)))  # the client's Finished
        request = P.tls_record(0x17, w.blob(rng, rng.randrange(80, 600)))
        segs = [first] + [P.tls_record(0x17, w.blob(rng, MSS - 5)) for _ in range(k - 1)]
        yield from _bulk(rng, t, cn, segs, (1, fin + request))
    else:
        yield t, cn.c2s(PSH | ACK, P.SSH_BOT if attack else
                        P.SSH_CLIENTS[rng.randrange(len(P.SSH_CLIENTS))])
        t += rtt
        yield t, cn.s2c(PSH | ACK, P.SSH_SERVERS[rng.randrange(len(P.SSH_SERVERS))])
        t += rtt
        yield t, cn.c2s(PSH | ACK, P.SSH_KEXINIT[0])
        yield t + 0.0001, cn.s2c(PSH | ACK, P.SSH_KEXINIT[1])
        t += rtt
        yield t, cn.c2s(PSH | ACK, P.SSH_ECDH_INIT)
        t += rtt
        yield t, cn.s2c(PSH | ACK, P.SSH_ECDH_REPLY)
        t += rtt
        if attack:  # a password or two refused, then the server hangs up
            yield t, cn.c2s(PSH | ACK, P.SSH_NEWKEYS + w.blob(rng, 68))
            segs = [w.blob(rng, 52)]
            k = 1
        else:
            yield t, cn.c2s(PSH | ACK, P.SSH_NEWKEYS + w.blob(rng, rng.randrange(60, 400)))
            segs = [w.blob(rng, rng.randrange(100, MSS))] + [w.blob(rng, MSS)
                                                              for _ in range(k - 1)]
        t += rtt
        yield from _bulk(rng, t, cn, segs)


def _bulk(rng: random.Random, t: float, cn: Conn, segs: list[bytes],
          client: tuple[int, bytes] | None = None) -> Iterator[Frame]:
    """The server's segments (client ACKs every second one, ``client``: (after segment i,
    data) the client sends once), then the FIN teardown."""
    rtt = 0.001
    for i, seg in enumerate(segs):
        yield t, cn.s2c(ACK if i + 1 < len(segs) else PSH | ACK, seg)
        t += 0.0001
        if client is not None and i + 1 == client[0]:
            yield t, cn.c2s(PSH | ACK, client[1])
            t += rtt
        elif i % 2:
            yield t, cn.c2s(ACK)
    yield t, cn.s2c(FIN | ACK)
    yield t + rtt, cn.c2s(FIN | ACK)
    yield t + rtt * 2, cn.s2c(ACK)


def _dns(rng: random.Random, t: float, w: World) -> Iterator[Frame]:
    c, cp, ident = _office(rng), rng.randrange(1024, 65535), rng.randrange(65536)
    r = rng.random()
    if 0.05 <= r < 0.0505:
        c = INFECTED  # its malware looks up a dynamic-DNS name now and then
    qtype = P.A
    nx = False
    if r < 0.03:
        name, nx = P.NXDOMAIN_NAMES[rng.randrange(len(P.NXDOMAIN_NAMES))], True
    elif r < 0.05:
        name, qtype = P.TXT_NAMES[rng.randrange(len(P.TXT_NAMES))], P.TXT
    elif r < 0.0505:
        name = P.SUSPICIOUS_NAMES[0]
    else:
        name = P.DNS_NAMES[rng.randrange(len(P.DNS_NAMES))]
        qtype = P.AAAA if r < 0.3 else P.A
    yield t, ether(ipv4(c, RESOLVER, 17, udp(cp, 53, P.dns_query(ident, name, qtype))))
    answer = P.dns_answer(ident, name, qtype, rng, nx)
    yield t + rng.uniform(0.001, 0.03), ether(ipv4(RESOLVER, c, 17, udp(53, cp, answer)),
                                              src=MAC_B, dst=MAC_A)


def _ping(rng: random.Random, t: float, w: World) -> Iterator[Frame]:
    c, s = _office(rng), SSH_SERVERS[rng.randrange(len(SSH_SERVERS))] if rng.random() < 0.5 \
        else bytes((10, 3, rng.randrange(256), rng.randrange(1, 255)))
    ident = rng.randrange(65536)
    for seq in range(rng.randrange(1, 5)):
        yield t, ether(ipv4(c, s, 1, P.icmp_echo(8, ident, seq)))
        yield t + 0.002, ether(ipv4(s, c, 1, P.icmp_echo(0, ident, seq)),
                               src=MAC_B, dst=MAC_A)
        t += 1.0


def generate(path: Path, packets: int, seed: int = 7, start: float = 1_767_225_600.0) -> int:
    """Write at least ``packets`` packets (open sessions are finished); return the count."""
    rng = random.Random(seed)
    world = World(rng)
    heap: list[tuple[float, int, bytes, Iterator[Frame]]] = []
    t = start
    n = written = 0
    with open(path, "wb") as fh:
        out = PcapWriter(fh)
        while heap or written < packets:
            if written < packets and (not heap or heap[0][0] >= t):
                kind = rng.random()
                maker = _tcp_session if kind < 0.55 else _dns if kind < 0.9 else _ping
                gen = maker(rng, t, world)
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
