"""Shared by the commands: load the config named by the flags, set up logging."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ronda.config import LoadedConfig, load_config
from ronda.daemon.paths import config_path, display_path


def load_from_args(args: argparse.Namespace) -> LoadedConfig:
    path = config_path(getattr(args, "config", None))
    sets = list(getattr(args, "sets", []) or [])
    state_dir = getattr(args, "state_dir", None)
    if state_dir:
        sets.append(f"state_dir={Path(state_dir).resolve()}")
    return load_config(path, display=display_path(path), sets=tuple(sets))


def setup_logging(level: str, stream: object = None) -> logging.Logger:
    log = logging.getLogger("ronda")
    log.handlers.clear()
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter(
        "%(asctime)s ronda %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    log.addHandler(handler)
    log.setLevel(level.upper())
    log.propagate = False
    return log
