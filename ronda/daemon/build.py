"""Turn a loaded config into running components: validate each section, construct, load rules."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ronda.clock import Clock
from ronda.component import Context, Detector, Responder, Source
from ronda.config import LoadedConfig, validate
from ronda.daemon.registry import SECTIONS, WORLD_CHANGING
from ronda.errors import ConfigError, RondaError
from ronda.metrics import Metrics


@dataclass
class Components:
    sources: list[Source] = field(default_factory=list)
    detectors: list[Detector] = field(default_factory=list)
    responders: list[Responder] = field(default_factory=list)


def make_context(
    loaded: LoadedConfig, clock: Clock, log: logging.Logger, state_dir: Path | None = None
) -> Context:
    return Context(
        sensor=loaded.config.sensor.name,
        clock=clock,
        metrics=Metrics(),
        state_dir=state_dir or loaded.config.resolved_state_dir(),
        log=log,
        base_dir=loaded.base_dir,
    )


def _check_type(loaded: LoadedConfig, section: str, name: str, body: dict[str, Any],
                table: Mapping[str, Any], noun: str) -> type[Any]:
    kind = body.get("type")
    names = ", ".join(sorted(table))
    if kind is None:
        where = loaded.origins.lookup((section, name))
        raise ConfigError(f"{where} {section}.{name}.type: required key is missing "
                          f"(expected one of {names})")
    try:
        cls = table.get(str(kind))
    except ImportError as exc:  # a dependency of that component is not installed
        where = loaded.origins.lookup((section, name, "type"))
        raise ConfigError(f"{where} {section}.{name}.type: {kind!r} cannot be loaded: "
                          f"{exc}") from None
    if cls is None:
        where = loaded.origins.lookup((section, name, "type"))
        raise ConfigError(f"{where} {section}.{name}.type: unknown {noun} type {kind!r} "
                          f"(expected one of {names})")
    return cls  # type: ignore[no-any-return]


def _construct(loaded: LoadedConfig, section: str, name: str, cls: type[Any], cfg: Any,
               ctx: Context) -> Any:
    try:
        return cls(name, cfg, ctx)
    except RondaError:
        raise
    except (OSError, ValueError) as exc:
        where = loaded.origins.lookup((section, name))
        raise ConfigError(f"{where} {section}.{name}: {exc}") from None


def validate_section(loaded: LoadedConfig, section: str) -> dict[str, tuple[type[Any], Any]]:
    table: Mapping[str, Any] = SECTIONS[section]
    noun = section[:-1]
    out: dict[str, tuple[type[Any], Any]] = {}
    problems: list[str] = []
    for name, body in getattr(loaded.config, section).items():
        try:
            cls = _check_type(loaded, section, name, body, table, noun)
            out[name] = (cls, validate(cls.config_model, body, (section, name), loaded.origins))
        except ConfigError as exc:
            problems.extend(exc.lines)
    if problems:
        raise ConfigError(*problems)
    return out


def check_config(loaded: LoadedConfig) -> dict[str, dict[str, tuple[type[Any], Any]]]:
    """Validate every component section; all problems at once, one line each."""
    problems: list[str] = []
    checked: dict[str, dict[str, tuple[type[Any], Any]]] = {}
    for section in ("sources", "detectors", "responders"):
        try:
            checked[section] = validate_section(loaded, section)
        except ConfigError as exc:
            problems.extend(exc.lines)
    if problems:
        raise ConfigError(*problems)
    return checked


def build(
    loaded: LoadedConfig,
    ctx: Context,
    *,
    with_sources: bool = True,
    with_responders: bool = True,
    world_changing: bool = True,
) -> Components:
    checked = check_config(loaded)
    comps = Components()
    if with_sources:
        for name, (cls, cfg) in checked["sources"].items():
            comps.sources.append(_construct(loaded, "sources", name, cls, cfg, ctx))
    for name, (cls, cfg) in checked["detectors"].items():
        det: Detector = _construct(loaded, "detectors", name, cls, cfg, ctx)
        det.reload()
        comps.detectors.append(det)
    if with_responders:
        for name, (cls, cfg) in checked["responders"].items():
            if cfg.type in WORLD_CHANGING and not world_changing:
                continue
            comps.responders.append(_construct(loaded, "responders", name, cls, cfg, ctx))
    return comps
