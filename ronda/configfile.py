"""Load YAML config with the origin (file and line) of every key, and merge overrides.

Layers: defaults < file < RONDA_* environment < flags. Each value remembers where it came
from, so a validation error can say ``config/ronda.yaml:14 sources.web.format: ...``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ronda.errors import ConfigError

Path_ = tuple[str | int, ...]
ENV_PREFIX = "RONDA_"
ENV_RESERVED = {"RONDA_CONFIG", "RONDA_LOG_LEVEL_OVERRIDE"}


class Origins:
    """Maps key paths to a human-readable origin such as ``config/ronda.yaml:14``."""

    def __init__(self) -> None:
        self._by_path: dict[Path_, str] = {}

    def set(self, path: Path_, origin: str) -> None:
        self._by_path[path] = origin

    def lookup(self, path: Path_) -> str:
        """The origin of the longest known prefix of ``path`` (the value, or its parent)."""
        for n in range(len(path), -1, -1):
            got = self._by_path.get(tuple(path[:n]))
            if got is not None:
                return got
        return "<defaults>"


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def load_yaml(path: Path, display: str, origins: Origins) -> dict[str, Any]:
    """Parse a YAML mapping, recording the line of each key; one clear line on error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{display}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{display}: cannot read config file: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(f"{display}: YAML nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{display}{line}: YAML syntax error: {problem}") from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{display}:{node.start_mark.line + 1}: the config must be a mapping")
    _record(node, (), display, origins)
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(f"{display}: YAML nested too deeply") from None
    except yaml.YAMLError as exc:  # constructor errors (bad tags, ...)
        raise ConfigError(f"{display}: YAML error: {str(exc).splitlines()[0]}") from None
    return dict(data)


def _record(node: yaml.Node, path: Path_, display: str, origins: Origins) -> None:
    origins.set(path, f"{display}:{node.start_mark.line + 1}")
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{display}:{line} {format_path((*path, key))}: duplicate key")
            seen.add(key)
            origins.set((*path, key), f"{display}:{key_node.start_mark.line + 1}")
            _record(value_node, (*path, key), display, origins)
            origins.set((*path, key), f"{display}:{key_node.start_mark.line + 1}")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record(item, (*path, i), display, origins)


def parse_scalar(text: str, origin: str) -> Any:
    """Environment and flag values are YAML scalars: ``true``, ``5``, ``[a, b]``, ``1h``."""
    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        raise ConfigError(f"{origin}: cannot parse value {text!r}") from None


def set_path(data: dict[str, Any], path: list[str], value: Any, origin: str) -> None:
    node: dict[str, Any] = data
    for i, part in enumerate(path[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            where = format_path(path[: i + 1])
            raise ConfigError(f"{origin}: {where} is not a mapping, cannot set {format_path(path)}")
        node = nxt
    node[path[-1]] = value


def apply_env(
    data: dict[str, Any], env: Mapping[str, str], origins: Origins
) -> dict[str, Any]:
    """``RONDA_SOURCES__WEB__PATH=/x`` sets ``sources.web.path`` (``__`` separates levels)."""
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in ENV_RESERVED:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX):].split("__") if p]
        if not parts:
            continue
        origin = f"environment {name}"
        set_path(data, parts, parse_scalar(env[name], origin), origin)
        origins.set(tuple(parts), origin)
    return data


def apply_flags(data: dict[str, Any], sets: Iterable[str], origins: Origins) -> dict[str, Any]:
    """``--set sources.web.path=/x`` (repeatable)."""
    for item in sets:
        key, sep, raw = item.partition("=")
        origin = f"flag --set {item}"
        if not sep or not key.strip():
            raise ConfigError(f"{origin}: expected KEY.PATH=VALUE")
        parts = [p for p in key.strip().split(".") if p]
        set_path(data, parts, parse_scalar(raw, origin), origin)
        origins.set(tuple(parts), origin)
    return data


def default_env() -> Mapping[str, str]:
    return os.environ
