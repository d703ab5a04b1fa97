"""Suricata EVE JSON (``eve.json``) as Ronda events: ``ronda replay eve:FILE``.

One line, one event. ``flow``, ``dns``, ``http``, ``tls`` and ``ssh`` records become the
datasets Ronda's own sensor makes (``network.flow``, ``dns``, ``http``, ``tls``, ``ssh``)
with the same ECS field names, so network detectors and rules run on them unchanged.
``alert`` records become ``suricata.alert`` events carrying the alert (``rule.id`` is the
signature id, ``rule.name`` the signature) and the protocol fields of the alert's
transaction; the ``suricata`` detector turns them into Ronda alerts. Other record types
keep their common fields under ``suricata.<event_type>``. A line that is not a JSON
object with a timestamp is counted and skipped.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ronda.component import Context
from ronda.schema import Event
from sensor.replayfile import ReplayFileConfig, ReplayFileSource

DATASETS = {"flow": "network.flow", "netflow": "network.flow", "dns": "dns", "http": "http",
            "tls": "tls", "ssh": "ssh", "alert": "suricata.alert"}


def parse_time(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(t).timestamp()
    except ValueError:
        pass
    try:  # Suricata writes +0000, which Python 3.11 also reads; this is for odd digits
        return datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def _set(f: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        f[key] = value


def common(rec: dict[str, Any]) -> dict[str, Any]:
    f: dict[str, Any] = {"event.kind": "event", "event.module": "suricata"}
    _set(f, "source.ip", rec.get("src_ip"))
    _set(f, "source.port", rec.get("src_port"))
    _set(f, "destination.ip", rec.get("dest_ip"))
    _set(f, "destination.port", rec.get("dest_port"))
    proto = rec.get("proto")
    if isinstance(proto, str):
        f["network.transport"] = proto.lower()
    _set(f, "network.community_id", rec.get("community_id"))
    app = rec.get("app_proto")
    if isinstance(app, str) and app not in ("failed", "unknown"):
        f["network.protocol"] = app
    _set(f, "ronda.suricata.flow_id", rec.get("flow_id"))
    _set(f, "observer.ingress.interface.name", rec.get("in_iface"))
    vlan = rec.get("vlan")
    if isinstance(vlan, list) and vlan:
        f["network.vlan.id"] = str(vlan[0])
    return f


def map_http(h: dict[str, Any], f: dict[str, Any]) -> None:
    url = h.get("url")
    _set(f, "url.original", url)
    if isinstance(url, str):
        path, q, query = url.partition("?")
        f["url.path"] = path
        if q and query:
            f["url.query"] = query
    host = h.get("hostname")
    _set(f, "url.domain", host)
    _set(f, "destination.domain", host)
    _set(f, "http.request.method", h.get("http_method"))
    _set(f, "user_agent.original", h.get("http_user_agent"))
    _set(f, "http.request.referrer", h.get("http_refer"))
    _set(f, "http.response.mime_type", h.get("http_content_type"))
    status = h.get("status")
    if isinstance(status, int) or (isinstance(status, str) and status.isdigit()):
        code = int(status)
        f["http.response.status_code"] = code
        f["event.outcome"] = "success" if code < 400 else "failure"
    _set(f, "http.response.body.bytes", h.get("length"))
    proto = h.get("protocol")
    if isinstance(proto, str) and proto.startswith("HTTP/"):
        f["http.version"] = proto[5:]
    f.setdefault("event.category", ["web"])


def map_dns(d: dict[str, Any], f: dict[str, Any]) -> None:
    queries = d.get("queries")
    q = queries[0] if isinstance(queries, list) and queries and isinstance(
        queries[0], dict) else d
    _set(f, "dns.question.name", q.get("rrname"))
    _set(f, "dns.question.type", q.get("rrtype"))
    _set(f, "dns.id", d.get("id"))
    _set(f, "dns.response_code", d.get("rcode"))
    kind = d.get("type")
    if kind in ("query", "request"):
        f["dns.type"] = "query"
    elif kind in ("answer", "response"):
        f["dns.type"] = "answer"
    answers: list[dict[str, Any]] = []
    ips: list[str] = []
    raw = d.get("answers")
    if isinstance(raw, list):
        for a in raw:
            if isinstance(a, dict):
                answers.append({k: a[k] for k in ("rrname", "rrtype", "ttl", "rdata")
                                if k in a})
                if a.get("rrtype") in ("A", "AAAA") and isinstance(a.get("rdata"), str):
                    ips.append(a["rdata"])
    grouped = d.get("grouped")
    if isinstance(grouped, dict):
        for rtype in ("A", "AAAA"):
            vals = grouped.get(rtype)
            if isinstance(vals, list):
                ips.extend(v for v in vals if isinstance(v, str))
    if answers:
        f["dns.answers"] = answers
        f["dns.answers_count"] = len(answers)
    if ips:
        f["dns.resolved_ip"] = ips
    f.setdefault("event.category", ["network"])


def map_tls(t: dict[str, Any], f: dict[str, Any]) -> None:
    _set(f, "tls.client.server_name", t.get("sni"))
    version = t.get("version")
    if isinstance(version, str) and " " in version:
        proto, _, num = version.partition(" ")
        f["tls.version_protocol"] = proto.lower()
        f["tls.version"] = num
    _set(f, "tls.server.subject", t.get("subject"))
    _set(f, "tls.server.issuer", t.get("issuerdn"))
    fp = t.get("fingerprint")
    if isinstance(fp, str):
        f["tls.server.hash.sha1"] = fp.replace(":", "").upper()
    for key, name in (("ja3", "tls.client.ja3"), ("ja3s", "tls.server.ja3s")):
        v = t.get(key)
        if isinstance(v, dict):
            _set(f, name, v.get("hash"))
    _set(f, "tls.client.ja4", t.get("ja4"))


def map_ssh(s: dict[str, Any], f: dict[str, Any]) -> None:
    for who in ("client", "server"):
        side = s.get(who)
        if not isinstance(side, dict):
            continue
        proto, soft = side.get("proto_version"), side.get("software_version")
        _set(f, f"ronda.ssh.{who}_protocol", proto)
        if isinstance(soft, str):
            f[f"ronda.ssh.{who}_software"] = soft.split(" ", 1)[0]
            f[f"ronda.ssh.{who}_version"] = f"SSH-{proto or '2.0'}-{soft}"


def map_flow(fl: dict[str, Any], f: dict[str, Any]) -> None:
    for key, name in (("pkts_toserver", "source.packets"), ("pkts_toclient",
                      "destination.packets"), ("bytes_toserver", "source.bytes"),
                      ("bytes_toclient", "destination.bytes")):
        v = fl.get(key)
        if isinstance(v, int):
            f[name] = v
    if isinstance(f.get("source.bytes"), int) and isinstance(f.get("destination.bytes"), int):
        f["network.bytes"] = f["source.bytes"] + f["destination.bytes"]
    if isinstance(f.get("source.packets"), int) and isinstance(
            f.get("destination.packets"), int):
        f["network.packets"] = f["source.packets"] + f["destination.packets"]
    start, end = parse_time(fl.get("start")), parse_time(fl.get("end"))
    _set(f, "event.start", fl.get("start"))
    _set(f, "event.end", fl.get("end"))
    if start is not None and end is not None and end >= start:
        f["event.duration"] = round((end - start) * 1e6) * 1000
    _set(f, "event.reason", fl.get("reason"))
    _set(f, "ronda.suricata.flow_state", fl.get("state"))
    f["event.category"] = ["network"]


def map_alert(a: dict[str, Any], f: dict[str, Any]) -> None:
    sid = a.get("signature_id")
    _set(f, "rule.id", str(sid) if sid is not None else None)
    _set(f, "rule.name", a.get("signature"))
    _set(f, "rule.category", a.get("category"))
    _set(f, "ronda.suricata.gid", a.get("gid"))
    _set(f, "ronda.suricata.rev", a.get("rev"))
    _set(f, "ronda.suricata.severity", a.get("severity"))
    _set(f, "ronda.suricata.action", a.get("action"))
    meta = a.get("metadata")
    if isinstance(meta, dict):
        f["ronda.suricata.metadata"] = meta
    f["event.kind"] = "alert"


MAPPERS = {"http": map_http, "dns": map_dns, "tls": map_tls, "ssh": map_ssh,
           "flow": map_flow, "netflow": map_flow}


class EveParser:
    """One EVE line -> Event, or None for a line that is not an EVE record."""

    def __call__(self, line: str) -> Event | None:
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(rec, dict):
            return None
        ts = parse_time(rec.get("timestamp"))
        etype = rec.get("event_type")
        if ts is None or not isinstance(etype, str) or not etype:
            return None
        f = common(rec)
        try:
            for key, mapper in MAPPERS.items():
                sub = rec.get(key)
                if isinstance(sub, dict):
                    mapper(sub, f)
            if etype == "alert":
                alert = rec.get("alert")
                if not isinstance(alert, dict):
                    return None
                map_alert(alert, f)
        except (TypeError, AttributeError, ValueError):
            return None
        dataset = DATASETS.get(etype, "suricata." + etype)
        f["event.dataset"] = dataset
        return Event(dataset, ts, f, line[:2000])


def looks_like_eve(lines: list[str]) -> bool:
    """Whether most of the first lines are EVE records (for guessing the kind)."""
    parse = EveParser()
    good = sum(1 for ln in lines if ln.strip() and parse(ln) is not None)
    return good > 0 and good * 2 >= sum(1 for ln in lines if ln.strip())


class EveSource(ReplayFileSource):
    """The ``file`` source with the EVE parser: gzip, batching, counts as for logs."""

    def __init__(self, name: str, config: ReplayFileConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self.parser = EveParser()
