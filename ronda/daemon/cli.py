"""``ronda`` command line. Exit status: 0 done; 2 bad usage, config or input; 1 runtime failure."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ronda import __version__
from ronda.daemon.cmd_es import add_parser as add_es_parser
from ronda.daemon.cmd_kibana import add_parser as add_kibana_parser
from ronda.errors import RondaError


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", metavar="FILE",
                   help="config file (default: $RONDA_CONFIG, /etc/ronda/ronda.yaml, "
                        "then the shipped config/ronda.yaml)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set metrics.listen=127.0.0.1:9700")
    p.add_argument("--state-dir", metavar="DIR", help="where checkpoints and the store live")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ronda", description="Ronda security monitoring daemon")
    ap.add_argument("--version", action="version", version=f"ronda {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the daemon")
    _add_config_flags(p)

    p = sub.add_parser("replay", help="run the pipeline over log files, offline")
    _add_config_flags(p)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="KIND:PATH or PATH (kind guessed); KIND in nginx, apache, sshd, "
                        "syslog, json, eve, pcap")
    p.add_argument("--output", choices=["table", "jsonl", "none"], default="table",
                   help="table of alerts (default), one ECS alert document per line, or none")
    p.add_argument("--no-store", action="store_true",
                   help="do not write alerts to the configured responders (store)")
    p.add_argument("--respond", action="store_true",
                   help="also run responders that change the world (blocker, recovery)")

    p = sub.add_parser("demo", help="replay a bundled attack scenario and show the alerts")
    p.add_argument("--output", choices=["table", "jsonl"], default="table")

    p = sub.add_parser("alerts", help="query the local alert store")
    asub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    lp = asub.add_parser("list", help="list alerts, newest first")
    _add_config_flags(lp)
    lp.add_argument("--db", metavar="FILE", help="alert store file (default: from config)")
    lp.add_argument("--since", metavar="WHEN", help="e.g. 1h, 2d, or 2026-11-21T08:00:00")
    lp.add_argument("--severity", metavar="LEVEL", help="minimum: low, medium, high, critical")
    lp.add_argument("--category", metavar="NAME", help="rule.category, e.g. brute-force")
    lp.add_argument("--rule", metavar="ID", help="rule.id")
    lp.add_argument("--source-ip", metavar="IP", help="source.ip")
    lp.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    lp.add_argument("--json", action="store_true", help="one ECS document per line")
    sp = asub.add_parser("show", help="one alert in full")
    _add_config_flags(sp)
    sp.add_argument("id", help="alert id (event.id) or a unique prefix")
    sp.add_argument("--db", metavar="FILE")
    sp.add_argument("--json", action="store_true")

    p = sub.add_parser("config", help="configuration")
    csub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    cp = csub.add_parser("check", help="validate the config and the rules it names")
    _add_config_flags(cp)

    p = sub.add_parser("rules", help="rules")
    rsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    rp = rsub.add_parser("list", help="list loaded rules")
    _add_config_flags(rp)
    for action, text in (("validate", "load and check rules, report those that cannot run"),
                         ("test", "run every Sigma rule's samples")):
        rp = rsub.add_parser(action, help=text)
        _add_config_flags(rp)
        rp.add_argument("paths", nargs="*", metavar="PATH",
                        help="Sigma rule files or folders (default: the config's rules)")
        if action == "test":
            rp.add_argument("-v", "--verbose", action="store_true",
                            help="also list inactive rules left untested")
    rp = rsub.add_parser("export", help="write the Sigma rules as Elastic Security rules")
    _add_config_flags(rp)
    rp.add_argument("paths", nargs="*", metavar="PATH",
                    help="Sigma rule files or folders (default: the config's rules)")
    rp.add_argument("--format", choices=["elasticsearch"], default="elasticsearch",
                    help="target (elasticsearch: NDJSON for Security > Rules > Import)")
    rp.add_argument("-o", "--output", default="-", metavar="FILE",
                    help="where to write the NDJSON (default: stdout)")
    rp.add_argument("--index", action="append", metavar="PATTERN",
                    help="index patterns the rules search (repeatable; default: "
                         "logs-ronda.*-* without the alert stream)")
    rp.add_argument("--attack-data", metavar="FILE",
                    help="MITRE enterprise-attack.json for ATT&CK names (default: a "
                         "built-in subset; pySigma would otherwise download it)")

    add_kibana_parser(sub)
    add_es_parser(sub, _add_config_flags)
    sub.add_parser("version", help="print the version")
    return ap


def _dispatch(args: argparse.Namespace) -> int:
    cmd: Callable[[argparse.Namespace], int]
    if args.command == "run":
        from ronda.daemon.cmd_run import cmd_run as cmd
    elif args.command == "replay":
        from ronda.daemon.cmd_replay import cmd_replay as cmd
    elif args.command == "demo":
        from ronda.daemon.cmd_replay import cmd_demo as cmd
    elif args.command == "alerts":
        from ronda.daemon.cmd_alerts import cmd_alerts as cmd
    elif args.command == "config":
        from ronda.daemon.cmd_config import cmd_config_check as cmd
    elif args.command == "rules":
        from ronda.daemon.cmd_rules import cmd_rules as cmd
    elif args.command == "kibana":
        from ronda.daemon.cmd_kibana import cmd_kibana as cmd
    elif args.command == "es":
        from ronda.daemon.cmd_es import cmd_es as cmd
    else:
        print(f"ronda {__version__}")
        return 0
    return cmd(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _dispatch(args)
    except RondaError as exc:
        for line in exc.lines or (str(exc),):
            print(line, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
