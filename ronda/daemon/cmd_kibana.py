"""``ronda kibana import``: load Ronda's data views, saved searches and dashboards into Kibana
through the saved-objects import API. Exit status: 0 imported; 1 Kibana unreachable or an
object refused; 2 bad usage (URL, space, credentials files, saved-object files)."""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from typing import Any

from ronda.daemon.paths import PROJECT_DIR
from ronda.errors import InputError
from ronda.kibana import Connection, KibanaError, check_space, check_url, post_import, read_ndjson

SHIPPED_DIRS = (PROJECT_DIR / "dashboards" / "kibana", Path("/usr/share/ronda/dashboards/kibana"))


def add_parser(sub: Any) -> None:
    """Add the ``kibana`` command group to the top-level subparsers ``sub``."""
    p = sub.add_parser("kibana", help="Kibana dashboards")
    ksub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ip = ksub.add_parser("import", help="import Ronda's data views, searches and dashboards")
    ip.add_argument("--url", required=True, help="Kibana base URL, e.g. http://127.0.0.1:5601")
    ip.add_argument("--space", metavar="ID", help="Kibana space id (default: the default space)")
    ip.add_argument("--overwrite", action=argparse.BooleanOptionalAction, default=True,
                    help="replace objects with the same id (default); --no-overwrite "
                         "reports them as conflicts instead")
    ip.add_argument("--dir", metavar="DIR",
                    help="folder of *.ndjson saved objects (default: the shipped "
                         "dashboards/kibana)")
    ip.add_argument("--username", help="basic-auth user (with --password-file)")
    ip.add_argument("--password-file", metavar="FILE", help="file holding the password")
    ip.add_argument("--api-key-file", metavar="FILE",
                    help="file holding an API key (encoded, or id:key)")
    ip.add_argument("--ca-file", metavar="FILE", help="CA certificates for an https URL")
    ip.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                    help="how long to wait for Kibana (default 60)")


def saved_object_files(flag: str | None) -> list[Path]:
    """The ``*.ndjson`` files of ``--dir``, else of the shipped folder, in name order."""
    if flag:
        folder = Path(flag)
        if not folder.is_dir():
            raise InputError(f"--dir {flag}: no such folder")
    else:
        found = [d for d in SHIPPED_DIRS if d.is_dir()]
        if not found:
            raise InputError("cannot find Ronda's Kibana saved objects "
                             "(dashboards/kibana/*.ndjson); give --dir")
        folder = found[0]
    files = sorted(folder.glob("*.ndjson"))
    if not files:
        raise InputError(f"{folder}: no *.ndjson saved-object files")
    return files


def _secret(path: str, what: str) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path} cannot be read: {exc}") from None
    if not value:
        raise InputError(f"{what} {path} is empty")
    return value


def authorization(args: argparse.Namespace) -> str | None:
    """The Authorization header the flags ask for, or None."""
    if args.api_key_file and (args.username or args.password_file):
        raise InputError("give --api-key-file or --username/--password-file, not both")
    if args.api_key_file:
        key = _secret(args.api_key_file, "--api-key-file")
        if ":" in key:
            key = base64.b64encode(key.encode()).decode("ascii")
        return f"ApiKey {key}"
    if bool(args.username) != bool(args.password_file):
        raise InputError("--username and --password-file go together")
    if args.username:
        password = _secret(args.password_file, "--password-file")
        token = base64.b64encode(f"{args.username}:{password}".encode()).decode("ascii")
        return f"Basic {token}"
    return None


def connection(args: argparse.Namespace) -> Connection:
    try:
        url = check_url(args.url)
        if args.space is not None:
            check_space(args.space)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if args.ca_file and not Path(args.ca_file).is_file():
        raise InputError(f"--ca-file {args.ca_file}: no such file")
    if args.timeout <= 0:
        raise InputError("--timeout must be positive")
    return Connection(url, authorization(args), args.ca_file, args.timeout)


def cmd_kibana(args: argparse.Namespace) -> int:
    conn = connection(args)
    files = saved_object_files(args.dir)
    try:
        body, count = read_ndjson(files)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    where = f"Kibana at {conn.url}" + (f" (space {args.space})" if args.space else "")
    try:
        result = post_import(conn, body, args.space, args.overwrite)
    except KibanaError as exc:
        print(f"ronda kibana import: {exc}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in result.errors:
        print(f"error: {error.line()}", file=sys.stderr)
    if result.success and not result.errors:
        print(f"imported {result.success_count} saved objects from {len(files)} files "
              f"into {where}")
        return 0
    print(f"ronda kibana import: {where} imported {result.success_count} of {count} saved "
          f"objects; {len(result.errors)} refused", file=sys.stderr)
    return 1
