"""Rule text -> :class:`Rule`: the Suricata subset Ronda runs.

A rule with a keyword outside the subset is skipped and counted by keyword (and listed
as a ``SKIP file:line sid:N msg: keyword`` line); a rule that is broken (bad syntax,
undefined variable, bad content) is a problem naming file:line. Neither stops the others
from loading.

Options that do not change what a rule matches are read and kept (``msg``, ``rev``,
``classtype``, ``priority``, ``reference``, ``metadata``) or ignored (``gid``, ``target``,
``rawbytes``, ``tag``: extra packets to log). Two spellings outside the subset are read as
the subset construct they are equal to: ``isdataat:!1,relative`` right after a content is
``endswith``; raw content in a rule that also has HTTP sticky buffers looks at
``http.start`` (request line and headers: where that content is in the stream).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from detectors.netrules.content import (
    Content,
    ContentError,
    Item,
    Pcre,
    Unsupported,
    parse_content,
    parse_pcre,
)
from detectors.netrules.rule import (
    BUFFER_DATASET,
    HTTP_START,
    PAYLOAD,
    Flowbit,
    Rule,
    Threshold,
)
from detectors.netrules.text import (
    RawRule,
    RuleSyntaxError,
    rule_lines,
    split_rule,
    unquote,
)
from detectors.netrules.vars import Parser as ExprParser
from detectors.netrules.vars import VarError

PROTOCOLS = frozenset({"ip", "tcp", "udp", "icmp", "http", "dns", "tls", "ssh",
                       "tcp-pkt", "tcp-stream", "pkthdr"})
STICKY = {"http.uri": "http.uri", "http.uri.raw": "http.uri", "http.method": "http.method",
          "http.host": "http.host", "http.host.raw": "http.host",
          "http.user_agent": "http.user_agent", "http.header": "http.header",
          "http.header.raw": "http.header", "http.request_line": "http.request_line",
          "http.start": HTTP_START,
          "dns.query": "dns.query", "dns_query": "dns.query", "tls.sni": "tls.sni",
          "pkt_data": PAYLOAD}
LEGACY = {"http_uri": "http.uri", "http_raw_uri": "http.uri", "http_method": "http.method",
          "http_host": "http.host", "http_raw_host": "http.host",
          "http_user_agent": "http.user_agent", "http_header": "http.header",
          "http_raw_header": "http.header", "tls_sni": "tls.sni"}
IGNORED = frozenset({"gid", "target", "rawbytes", "tag"})
FLOW_WORDS = frozenset({"established", "not_established", "stateless", "to_server",
                        "from_client", "to_client", "from_server", "no_stream",
                        "only_stream", "no_frag", "only_frag"})
FLOWBIT_CMDS = frozenset({"set", "unset", "toggle", "isset", "isnotset", "noalert"})


class RuleProblem(ValueError):
    pass


@dataclass
class Loaded:
    rules: list[Rule] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skips: list[str] = field(default_factory=list)
    """One line per skipped rule: ``file:line sid:N msg: keyword``."""
    files: int = 0


_SID = re.compile(r"(?:^|[;(\s])sid\s*:\s*(\d+)")
_MSG = re.compile(r'(?:^|[;(\s])msg\s*:\s*"((?:[^"\\]|\\.)*)"')


def _skip_line(file: str, raw: RawRule, exc: Unsupported) -> str:
    sid = _SID.search(raw.text)
    msg = _MSG.search(raw.text)
    label = " ".join(x for x in (f"sid:{sid.group(1)}" if sid else "",
                                 unquote(f'"{msg.group(1)}"') if msg else "") if x)
    reason = f"{exc.keyword} ({exc.detail})" if exc.detail else exc.keyword
    return f"{file}:{raw.line} {label}: {reason}" if label else f"{file}:{raw.line}: {reason}"


def load_text(text: str, file: str, exprs: ExprParser, out: Loaded) -> None:
    ruleset = Path(file).stem
    for raw in rule_lines(text):
        try:
            rule = parse_rule(raw, exprs)
        except Unsupported as exc:
            out.skipped[exc.keyword] += 1
            out.skips.append(_skip_line(file, raw, exc))
            continue
        except (RuleProblem, RuleSyntaxError, VarError, ContentError) as exc:
            out.problems.append(f"{file}:{raw.line}: {exc}")
            continue
        except (ValueError, RecursionError) as exc:  # never let one rule stop the file
            out.problems.append(f"{file}:{raw.line}: cannot read rule: {exc}")
            continue
        if rule is None:
            continue
        rule.file, rule.ruleset = file, ruleset
        out.rules.append(rule)


def parse_rule(raw: RawRule, exprs: ExprParser) -> Rule | None:
    """A rule, or None for actions that raise no alert (pass, config)."""
    header, options = split_rule(raw.text)
    if not header:
        raise RuleProblem("no rule header")
    action = header[0].lower()
    if action not in ("alert", "drop", "reject", "rejectsrc", "rejectdst", "rejectboth",
                      "pass", "config"):
        raise RuleProblem(f"unknown action {header[0]!r}")
    if action in ("pass", "config"):
        raise Unsupported(f"action {action}")
    if len(header) != 7:
        raise RuleProblem("header is not 'action proto src sport -> dst dport'")
    proto = header[1].lower()
    if proto not in PROTOCOLS:
        raise Unsupported(f"protocol {proto}")
    if header[4] not in ("->", "<>"):
        raise RuleProblem(f"bad direction {header[4]!r}")
    rule = Rule(sid=0, msg="", action=action, proto=proto, src=exprs.address(header[2]),
                sport=exprs.port(header[3]), bidirectional=header[4] == "<>",
                dst=exprs.address(header[5]), dport=exprs.port(header[6]), line=raw.line)
    _Options(rule).apply(options)
    if rule.sid <= 0:
        raise RuleProblem("no sid")
    validate(rule)
    return rule


def _int(key: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise RuleProblem(f"{key}: not a number: {value!r}") from None


class _Options:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.items: list[tuple[str, Item]] = []
        self.buffer = PAYLOAD
        self.dotprefix: set[str] = set()

    def apply(self, options: list[tuple[str, str]]) -> None:
        for key, value in options:
            self.option(key, value)
        buffers: dict[str, list[Item]] = {}
        for name, item in self.items:
            buffers.setdefault(name, []).append(item)
        self.rule.buffers = buffers
        self.rule.dotprefix = frozenset(self.dotprefix)

    def last_content(self, key: str) -> Content:
        if not self.items or not isinstance(self.items[-1][1], Content):
            raise RuleProblem(f"{key} without a content before it")
        return self.items[-1][1]

    def option(self, key: str, value: str) -> None:
        r = self.rule
        if key == "msg":
            r.msg = unquote(value)
        elif key == "sid":
            r.sid = _int(key, value)
        elif key == "rev":
            r.rev = _int(key, value)
        elif key == "classtype":
            r.classtype = value.strip()
        elif key == "priority":
            r.priority = _int(key, value)
        elif key == "reference":
            r.references.append(value.strip())
        elif key == "metadata":
            for part in value.split(","):
                name, _, val = part.strip().partition(" ")
                if name:
                    r.metadata.setdefault(name, []).append(val.strip())
        elif key in IGNORED:
            pass
        elif key == "content":
            pattern, negated = parse_content(value)
            self.items.append((self.buffer, Content(pattern, negated)))
        elif key == "uricontent":  # Snort's legacy spelling of content + http_uri
            pattern, negated = parse_content(value)
            self.items.append(("http.uri", Content(pattern, negated)))
        elif key == "pcre":
            pcre, buf = parse_pcre(value)
            self.items.append((buf or self.buffer, pcre))
        elif key in ("nocase", "depth", "offset", "distance", "within", "fast_pattern",
                     "startswith", "endswith"):
            self.modifier(key, value)
        elif key in STICKY:
            self.buffer = STICKY[key]
        elif key in LEGACY:
            c = self.last_content(key)
            self.items[-1] = (LEGACY[key], c)
        elif key == "dotprefix":
            self.dotprefix.add(self.buffer)
        elif key == "isdataat":
            self.isdataat(value)
        elif key == "flow":
            words = {w.strip().lower() for w in value.split(",") if w.strip()}
            unknown = words - FLOW_WORDS
            if unknown:
                raise Unsupported("flow:" + sorted(unknown)[0])
            r.flow = frozenset(words)
        elif key in ("threshold", "detection_filter"):
            r.threshold = _threshold(key, value)
        elif key == "flowbits":
            r.flowbits.append(_flowbit(value))
            if r.flowbits[-1].cmd == "noalert":
                r.noalert = True
        elif key == "noalert":
            r.noalert = True
        else:
            raise Unsupported(key)

    def isdataat(self, value: str) -> None:
        """``isdataat:!1,relative`` after a content: no byte after the match, which is
        ``endswith``. Other forms look at payload sizes: outside the subset."""
        last = self.items[-1][1] if self.items else None
        # relative to the last content of the buffer in use (a sticky buffer named after
        # that content has no previous match: outside the subset)
        same = bool(self.items) and (self.items[-1][0] == self.buffer
                                     or self.buffer == PAYLOAD)  # (a legacy http_uri...)
        if "".join(value.split()) != "!1,relative" or not isinstance(last, Content) \
                or last.negated or not same:
            raise Unsupported("isdataat")
        last.endswith = True

    def modifier(self, key: str, value: str) -> None:
        c = self.last_content(key)
        if key == "nocase":
            c.nocase = True
        elif key == "fast_pattern":
            c.fast_pattern = True
        elif key == "startswith":
            c.startswith = True
        elif key == "endswith":
            c.endswith = True
        else:
            v = value.strip()
            if not v.lstrip("-").isdigit():
                raise Unsupported(f"{key} with a variable")
            n = int(v)
            if key == "depth":
                if n < 1:
                    raise RuleProblem("depth must be at least 1")
                c.depth = n
            elif key == "offset":
                c.offset = max(0, n)
            elif key == "distance":
                c.distance = n
            else:
                if n < 1:
                    raise RuleProblem("within must be at least 1")
                c.within = n


def _threshold(key: str, value: str) -> Threshold:
    parts: dict[str, str] = {}
    for part in value.split(","):
        name, _, val = part.strip().partition(" ")
        parts[name.strip()] = val.strip()
    kind = "detection_filter" if key == "detection_filter" else parts.get("type", "")
    if kind not in ("limit", "threshold", "both", "detection_filter"):
        raise RuleProblem(f"{key}: bad type {kind!r}")
    track = parts.get("track", "")
    if track == "by_flow":
        raise Unsupported(f"{key} by_flow")
    if track not in ("by_src", "by_dst", "by_rule", "by_both"):
        raise RuleProblem(f"{key}: bad track {track!r}")
    count = _int(key + " count", parts.get("count", ""))
    seconds = _int(key + " seconds", parts.get("seconds", ""))
    if count < 1 or seconds < 1:
        raise RuleProblem(f"{key}: count and seconds must be positive")
    return Threshold(kind, track, count, float(seconds))


def _flowbit(value: str) -> Flowbit:
    cmd, _, names = value.partition(",")
    cmd = cmd.strip().lower()
    if cmd not in FLOWBIT_CMDS:
        raise RuleProblem(f"flowbits: unknown command {cmd!r}")
    if cmd == "noalert":
        return Flowbit(cmd)
    names = names.strip()
    if not names:
        raise RuleProblem(f"flowbits:{cmd} without a name")
    any_of = "|" in names
    parts = tuple(n.strip() for n in names.replace("|", "&").split("&") if n.strip())
    if any_of and cmd not in ("isset", "isnotset"):
        raise RuleProblem(f"flowbits:{cmd} takes one name")
    return Flowbit(cmd, parts, any_of)


def validate(rule: Rule) -> None:
    """Checks after parsing: one event kind per rule; a relative first match is
    relative to the buffer start."""
    kinds = {BUFFER_DATASET[b] for b in rule.buffers}
    if kinds == {"http", "network.flow"} and HTTP_START not in rule.buffers:
        # raw content next to HTTP buffers: in the stream it is in the request's start
        rule.buffers = {HTTP_START if k == PAYLOAD else k: v for k, v in rule.buffers.items()}
        rule.dotprefix = frozenset(HTTP_START if k == PAYLOAD else k for k in rule.dotprefix)
        kinds = {"http"}
    if len(kinds) > 1:
        raise Unsupported("buffers of different protocols",
                          " and ".join(sorted(b for b in rule.buffers)))
    for items in rule.buffers.values():
        first = items[0]
        if isinstance(first, Content) and first.relative:
            first.distance = first.distance or 0  # Suricata: relative to buffer start
        if isinstance(first, Pcre) and first.relative:
            first.relative = False
