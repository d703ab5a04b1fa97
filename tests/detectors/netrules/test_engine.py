"""The engine and detector: buffers, header matching, thresholds, flowbits, alerts."""

from __future__ import annotations

from pathlib import Path

from detectors.netrules.detector import NetRulesConfig, NetRulesDetector
from detectors.netrules.engine import Engine
from detectors.netrules.vars import to_ip
from ronda.schema import Event
from tests.detectors.net.helpers import make_ctx
from tests.detectors.netrules.helpers import CLIENT, SERVER, T0, dns, flow, http, load, tls


def _engine(text: str, **variables: str) -> Engine:
    loaded = load(text, variables)
    assert not loaded.problems and not loaded.skipped, (loaded.problems, loaded.skipped)
    return Engine(loaded.rules, 1000, 1000)


def _sids(engine: Engine, *events: Event) -> list[int]:
    out: list[int] = []
    for ev in events:
        out.extend(h.rule.sid for h in engine.match(ev))
    return out


PASSWD = ('alert http $EXTERNAL_NET any -> $HOME_NET any (msg:"ET WEB_SERVER /etc/passwd in URI"; '
          'flow:established,to_server; http.uri; content:"/etc/passwd"; nocase; sid:1;)\n')


def test_http_uri_and_header_direction() -> None:
    e = _engine(PASSWD)
    assert _sids(e, http("/a/../../ETC/PASSWD")) == [1]
    assert _sids(e, http("/index.html")) == []
    # from inside to outside: the header does not match
    assert _sids(e, http("/etc/passwd", src=SERVER, dst=CLIENT)) == []


def test_vars_override_home_net() -> None:
    e = _engine(PASSWD, HOME_NET="[192.0.2.0/24]")
    assert _sids(e, http("/etc/passwd")) == []
    assert _sids(e, http("/etc/passwd", dst="192.0.2.7")) == [1]


def test_bidirectional_and_ports() -> None:
    e = _engine('alert http 10.0.0.0/8 [80,8000:8100] <> 203.0.113.0/24 any (msg:"b"; '
                'http.method; content:"POST"; sid:2;)\n'
                'alert http any any -> any !80 (msg:"n"; http.method; content:"POST"; sid:3;)')
    assert _sids(e, http("/", method="POST")) == [2]
    assert _sids(e, http("/", method="POST", dport=8050)) == [2, 3]
    assert _sids(e, http("/", method="POST", dport=9000)) == [3]


def test_dns_dotprefix_and_tls_sni() -> None:
    e = _engine('alert dns any any -> any any (msg:"d"; dns.query; dotprefix; '
                'content:".duckdns.org"; nocase; endswith; sid:4;)\n'
                'alert tls any any -> any any (msg:"t"; tls.sni; content:"pastebin.com"; '
                'endswith; sid:5;)')
    assert _sids(e, dns("x.DuckDNS.org"), dns("duckdns.org"), dns("duckdns.org.evil")) == [4, 4]
    assert _sids(e, tls("pastebin.com"), tls("pastebin.com.evil"), dns("pastebin.com")) == [5]


def test_payload_rules_use_direction() -> None:
    e = _engine('alert tcp any any -> $HOME_NET 80 (msg:"s"; flow:established,to_server; '
                'content:"${jndi:"; nocase; sid:6;)\n'
                'alert tcp $HOME_NET 80 -> any any (msg:"c"; flow:to_client; '
                'content:"root:x:0:0"; sid:7;)')
    assert _sids(e, flow(b"GET /?x=${JNDI:ldap://x} HTTP/1.1\r\n")) == [6]
    assert _sids(e, flow(b"GET / HTTP/1.1", b"HTTP/1.1 200 OK\r\n\r\nroot:x:0:0:")) == [7]
    assert _sids(e, flow(b"root:x:0:0")) == []


def test_threshold_limit_threshold_both_and_detection_filter() -> None:
    def run(opt: str, n: int) -> list[int]:
        e = _engine('alert http any any -> any any (msg:"t"; http.uri; content:"/x"; '
                    f'{opt}; sid:8;)')
        return [i for i in range(n) if _sids(e, http("/x", ts=T0 + i))]
    assert run("threshold:type limit, track by_src, count 2, seconds 60", 5) == [0, 1]
    assert run("threshold:type threshold, track by_src, count 2, seconds 60", 5) == [1, 3]
    assert run("threshold:type both, track by_src, count 3, seconds 60", 6) == [2]
    assert run("detection_filter:track by_src, count 3, seconds 60", 5) == [3, 4]
    # a new window starts over
    assert run("threshold:type limit, track by_dst, count 1, seconds 2", 5) == [0, 2, 4]


def test_flowbits_set_then_isset_per_flow() -> None:
    e = _engine('alert http any any -> any any (msg:"check"; flowbits:isset,seen; '
                'http.uri; content:"/stage2"; sid:10;)\n'
                'alert http any any -> any any (msg:"set"; http.uri; content:"/gate"; '
                'flowbits:set,seen; flowbits:noalert; sid:9;)\n'
                'alert http any any -> any any (msg:"not"; flowbits:isnotset,seen; '
                'http.uri; content:"/stage2"; sid:11;)')
    assert _sids(e, http("/stage2", cid="f1")) == [11]
    assert _sids(e, http("/gate", cid="f1")) == []
    assert _sids(e, http("/stage2", cid="f1")) == [10]
    assert _sids(e, http("/stage2", cid="f2")) == [11]
    # set and check in the same event: setters run first
    assert _sids(e, http("/gate/stage2", cid="f3")) == [10]


def test_flowbits_table_is_bounded() -> None:
    loaded = load('alert http any any -> any any (msg:"s"; http.uri; content:"/g"; '
                  'flowbits:set,b; flowbits:noalert; sid:1;)')
    e = Engine(loaded.rules, 10, 10)
    for i in range(50):
        e.match(http("/g", cid=f"f{i}"))
    assert len(e.flowbits.table) == 10 and e.flowbits.take_evicted() == 40


def test_detector_alerts(tmp_path: Path) -> None:
    rules = tmp_path / "emerging-web_server.rules"
    rules.write_text(PASSWD.replace("sid:1;", "classtype:web-application-attack; sid:2009151; "
                                               "rev:3; reference:url,example.com/x;")
                     + 'alert http any any -> any any (msg:"x"; lua:a.lua; sid:5;)\n'
                     + 'alert http any any -> any any (msg:"x"; content:"|zz|"; sid:6;)\n')
    ctx = make_ctx(tmp_path)
    cfg = NetRulesConfig(type="netrules", rules=[str(rules)])
    det = NetRulesDetector("netrules", cfg, ctx)
    assert det.reload() == 1
    assert det.skipped_by_keyword() == {"lua": 1}
    assert len(det.problems()) == 1 and ":3: " in det.problems()[0]
    assert det.skipped_summary() == "skipped 1 rules: 1 lua"
    lines = det.validation_lines()
    assert lines[-1] == ("netrules: 1 rules loaded from 1 files, 1 broken, "
                         "skipped 1 rules: 1 lua")
    assert lines[-2] == f"SKIP {rules}:2 sid:5 x: lua"
    assert det.skips() == [f"{rules}:2 sid:5 x: lua"]
    alerts = det.process([http("/../etc/passwd"), http("/ok")])
    assert len(alerts) == 1
    a = alerts[0]
    assert a.rule.id == "sid:2009151" and a.rule.ruleset == "emerging-web_server"
    assert a.rule.category == "path-traversal" and a.severity.value == "high"
    assert a.key == CLIENT and a.fields["ronda.netrules.rev"] == 3
    assert a.fields["destination.ip"] == SERVER
    assert a.evidence[0].startswith("http.uri: /../etc/passwd")
    assert a.rule.references == ("http://example.com/x",)
    [ref] = [r for r, _ in det.rule_info()]
    assert ref.id == "sid:2009151"
    a.to_ecs()


def test_http_header_buffer_from_sensor_block_or_rebuilt() -> None:
    e = _engine('alert http any any -> any any (msg:"h"; http.header; '
                'content:"X-Api-Version|3a 20|${jndi"; nocase; sid:20;)\n'
                'alert http any any -> any any (msg:"ua"; http.header; '
                'content:"User-Agent|3a 20|curl/8.0|0d 0a|"; sid:21;)')
    ev = http("/")
    assert _sids(e, ev) == [21]
    ev.fields["ronda.http.request_headers"] = "Host: a\r\nX-Api-Version: ${jndi:ldap://x}"
    assert _sids(e, ev) == [20]


def test_address_lists_hosts_nets_and_negation() -> None:
    from detectors.netrules.vars import Parser, matches, normalise_vars, to_ip

    p = Parser(normalise_vars({"BAD": ["198.51.100.7", "203.0.113.0/24"]}))
    bad = p.address("$BAD")
    assert matches(bad, to_ip("198.51.100.7")) and matches(bad, to_ip("203.0.113.200"))
    assert not matches(bad, to_ip("198.51.100.8"))
    ext = p.address("$EXTERNAL_NET")
    assert matches(ext, to_ip("8.8.8.8")) and not matches(ext, to_ip("192.168.1.1"))
    all_but = p.address("[any,!10.0.0.1]")
    assert matches(all_but, to_ip("10.0.0.2")) and not matches(all_but, to_ip("10.0.0.1"))
    v6 = p.address("[2001:db8::/32]")
    assert matches(v6, to_ip("2001:db8::1")) and not matches(v6, to_ip("10.0.0.1"))
    ports = p.port("[1024:,!8080,:22]")
    assert [matches(ports, n) for n in (22, 23, 1024, 8080, 65535)] == [
        True, False, True, False, True]
    assert matches(p.port("$HTTP_PORTS"), 80) and not matches(p.port("$SHELLCODE_PORTS"), 80)


def test_reputation_list_rules_on_flows() -> None:
    e = _engine('alert ip [198.51.100.7,198.51.100.9] any -> $HOME_NET any (msg:"rep"; '
                'threshold:type limit, track by_src, count 1, seconds 3600; sid:30;)\n'
                'alert ip $HOME_NET any -> [192.0.2.66] any (msg:"out"; sid:31;)\n'
                'alert tcp any any -> any 80 (msg:"all web flows"; sid:32;)')
    group = e.groups["network.flow"]
    assert [group.rules[i].sid for i in group.by_host[to_ip("198.51.100.7")]] == [30]
    assert _sids(e, flow(b"x")) == [32]
    assert _sids(e, flow(b"x", src="198.51.100.7")) == [30, 32]
    assert _sids(e, flow(b"x", src="198.51.100.7")) == [32]  # limit 1 per hour
    assert _sids(e, flow(b"x", src="10.0.0.5", dst="192.0.2.66", dport=443)) == [31]
