"""Top-level configuration models and one-line validation errors.

Component settings (``sources.*``, ``detectors.*``, ``responders.*``) are validated by the
daemon against the config model of the class their ``type:`` names in the registry.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ronda.configfile import Origins, Path_, format_path
from ronda.durations import Duration
from ronda.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SensorSettings(_Strict):
    name: str = Field(default_factory=socket.gethostname, min_length=1)


def parse_listen(value: str) -> tuple[str, int]:
    """``127.0.0.1:9617``, ``[::1]:9617`` or ``:9617`` (loopback) to (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"invalid listen address {value!r} (expected HOST:PORT)")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


class MetricsSettings(_Strict):
    enabled: bool = True
    listen: str = "127.0.0.1:9617"

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        parse_listen(v)
        return v


class PipelineSettings(_Strict):
    aggregate_window: Duration = 300.0
    max_open_alerts: int = Field(default=100_000, ge=10)
    checkpoint_interval: Duration = 2.0
    shutdown_timeout: Duration = 8.0
    source_restart_delay: Duration = 5.0


class LoggingSettings(_Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"


class RondaConfig(_Strict):
    sensor: SensorSettings = SensorSettings()
    state_dir: str = "auto"
    metrics: MetricsSettings = MetricsSettings()
    pipeline: PipelineSettings = PipelineSettings()
    logging: LoggingSettings = LoggingSettings()
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    detectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    responders: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("sources", "detectors", "responders", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v

    def resolved_state_dir(self) -> Path:
        if self.state_dir != "auto":
            try:
                return Path(self.state_dir).expanduser()
            except RuntimeError:
                raise ConfigError(f"state_dir {self.state_dir!r}: no such user") from None
        if os.geteuid() == 0:
            return Path("/var/lib/ronda")
        xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(xdg) / "ronda"


@dataclass(frozen=True)
class LoadedConfig:
    """The validated top level, the raw component sections and where every key came from."""

    config: RondaConfig
    origins: Origins
    display: str
    base_dir: Path


def validate(model: type[M], data: Any, prefix: Path_, origins: Origins) -> M:
    """Validate ``data`` against ``model``; ConfigError with one line per problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(*error_lines(exc, model, prefix, origins)) from None


def error_lines(
    exc: ValidationError, model: type[BaseModel], prefix: Path_, origins: Origins
) -> list[str]:
    found: list[tuple[str, int, str]] = []
    for err in exc.errors():
        loc: Path_ = (*prefix, *[p for p in err["loc"] if not _is_union_tag(p)])
        where = origins.lookup(loc)
        file, _, line = where.rpartition(":")
        order = (file, int(line)) if line.isdigit() else (where, 0)
        found.append((*order, f"{where} {format_path(loc)}: {_message(err, model, loc, prefix)}"))
    return [text for _, _, text in sorted(found, key=lambda f: (f[0], f[1]))]


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part.startswith(("function-", "literal["))


def _message(err: Any, model: type[BaseModel], loc: Path_, prefix: Path_) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _submodel(model, loc[len(prefix):-1])
        allowed = ", ".join(sorted(parent.model_fields)) if parent else ""
        return f"unknown key (expected one of {allowed})" if allowed else "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"unknown value {err.get('input')!r} (expected one of {_plain(expected)})"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    return f"{err['msg']} (got {err.get('input')!r})" if "input" in err else str(err["msg"])


def _plain(expected: str) -> str:
    return expected.replace("'", "").replace(" or ", ", ")


def _submodel(model: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    current: type[BaseModel] = model
    for part in path:
        field = current.model_fields.get(str(part))
        ann = field.annotation if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        current = ann
    return current


def load_config(
    path: Path | None,
    *,
    display: str | None = None,
    env: dict[str, str] | None = None,
    sets: tuple[str, ...] = (),
) -> LoadedConfig:
    """defaults < file < RONDA_* environment < ``--set`` flags; validated top level."""
    from ronda.configfile import apply_env, apply_flags, default_env, load_yaml

    origins = Origins()
    data: dict[str, Any] = {}
    base_dir = Path.cwd()
    shown = display or "<defaults>"
    if path is not None:
        shown = display or str(path)
        data = load_yaml(path, shown, origins)
        base_dir = path.resolve().parent
    apply_env(data, env if env is not None else dict(default_env()), origins)
    apply_flags(data, sets, origins)
    config = validate(RondaConfig, data, (), origins)
    for section in ("sources", "detectors", "responders"):
        for name, body in getattr(config, section).items():
            if not isinstance(body, dict):
                where = origins.lookup((section, name))
                raise ConfigError(f"{where} {section}.{name}: expected a mapping with a type")
    return LoadedConfig(config=config, origins=origins, display=shown, base_dir=base_dir)
