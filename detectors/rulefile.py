"""Rule files, shared by the rule-based detectors: which names are rule files, and how a
rule file's path is shown in problem lines (``rules/sigma/web/x.yml:12 ...``)."""

from __future__ import annotations

import os
from pathlib import Path

RULE_SUFFIXES = (".yml", ".yaml")


def display_path(path: Path) -> str:
    """The path as users recognise it: relative to the working folder when inside it."""
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return os.path.normpath(path)
