"""Real Emerging Threats Open rules (tests/data/et_open, see its README) through the parser,
the engine and ``ronda rules validate``: every rule loads or is skipped for a named keyword,
and a handful of real rules fire on a matching event and stay quiet on a benign one."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from detectors.netrules.detector import load_rules, rule_files
from detectors.netrules.engine import Engine
from detectors.netrules.parser import Loaded
from detectors.netrules.rule import Rule
from detectors.netrules.vars import normalise_vars
from ronda.daemon.cli import main
from ronda.schema import Event
from tests.detectors.netrules.helpers import dns, flow, http, tls

ET_DIR = Path(__file__).resolve().parents[2] / "data" / "et_open"
LAN, WAN = "10.0.0.5", "198.51.100.1"

# Measured on the files as committed: 457 rules, 319 loaded (69.8 %), 138 skipped.
MIN_LOADED_SHARE = 0.65
SKIPPED = {"file_data": 55, "http_client_body": 12, "dsize": 12, "urilen": 8,
           "http.request_body": 8, "http_stat_code": 7, "itype": 6, "byte_test": 4,
           "pcre/P": 4, "tls.cert_subject": 4, "http.header_names": 4, "bsize": 4,
           "http_cookie": 3, "icode": 2, "protocol ftp": 2, "isdataat": 1, "protocol smb": 1,
           "flags": 1}


def _rule_lines() -> int:
    """Rules as a person counts them: the uncommented ``alert`` lines."""
    return sum(1 for p in rule_files([ET_DIR]) for line in p.read_text().splitlines()
               if line.startswith("alert "))


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    return load_rules([ET_DIR], normalise_vars({}))


@pytest.fixture(scope="module")
def engine(loaded: Loaded) -> Engine:
    return Engine(loaded.rules, 1000, 1000)


def test_every_rule_is_loaded_or_skipped_for_a_keyword(loaded: Loaded) -> None:
    files = rule_files([ET_DIR])
    assert len(files) == loaded.files >= 10
    assert len({p.name for p in files}) >= 5  # categories
    assert not loaded.problems, loaded.problems[:5]
    total = _rule_lines()
    skipped = sum(loaded.skipped.values())
    assert total >= 450
    assert len(loaded.rules) + skipped == total
    assert len(loaded.skips) == skipped
    assert len(loaded.rules) / total >= MIN_LOADED_SHARE
    assert all(len([r for r in loaded.rules if r.file == str(p)]) > 0 for p in files)


def test_skips_are_counted_by_keyword_and_listed_per_rule(loaded: Loaded) -> None:
    assert dict(loaded.skipped) == SKIPPED
    for line in loaded.skips:
        where, _, rest = line.partition(" ")
        assert where.split(":")[-1].isdigit() and rest.startswith("sid:"), line
        reason = rest.rsplit(": ", 1)[1]
        assert reason.split(" (")[0] in SKIPPED, line
    assert any(s.endswith("sid:2018455 ET TROJAN DNS Reply Sinkhole - Anubis - "
                          "195.22.26.192/26: byte_test") for s in loaded.skips)


def test_escapes_and_legacy_forms_parse_as_suricata_reads_them(loaded: Loaded) -> None:
    rules = _by_sid(loaded.rules)
    # raw content next to http_uri (2011, snort flavour) looks at the request start
    mixed = rules[2004023]
    assert list(mixed.buffers) == ["http.uri", "http.start"] and mixed.dataset == "http"
    # fast_pattern:only, a PCRE named group and back reference
    assert rules[2015926].buffers["http.uri"][0].fast_pattern  # type: ignore[union-attr]
    assert rules[2018457].buffers["payload"][1].regex.search(  # type: ignore[union-attr]
        b"..qwerty1 xx\x06\x03\x55\x04\x07..qwerty1")
    # "flow: from_server,established" (a space), flowbits:set with flowbits:noalert
    assert rules[2018463].noalert and rules[2018463].flowbits[0].names == (
        "ET.OneLouder.Header",)
    assert rules[2018449].flow == {"from_server", "established"}


CASES: list[tuple[int, Event, Event]] = [
    # dns.query endswith
    (2014169, dns("update.example.su"), dns("example.sub.example.com")),
    (2027758, dns("cdn.x.cc"), dns("x.cc.example.org")),
    # http.host endswith (outbound), http.user_agent startswith nocase
    (2036037, http("/", host="a.b.myz.info", src=LAN, dst=WAN),
     http("/", host="myz.info.example.org", src=LAN, dst=WAN)),
    (2013018, http("/", ua="htmlget 1.0", src=LAN, dst=WAN),
     http("/", ua="Mozilla/5.0 HTMLGET", src=LAN, dst=WAN)),
    # http.uri with depth (inbound)
    (2029207, http("/card_scan_decoder.php?No=30&door=`id`"),
     http("/x/card_scan_decoder.php?No=30")),
    # legacy content + http_uri + pcre /Ui (2011 snort flavour)
    (2007511, http("/vehiclelistings.asp?categoryID_list=1 UNION  SELECT pw FROM u"),
     http("/vehiclelistings.asp?categoryID_list=7")),
    # raw content mixed with http_uri: the raw one is found in the request start
    (2004023, http("/account_change.php?style=1 union select pw from users"),
     http("/account_change.php?style=blue")),
    # pcre with [^&\;] and [>\"] in the URI
    (2010547, http('/cgi-mod/index.cgi?backup_username=a"><script>'),
     http("/cgi-mod/index.cgi?backup_username=admin&x=1")),
    # tls.sni endswith (outbound)
    (2025535, tls("static.coin-hive.com"), tls("coin-hive.com.example.org")),
    # raw payload with depth/within/nocase and pcre /smi on an FTP flow
    (2008179, flow(b"PASS PRO-search Crawler\r\n", dport=21),
     flow(b"PASS hunter2\r\n", dport=21)),
    # raw payload with relative contents and a PCRE with named groups (Ruby YAML)
    (2016204, flow(b'POST /x HTTP/1.1\r\n\r\n<user type="yaml">--- !ruby/object:Gem</user>'),
     flow(b'POST /x HTTP/1.1\r\n\r\n<user type="yaml">hello</user>')),
]


@pytest.mark.parametrize(("sid", "bad", "benign"), CASES, ids=[str(c[0]) for c in CASES])
def test_real_rules_fire_on_a_match_only(engine: Engine, sid: int, bad: Event,
                                         benign: Event) -> None:
    assert sid in {h.rule.sid for h in engine.match(bad)}
    assert sid not in {h.rule.sid for h in engine.match(benign)}


def test_rules_validate_prints_skips_and_counts(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    body = {"sensor": {"name": "t"}, "state_dir": str(tmp_path / "state"), "sources": {},
            "detectors": {"netrules": {"type": "netrules", "rules": [str(ET_DIR)]}},
            "responders": {}}
    cfg = tmp_path / "ronda.yaml"
    cfg.write_text(json.dumps(body))
    assert main(["rules", "validate", "-c", str(cfg)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    out = captured.out.splitlines()
    skips = [line for line in out if line.startswith("SKIP ")]
    assert len(skips) == sum(SKIPPED.values())
    loaded = _rule_lines() - len(skips)
    counts = ", ".join(f"{n} {k}" for k, n in Counter(SKIPPED).most_common())
    assert out[-2] == (f"netrules: {loaded} rules loaded from {len(rule_files([ET_DIR]))} "
                       f"files, 0 broken, skipped {len(skips)} rules: {counts}")
    assert out[-1] == f"{loaded} rules valid in 1 detectors"


def _by_sid(rules: list[Rule]) -> dict[int, Rule]:
    out: dict[int, Rule] = {}
    for r in rules:
        out.setdefault(r.sid, r)
    return out
