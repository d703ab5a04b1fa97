"""Alerts/s into Elasticsearch: the elasticsearch responder vs one request per document.

    python bench/bench_es.py [--alerts 20000] [--single 3000] [--url http://127.0.0.1:9200]

Without ``--url`` it starts a real Elasticsearch itself (tests/integration/esserver.py,
after scripts/install-elasticsearch.sh). Both methods run in the same process against the
same server with the same client settings and the same ECS documents:

- the responder: ``handle()`` in batches of 500 (as the pipeline hands them over), through
  the disk spool (fsync per batch) and bulk ``create`` requests, until the spool is empty
  (every document acknowledged by Elasticsearch);
- the baseline: ``client.create(index, id, document)`` for each alert, one after another.

Prints alerts/s for each and the ratio responder / one-request-per-document; the goal is
at least 5,000 alerts/s for the responder.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from responders.elasticsearch import ElasticsearchConfig, ElasticsearchResponder  # noqa: E402
from responders.esconn import make_client  # noqa: E402
from responders.esdocs import alert_doc, alert_stream  # noqa: E402
from ronda.clock import SystemClock  # noqa: E402
from ronda.component import Context  # noqa: E402
from ronda.metrics import Metrics  # noqa: E402
from ronda.schema import Alert, RuleRef, Severity  # noqa: E402

HANDLE_BATCH = 500
RUN = f"{os.getpid()}"  # namespaces of their own: a server used before does not count
RULE = RuleRef(id="bench-web-scan", name="Web scanner", ruleset="bench", category="scanner")


def make_alerts(n: int, tag: str) -> list[Alert]:
    t0 = time.time() - 3600
    out = []
    for i in range(n):
        ip = f"36.{64 + i // 65536 % 32}.{i // 256 % 256}.{i % 256}"
        out.append(Alert(
            rule=RULE, severity=Severity.MEDIUM, first_seen=t0 + i * 0.001,
            last_seen=t0 + i * 0.001 + 5, key=f"{tag}:{ip}:{i}", count=12,
            message=f"Scanner from {ip}: 12 requests for missing pages in 60s",
            techniques=("T1595.003",), sensor="bench", detector="thresholds", source="web",
            fields={"source.ip": ip, "url.domain": "dinas.example.go.id",
                    "url.path": f"/wp-login.php?{i}", "http.request.method": "GET",
                    "http.response.status_code": 404,
                    "user_agent.original": "Mozilla/5.0 (compatible; bench)"},
            evidence=tuple(f'{ip} - - [01/Jan/2026:00:00:{j:02d} +0700] "GET /x{j} HTTP/1.1" '
                           f'404 153 "-" "bench"' for j in range(3)),
        ))
    return out


def context(state: Path) -> Context:
    return Context(sensor="bench", clock=SystemClock(), metrics=Metrics(), state_dir=state,
                   log=logging.getLogger("bench"), base_dir=ROOT)


def run_responder(url: str, alerts: list[Alert], state: Path) -> float:
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": [url], "namespace": f"bench{RUN}",
        "flush_interval": "50ms", "request_timeout": "60s"})
    r = ElasticsearchResponder("es", config, context(state))
    try:
        r.handle(make_alerts(1, state.name))  # templates installed, data stream created
        _wait_empty(r, 120)
        t0 = time.perf_counter()
        for i in range(0, len(alerts), HANDLE_BATCH):
            r.handle(alerts[i:i + HANDLE_BATCH])
        _wait_empty(r, 600)
        return time.perf_counter() - t0
    finally:
        r.close()


def _wait_empty(r: ElasticsearchResponder, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not r.spool.empty:
        if time.monotonic() > deadline:
            raise SystemExit("the responder did not deliver everything in time")
        time.sleep(0.005)


def run_single(url: str, alerts: list[Alert], state: Path) -> float:
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": [url], "namespace": f"single{RUN}",
        "request_timeout": "60s"})
    client = make_client(config, context(state))
    index = alert_stream(f"single{RUN}")
    try:
        client.create(index=index, id=f"warmup-{state.name}",
                      document=alert_doc(make_alerts(1, "w")[0], f"single{RUN}"))
        t0 = time.perf_counter()
        for a in alerts:
            client.create(index=index, id=a.id, document=alert_doc(a, f"single{RUN}"))
        return time.perf_counter() - t0
    finally:
        client.close()


def warm_up(url: str, state: Path, n: int = 10_000) -> None:
    """Let the server's JIT warm up (a fresh JVM indexes several times slower at first)."""
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": [url], "request_timeout": "60s"})
    client = make_client(config, context(state))
    index = alert_stream(f"warmup{RUN}")
    try:
        alerts = make_alerts(n, "warmup")
        for i in range(0, n, 500):
            ops: list[Any] = []
            for a in alerts[i:i + 500]:
                ops += ({"create": {"_index": index, "_id": a.id}},
                        alert_doc(a, f"warmup{RUN}"))
            client.bulk(operations=ops)
    finally:
        client.close()


def count(url: str, namespace: str, state: Path) -> int:
    config = ElasticsearchConfig.model_validate({"type": "elasticsearch", "hosts": [url]})
    client = make_client(config, context(state))
    try:
        index = alert_stream(namespace)
        client.indices.refresh(index=index)
        return int(client.count(index=index)["count"])
    finally:
        client.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alerts", type=int, default=20_000, help="alerts through the responder")
    ap.add_argument("--single", type=int, default=3_000,
                    help="alerts sent one request per document")
    ap.add_argument("--url", help="an Elasticsearch to use (default: start one)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds (alternating the two methods); the best of each is taken")
    ap.add_argument("--json", action="store_true", help="print one JSON result line")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    server = None
    url = args.url
    if url is None:
        from tests.integration.esserver import EsServer
        server = EsServer().start()
        url = server.url
    try:
        with tempfile.TemporaryDirectory(prefix="ronda-bench-es-") as tmp:
            state = Path(tmp)
            warm_up(url, state / "w")
            bulk_s = single_s = float("inf")
            for k in range(args.repeat):
                bulk_s = min(bulk_s, run_responder(
                    url, make_alerts(args.alerts, f"bulk{k}"), state / f"r{k}"))
                single_s = min(single_s, run_single(
                    url, make_alerts(args.single, f"single{k}"), state / f"s{k}"))
            stored = count(url, f"bench{RUN}", state / "c") - args.repeat  # less the warm-up alerts
            expected = args.alerts * args.repeat
    finally:
        if server is not None:
            server.close()
    if stored != expected:
        raise SystemExit(f"expected {expected} documents from the responder, found {stored}")
    bulk_rate = args.alerts / bulk_s
    single_rate = args.single / single_s
    result = {"alerts": args.alerts, "responder_alerts_per_s": round(bulk_rate),
              "responder_seconds": round(bulk_s, 3), "single": args.single,
              "single_alerts_per_s": round(single_rate), "single_seconds": round(single_s, 3),
              "ratio": round(bulk_rate / single_rate, 2)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"responder (spool + bulk):   {bulk_rate:9.0f} alerts/s "
              f"({args.alerts} alerts in {bulk_s:.2f} s)")
        print(f"one request per document:   {single_rate:9.0f} alerts/s "
              f"({args.single} alerts in {single_s:.2f} s)")
        print(f"ratio responder / single:   {bulk_rate / single_rate:9.1f}x "
              f"(goal: responder >= 5000 alerts/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
