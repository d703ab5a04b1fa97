"""Checks before any test runs."""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "build" / "compiled-sources.json"


def pytest_sessionstart(session: pytest.Session) -> None:
    """The packet hot path is compiled in place (setup.py): a module edited after its
    build would be tested as the stale compiled copy. Stop with the remedy instead."""
    compiled = [p for s in importlib.machinery.EXTENSION_SUFFIXES
                for p in ROOT.glob(f"sensor/**/*{s}")]
    if not compiled:
        return  # pure Python (RONDA_PURE_PYTHON=1 or no compiler): nothing can be stale
    try:
        record: dict[str, str] = json.loads(RECORD.read_text())
    except (OSError, ValueError):
        record = {}
    stale = [m for m, digest in record.items()
             if not (ROOT / m).exists()
             or hashlib.sha256((ROOT / m).read_bytes()).hexdigest() != digest]
    # a compiled module no longer listed would still shadow its source
    for ext in compiled:
        source = str(ext.relative_to(ROOT)).split(".", 1)[0] + ".py"
        if source not in record and not ext.name.startswith("hotpath__mypyc"):
            stale.append(str(ext.relative_to(ROOT)))
    if stale or not record:
        raise pytest.UsageError(
            f"changed since compiled: {', '.join(sorted(stale)) or 'unknown build'}; rebuild "
            "with scripts/setup-python.sh test (or .venv/bin/python setup.py build_ext "
            "--inplace)")
