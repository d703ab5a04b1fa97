"""DNS tunnelling: encoded names, unique-subdomain volume, allowlist, domain helpers."""

from __future__ import annotations

import base64
import random

from detectors.net.dns_tunnel import DnsTunnelConfig, DnsTunnelDetector
from detectors.net.domains import SuffixSet, registered_domain, shannon_entropy

from .helpers import T0, dns, make_ctx

PC = "10.0.5.23"


def detector(**kw: object) -> DnsTunnelDetector:
    cfg = DnsTunnelConfig.model_validate({"type": "dns_tunnel", **kw})
    det = DnsTunnelDetector("dns-tunnel", cfg, make_ctx())
    det.reload()
    return det


def tunnel_names(n: int, domain: str = "t.evil-c2.com", seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        data = base64.b32encode(rng.randbytes(30)).decode().rstrip("=").lower()
        out.append(f"{data}.{domain}")
    return out


def test_registered_domain_approximation() -> None:
    assert registered_domain("a.b.evil.example") == "evil.example"
    assert registered_domain("www.kominfo.go.id") == "kominfo.go.id"
    assert registered_domain("x.y.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("mail.jatimprov.go.id") == "jatimprov.go.id"
    assert registered_domain("evil.example") == "evil.example"
    assert registered_domain("a.b.co.com") == "co.com"  # a gTLD: two labels


def test_entropy_and_suffix_set() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert abs(shannon_entropy("abcd") - 2.0) < 1e-9
    s = SuffixSet(["evil.example", "*.bad.test."])
    assert s.match("a.evil.example") == "evil.example"
    assert s.match("evil.example") == "evil.example"
    assert s.match("notevil.example") is None
    assert s.match("x.y.bad.test") == "bad.test"


def test_encoded_queries_alert_per_client_and_domain() -> None:
    det = detector(encoded_threshold=5, unique_threshold=1000)
    events = [dns(T0 + i, PC, name, qtype="TXT") for i, name in enumerate(tunnel_names(8))]
    alerts = det.process(events)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.rule.id == "ronda-dns-tunnel-encoded" and a.rule.category == "dns-tunnel"
    assert a.key == f"{PC}|evil-c2.com" and a.techniques == ("T1071.004", "T1572")
    assert a.fields["dns.question.registered_domain"] == "evil-c2.com"
    assert " TXT " in a.evidence[0]


def test_unique_subdomain_volume() -> None:
    det = detector(unique_threshold=50)
    events = [dns(T0 + i, PC, f"x{i}.data.evil.example") for i in range(60)]  # short names
    alerts = det.process(events)
    assert [a.rule.id for a in alerts] == ["ronda-dns-tunnel-volume"]
    assert alerts[0].count == 50


def test_cdn_allowlisted_and_normal_browsing_quiet() -> None:
    det = detector(unique_threshold=50, extra_allow=["cdn-provider.net"])
    cdn = [dns(T0 + i, PC, name) for i, name in
           enumerate(tunnel_names(200, domain="edge.cdn-provider.net"))]
    akamai = [dns(T0 + i, PC, name) for i, name in
              enumerate(tunnel_names(200, domain="akamaiedge.net"))]
    reverse = [dns(T0 + i, PC, f"{i % 250}.{i // 250}.0.10.in-addr.arpa") for i in range(300)]
    browsing = [dns(T0 + i, PC, f"{host}.{site}") for i, (host, site) in enumerate(
        (h, s) for s in ("google.com", "kominfo.go.id", "detik.com", "jatimprov.go.id")
        for h in ("www", "mail", "api", "static", "cdn", "ssl", "login", "m"))]
    aws = [dns(T0 + i, PC, f"ec2-54-12-{i}-1.ap-southeast-1.compute.amazonaws.com")
           for i in range(10)]
    assert det.process(cdn + akamai + reverse + browsing + aws) == []


def test_window_expiry_and_eviction_bound() -> None:
    det = detector(unique_threshold=50, window="1m")
    events = [dns(T0 + i * 3, PC, f"x{i}.evil.example") for i in range(60)]  # 20 per minute
    assert det.process(events) == []
    det = detector(max_groups=10)
    det.process([dns(T0, f"10.0.0.{i}", f"a.d{i}.example") for i in range(100)])
    assert det.group_counts() == {"groups": 10}
    assert det.ctx.metrics.value("ronda_dropped_total", component="dns-tunnel",
                                 reason="group_evicted") == 90


def test_same_names_alert_without_the_allowlist() -> None:
    cdn = [dns(T0 + i, PC, name) for i, name in
           enumerate(tunnel_names(200, domain="edge.cdn-provider.net"))]
    assert detector(unique_threshold=50).process(cdn)


def test_retries_of_one_encoded_name_count_once() -> None:
    name = tunnel_names(1)[0]
    det = detector(encoded_threshold=3)
    assert det.process([dns(T0 + i, PC, name) for i in range(10)]) == []
    assert det.process([dns(T0 + 20 + i, PC, n) for i, n in enumerate(tunnel_names(3, seed=9))])
