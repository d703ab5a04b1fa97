"""What ``ronda es setup`` and ``ronda es check`` do (the parser is in cmd_es).

The connection comes from ``--hosts`` (no login, nothing else read), else from the
config's responder of type ``elasticsearch`` (``--responder NAME`` when there are several).
Exit 0 done / all good; 1 unreachable, refused, or (check) something not right;
2 bad usage or config.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch
from pydantic import ValidationError

from responders.esconn import EsConnection, describe, make_client, server_version
from responders.esdocs import alert_stream
from responders.essetup import (
    ensure_setup,
    ilm_status,
    inspect_setup,
    stream_doc_count,
    winning_template,
)
from responders.estemplates import ALERT_TEMPLATE
from ronda.clock import SystemClock
from ronda.component import Context
from ronda.config import validate
from ronda.daemon.build import make_context
from ronda.daemon.common import load_from_args, setup_logging
from ronda.errors import ConfigError, RondaError
from ronda.metrics import Metrics

RESPONDER_TYPE = "elasticsearch"


class EsUnavailable(RondaError):
    """The server could not be reached or refused us: a runtime failure."""

    exit_code = 1


def connection(args: argparse.Namespace, log: logging.Logger) -> tuple[EsConnection, Context]:
    """The connection settings the flags or the config name, and a context to use them."""
    if args.hosts:
        data: dict[str, Any] = {"hosts": args.hosts}
        if args.namespace:
            data["namespace"] = args.namespace
        try:
            conn = EsConnection.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(*[_flag_error(e) for e in exc.errors()]) from None
        return conn, Context(sensor="", clock=SystemClock(), metrics=Metrics(),
                             state_dir=Path.cwd(), log=log, base_dir=Path.cwd())
    if args.namespace:
        raise ConfigError("--namespace goes with --hosts (else it comes from the config)")
    loaded = load_from_args(args)
    name, body = _responder_section(loaded.config.responders, args.responder, loaded.display)
    prefix: tuple[str, ...] = ("responders", name)
    section = body
    nested = body.get("connection")
    if isinstance(nested, dict):  # if the responder nests its connection settings
        section, prefix = nested, (*prefix, "connection")
    fields = {k: v for k, v in section.items() if k in EsConnection.model_fields}
    conn = validate(EsConnection, fields, prefix, loaded.origins)
    return conn, make_context(loaded, SystemClock(), log, state_dir=Path.cwd())


def _flag_error(err: Any) -> str:
    flag = "--namespace" if err["loc"] and err["loc"][0] == "namespace" else "--hosts"
    msg = str(err["ctx"]["error"]) if err["type"] == "value_error" else str(err["msg"])
    return f"{flag}: {msg}"


def _responder_section(responders: dict[str, dict[str, Any]], wanted: str | None,
                       display: str) -> tuple[str, dict[str, Any]]:
    found = {n: b for n, b in responders.items() if b.get("type") == RESPONDER_TYPE}
    if wanted is not None:
        if wanted not in found:
            have = ", ".join(sorted(found)) or "none"
            raise ConfigError(f"{display}: no responder {wanted!r} of type {RESPONDER_TYPE} "
                              f"(there: {have})")
        return wanted, found[wanted]
    if not found:
        raise ConfigError(f"{display}: no responder of type {RESPONDER_TYPE}; add one or "
                          "give --hosts URL")
    if len(found) > 1:
        raise ConfigError(f"{display}: several {RESPONDER_TYPE} responders "
                          f"({', '.join(sorted(found))}); pick one with --responder NAME")
    return next(iter(found.items()))


def _connect(conn: EsConnection, ctx: Context) -> tuple[Elasticsearch, str, str]:
    """Client, where (for messages) and the server version; EsUnavailable if unreachable."""
    client = make_client(conn, ctx)
    where = f"elasticsearch {', '.join(conn.hosts)}"
    try:
        version = ".".join(map(str, server_version(client)))
    except ApiError as exc:
        if exc.status_code not in (401, 403):
            raise EsUnavailable(f"{where}: {describe(exc)}") from None
        try:  # reachable, but not allowed to read the version: is the login accepted?
            client.indices.get_index_template(name=ALERT_TEMPLATE)
        except ApiError as inner:
            if inner.status_code in (401, 403):
                raise EsUnavailable(f"{where}: {describe(inner)}") from None
        except TransportError as inner:
            raise EsUnavailable(f"{where}: {describe(inner)}") from None
        version = "version not readable"
    except (TransportError, ValueError) as exc:
        raise EsUnavailable(f"{where}: {describe(exc)}") from None
    return client, where, version


def run(args: argparse.Namespace) -> int:
    log = setup_logging("warning")
    conn, ctx = connection(args, log)
    client, where, version = _connect(conn, ctx)
    try:
        if args.action == "setup":
            print(f"{where}: Elasticsearch {version}")
            for result in ensure_setup(client, log):
                print(result.line)
            return 0
        return _check(client, conn, where, version)
    except (ApiError, TransportError) as exc:
        raise EsUnavailable(f"{where}: {describe(exc)}") from None


def _check(client: Elasticsearch, conn: EsConnection, where: str, version: str) -> int:
    problems: list[str] = []
    major = version.split(".", 1)[0]
    if major.isdigit() and int(major) < 8:
        problems.append(f"Elasticsearch {version} is too old (Ronda needs 8.x or 9.x)")
    health = _health(client)
    print(f"{where}: reachable, Elasticsearch {version}, {health}")
    if health.startswith("cluster health red"):
        problems.append("the cluster is red")
    ilm, why = ilm_status(client)
    print("ILM: available" if ilm else f"ILM: not used ({why}; templates carry no lifecycle)")
    for state in inspect_setup(client, ilm):
        print(state.line)
        if state.state in ("missing", "outdated"):
            problems.append(f"{state.kind} {state.name} is {state.state}")
    stream = alert_stream(conn.namespace)
    winner, _ = winning_template(client, stream)
    if winner != ALERT_TEMPLATE:
        problems.append(f"{stream} would use index template {winner or 'none'}, "
                        f"not {ALERT_TEMPLATE}")
    count = stream_doc_count(client, stream)
    print(f"data stream {stream}: " + ("not created yet (made by the first alert)"
                                        if count is None else
                                        f"{count} document{'' if count == 1 else 's'}"))
    for line in problems:
        print(f"problem: {line}")
    if problems:
        print(f"{len(problems)} problem(s); `ronda es setup` puts the templates in place")
        return 1
    print("OK")
    return 0


def _health(client: Elasticsearch) -> str:
    try:
        body = client.cluster.health().body
    except ApiError as exc:
        if exc.status_code in (401, 403):
            return "cluster health not readable (not permitted)"
        raise
    return f"cluster health {body.get('status')} ({body.get('cluster_name')})"
