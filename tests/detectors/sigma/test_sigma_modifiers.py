"""Value matching: wildcards, escapes, case, null/exists, keywords and every modifier."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.detectors.sigma.sigma_support import event, matcher, skip_reason, web


def test_plain_value_is_whole_value_case_insensitive(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {cs-method: post}\ncondition: sel")
    assert m(web(method="POST"))
    assert m(web(method="post"))
    assert not m(web(method="POSTX"))
    assert not m(web(method="GET"))


def test_wildcards_star_and_question_mark(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {c-uri: '/admin/*.php'}\ncondition: sel")
    assert m(web("/admin/x.php"))
    assert m(web("/ADMIN/a/b/c.PHP"))
    assert not m(web("/admin/x.php5"))
    m = matcher(tmp_path, "sel: {c-uri: '/a?c'}\ncondition: sel")
    assert m(web("/abc")) and m(web("/aXc"))
    assert not m(web("/ac")) and not m(web("/abbc"))
    m = matcher(tmp_path, "sel: {c-uri: '*a*b*c*'}\ncondition: sel")
    assert m(web("/xaybzc")) and not m(web("/cba"))
    m = matcher(tmp_path, "sel: {c-uri: 'a*b*a'}\ncondition: sel")
    assert m(web("aba")) and m(web("abba")) and not m(web("ab"))


def test_star_alone_means_any_value(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {cs-referer: '*'}\ncondition: sel")
    assert m(web(http__request__referrer=""))
    assert m(web(http__request__referrer="http://x/"))
    assert not m(web())


def test_escaped_wildcards_are_literal(tmp_path: Path) -> None:
    m = matcher(tmp_path, r"sel: {c-uri|contains: 'a\*b\?c'}" + "\ncondition: sel")
    assert m(web("/a*b?c"))
    assert not m(web("/aXbYc"))
    m = matcher(tmp_path, r"sel: {c-uri: 'C:\\Windows\\*'}" + "\ncondition: sel")
    assert m(web(r"C:\Windows\system32"))
    m = matcher(tmp_path, r"sel: {c-uri: 'C:\Windows'}" + "\ncondition: sel")
    assert m(web("C:\\Windows"))  # a backslash before a normal character stays


def test_contains_startswith_endswith(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {c-uri|contains: union select}\ncondition: sel")
    assert m(web("/?q=1 UNION SELECT 2"))
    assert not m(web("/?q=union+select"))
    m = matcher(tmp_path, "sel: {c-uri|startswith: /wp-}\ncondition: sel")
    assert m(web("/wp-login.php")) and not m(web("/x/wp-login.php"))
    m = matcher(tmp_path, "sel: {c-uri|endswith: .env}\ncondition: sel")
    assert m(web("/.ENV")) and not m(web("/.env.bak"))


def test_lists_are_or_and_all_makes_them_and(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {c-uri|contains: [foo, bar]}\ncondition: sel")
    assert m(web("/foo")) and m(web("/bar")) and not m(web("/baz"))
    m = matcher(tmp_path, "sel: {c-uri|contains|all: [foo, bar]}\ncondition: sel")
    assert m(web("/foo/bar")) and not m(web("/foo"))
    many = "[alpha, beta, gamma, delta, epsilon, zeta]"
    m = matcher(tmp_path, f"sel: {{c-uri|contains: {many}}}\ncondition: sel")
    assert m(web("/x/ZETA")) and not m(web("/x/eta"))


def test_cased_is_case_sensitive(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {cs-user-agent|cased: Nikto}\ncondition: sel")
    assert m(web(ua="Nikto")) and not m(web(ua="nikto"))
    m = matcher(tmp_path, "sel: {cs-user-agent|contains|cased: Nikto}\ncondition: sel")
    assert m(web(ua="Mozilla Nikto/2")) and not m(web(ua="mozilla nikto/2"))


def test_regex_with_flags(tmp_path: Path) -> None:
    m = matcher(tmp_path, r"sel: {c-uri|re: 'id=\d+ OR'}" + "\ncondition: sel")
    assert m(web("/a?id=1 OR 1=1"))
    assert not m(web("/a?id=1 or 1=1"))  # case-sensitive by default
    m = matcher(tmp_path, r"sel: {c-uri|re|i: 'id=\d+ OR'}" + "\ncondition: sel")
    assert m(web("/a?id=1 or 1=1"))
    m = matcher(tmp_path, r"sel: {c-uri|re: '^a.b$'}" + "\ncondition: sel")
    assert not m(web("a\nb"))
    m = matcher(tmp_path, r"sel: {c-uri|re|s: '^a.b$'}" + "\ncondition: sel")
    assert m(web("a\nb"))
    m = matcher(tmp_path, r"sel: {c-uri|re|m: '^b$'}" + "\ncondition: sel")
    assert m(web("a\nb\nc"))
    m = matcher(tmp_path, r"sel: {c-uri|re: '^b$'}" + "\ncondition: sel")
    assert not m(web("a\nb\nc"))


def test_regex_searches_unanchored(tmp_path: Path) -> None:
    m = matcher(tmp_path, r"sel: {c-uri|re: 'etc/passwd'}" + "\ncondition: sel")
    assert m(web("/../../etc/passwd%00"))


def test_invalid_regex_is_skipped_with_reason(tmp_path: Path) -> None:
    reason = skip_reason(tmp_path, "sel: {c-uri|re: 'a(b'}\ncondition: sel")
    assert "regular expression" in reason.lower()


def test_cidr(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {c-ip|cidr: [10.0.0.0/8, 192.168.1.0/24, 'fc00::/7']}\n"
                          "condition: sel")
    assert m(web(ip="10.1.2.3")) and m(web(ip="192.168.1.200")) and m(web(ip="fd12::1"))
    assert not m(web(ip="192.168.2.1")) and not m(web(ip="110.1.2.3"))
    assert not m(web(ip="not-an-ip"))
    assert m(web(ip="::ffff:10.0.0.1"))
    m = matcher(tmp_path, "sel: {c-ip|cidr: 10.0.0.0/8}\ncondition: not sel")
    assert m(web(ip="8.8.8.8")) and not m(web(ip="10.9.9.9"))


def test_base64_and_base64offset(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {c-uri|base64: 'cmd.exe'}\ncondition: sel")
    assert m(web(base64.b64encode(b"cmd.exe").decode()))
    m = matcher(tmp_path, "sel: {c-uri|base64offset|contains: 'system('}\ncondition: sel")
    for prefix in (b"", b"a", b"ab"):
        encoded = base64.b64encode(prefix + b"system('id')").decode()
        assert m(web(f"/x?p={encoded}")), prefix
    assert not m(web("/x?p=" + base64.b64encode(b"nothing here").decode()))


def test_wide_utf16_and_utf16le_alias(tmp_path: Path) -> None:
    payload = "IEX".encode("utf-16le")
    for modifier in ("wide", "utf16le"):
        m = matcher(tmp_path, f"sel: {{c-uri|{modifier}|base64offset|contains: IEX}}\n"
                              "condition: sel")
        assert m(web("/?x=" + base64.b64encode(payload).decode())), modifier
    m = matcher(tmp_path, "sel: {c-uri|utf16be|base64|contains: IEX}\ncondition: sel")
    assert m(web("/?x=" + base64.b64encode("IEX".encode("utf-16be")).decode()))


def test_windash(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {process.command_line|windash|contains: ' -enc '}\n"
                          "condition: sel", logsource="product: linux")
    ev = event("syslog", process__command_line="powershell /enc AAA")
    assert m(ev)
    assert m(event("syslog", process__command_line="powershell \u2013enc AAA"))
    assert not m(event("syslog", process__command_line="powershell enc AAA"))


def test_numeric_comparisons(tmp_path: Path) -> None:
    checks = {"lt": (399, 400), "lte": (400, 401), "gt": (401, 400), "gte": (400, 399)}
    for mod, (yes, no) in checks.items():
        m = matcher(tmp_path, f"sel: {{sc-status|{mod}: 400}}\ncondition: sel")
        assert m(web(status=yes)) and not m(web(status=no)), mod
    m = matcher(tmp_path, "sel: {sc-bytes|gt: 1000}\ncondition: sel")
    assert m(web(http__response__body__bytes="5000"))  # numeric text compares too
    assert not m(web(http__response__body__bytes="abc"))
    assert not m(web())


def test_number_equality(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {sc-status: 404}\ncondition: sel")
    assert m(web(status=404)) and m(web(status="404")) and not m(web(status=4040))
    m = matcher(tmp_path, "sel: {sc-status: '404'}\ncondition: sel")
    assert m(web(status=404))


def test_neq(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {cs-method|neq: GET}\ncondition: sel")
    assert m(web(method="POST")) and not m(web(method="GET"))


def test_null_and_empty(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {cs-referer: null}\ncondition: sel")
    assert m(web()) and not m(web(http__request__referrer="x"))
    m = matcher(tmp_path, "sel: {cs-referer: ''}\ncondition: sel")
    assert m(web(http__request__referrer="")) and not m(web())


def test_exists(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {cs-referer|exists: true}\ncondition: sel")
    assert m(web(http__request__referrer="")) and not m(web())
    m = matcher(tmp_path, "sel: {cs-referer|exists: false}\ncondition: sel")
    assert m(web()) and not m(web(http__request__referrer="x"))


def test_bool_values(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {ronda.ssh.invalid_user: true}\ncondition: sel",
                logsource="product: linux\nservice: sshd")
    assert m(event("sshd.auth", ronda__ssh__invalid_user=True))
    assert not m(event("sshd.auth", ronda__ssh__invalid_user=False))
    assert m(event("sshd.auth", ronda__ssh__invalid_user="True"))


def test_list_valued_fields_match_any_element(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {event.category: web}\ncondition: sel")
    assert m(web())
    assert not m(web(event__category=["network"]))


def test_fieldref(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {cs-referer|fieldref: c-uri}\ncondition: sel")
    assert m(web("/a", http__request__referrer="/A"))
    assert not m(web("/a", http__request__referrer="/b"))
    assert not m(web("/a"))
    m = matcher(tmp_path, "sel: {cs-referer|fieldref|contains: cs-host}\ncondition: sel")
    assert m(web("/", url__domain="example.org", http__request__referrer="https://example.org/x"))
    assert not m(web("/", url__domain="example.org", http__request__referrer="https://evil/"))
    m = matcher(tmp_path, "sel: {cs-referer|fieldref|startswith: c-uri}\ncondition: sel")
    assert m(web("/a", http__request__referrer="/a/b"))
    m = matcher(tmp_path, "sel: {cs-referer|fieldref|endswith: c-uri}\ncondition: sel")
    assert m(web("/b", http__request__referrer="/a/b"))
    assert not m(web("/a", http__request__referrer="/a/b"))


def test_expand_with_placeholder_values(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {c-uri|expand|startswith: '%admin_paths%'}\ncondition: sel",
                placeholders={"admin_paths": ["/wp-admin/", "/administrator/"]})
    assert m(web("/wp-admin/x")) and m(web("/administrator/")) and not m(web("/x"))
    m = matcher(tmp_path, "sel: {c-ip|expand: '%office%'}\ncondition: sel",
                placeholders={"office": ["10.0.0.5"]})
    assert m(web(ip="10.0.0.5"))


def test_expand_without_values_is_skipped(tmp_path: Path) -> None:
    reason = skip_reason(tmp_path, "sel: {c-uri|expand: '%admin_paths%'}\ncondition: sel")
    assert "%admin_paths%" in reason and "placeholders" in reason


def test_keywords_match_anywhere_in_the_message(tmp_path: Path) -> None:
    m = matcher(tmp_path, "keywords: ['UNION SELECT', '@@version']\ncondition: keywords")
    assert m(web("/?q=1 union select 2"))
    assert m(web(message="anything @@VERSION anything"))
    assert not m(web("/?q=unionselect"))
    m = matcher(tmp_path, "keywords: ['select * from']\ncondition: keywords")
    assert m(web(message="x SELECT a, b FROM t"))
    m = matcher(tmp_path, "keywords:\n  '|all': [foo, bar]\ncondition: keywords")
    assert m(web(message="bar foo")) and not m(web(message="foo"))
    m = matcher(tmp_path, "keywords:\n  '|re': 'fo+bar'\ncondition: keywords")
    assert m(web(message="xx foooobar yy"))
    m = matcher(tmp_path, "keywords:\n  '|cased': Foo\ncondition: keywords")
    assert m(web(message="a Foo b")) and not m(web(message="a foo b"))


def test_keyword_numbers(tmp_path: Path) -> None:
    m = matcher(tmp_path, "keywords: [4242]\ncondition: keywords")
    assert m(web(message="port 4242 ssh2")) and not m(web(message="port 424 ssh2"))


def test_message_and_dataset_as_fields(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {message|contains: secret}\ncondition: sel")
    assert m(web(message="GET /secret")) and not m(web(message="GET /"))
    m = matcher(tmp_path, "sel: {event.dataset: apache.access}\ncondition: sel")
    ev = web()
    assert not m(ev)
    ev.dataset = "apache.access"
    assert m(ev)


def test_timestamp_part_modifiers(tmp_path: Path) -> None:
    # T0 = 2027-01-15T08:00:00Z
    m = matcher(tmp_path, "sel: {'@timestamp|hour': 8}\ncondition: sel")
    assert m(web())
    m = matcher(tmp_path, "sel: {'@timestamp|month': 2}\ncondition: sel")
    assert not m(web())


def test_unicode_case_folding(tmp_path: Path) -> None:
    m = matcher(tmp_path, "sel: {c-uri|contains: 'ÄPFEL'}\ncondition: sel")
    assert m(web("/äpfel")) and m(web("/ÄPFEL"))
    m = matcher(tmp_path, "sel: {c-uri|re|i: 'select'}\ncondition: sel")
    assert m(web("/\u017felect"))  # re's IGNORECASE matches long s with s: the prefilter too
    m = matcher(tmp_path, "sel: {c-uri|re|i: 'admin'}\ncondition: sel")
    assert m(web("/adm\u0130n")) and m(web("/adm\u0131n"))
    m = matcher(tmp_path, "sel: {c-uri|re|i: 'kit'}\ncondition: sel")
    assert m(web("/\u212aIT"))
