"""Where the shipped config, rules and demo data live, and which config file is used."""

from __future__ import annotations

import os
from pathlib import Path

import ronda

PROJECT_DIR = Path(ronda.__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_DIR / "config" / "ronda.yaml"
DEMO_DIR = Path(ronda.__file__).resolve().parent / "data" / "demo"
SYSTEM_CONFIG = Path("/etc/ronda/ronda.yaml")


def config_path(flag: str | None) -> Path:
    """``-c FILE``, else ``$RONDA_CONFIG``, else /etc/ronda/ronda.yaml, else the shipped one."""
    if flag:
        return Path(flag)
    env = os.environ.get("RONDA_CONFIG")
    if env:
        return Path(env)
    if SYSTEM_CONFIG.exists():
        return SYSTEM_CONFIG
    return DEFAULT_CONFIG


def display_path(path: Path) -> str:
    """Show paths inside the working directory relative to it, as users typed them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
