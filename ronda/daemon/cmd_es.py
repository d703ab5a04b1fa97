"""``ronda es setup`` and ``ronda es check``: Ronda's templates on Elasticsearch.

The connection comes from ``--hosts`` (no login, nothing else read), else from the
config's responder of type ``elasticsearch`` (``--responder NAME`` when there are several).
Exit 0 done / all good; 1 unreachable, refused, or (check) something not right;
2 bad usage or config. The work is in ``es_admin`` (imported only when used: the
Elasticsearch client is slow to import).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, add_config_flags: Any) -> None:
    """``ronda es setup|check`` (called by the cli's parser)."""
    p = sub.add_parser("es", help="Elasticsearch: templates and checks")
    esub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("setup", "put Ronda's index templates (and ILM policies) on Elasticsearch"),
        ("check", "check connectivity, version, templates and the alert data stream"),
    ):
        ep = esub.add_parser(action, help=text)
        add_config_flags(ep)
        ep.add_argument("--responder", metavar="NAME",
                        help="the elasticsearch responder of the config to use")
        ep.add_argument("--hosts", nargs="+", metavar="URL",
                        help="Elasticsearch URLs (instead of the config; no login)")
        ep.add_argument("--namespace", metavar="NS",
                        help="data stream namespace (with --hosts; default: default)")


def cmd_es(args: argparse.Namespace) -> int:
    from ronda.daemon.es_admin import run

    return run(args)
