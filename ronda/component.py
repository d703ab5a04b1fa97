"""Base classes for the three stages. Stage packages subclass these; ronda.daemon wires them."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ronda.clock import Clock
from ronda.durations import Duration
from ronda.metrics import Metrics
from ronda.schema import Alert, Event, RuleRef, Severity

# A source hands the pipeline a batch of events and the position *after* that batch
# (JSON-serialisable, opaque to the pipeline). The pipeline saves the position as the
# source's checkpoint once everything before it has been handled.
Emit = Callable[[list[Event], Any], None]


@dataclass(frozen=True)
class Context:
    """What every component gets besides its own settings."""

    sensor: str
    clock: Clock
    metrics: Metrics
    state_dir: Path
    log: logging.Logger
    base_dir: Path = Path(".")

    def resolve(self, path: str | Path) -> Path:
        """Resolve a config path: ``~`` expanded, relative to the config file's folder."""
        try:
            p = Path(path).expanduser()
        except RuntimeError:  # ~user of a user that does not exist: keep it as written
            p = Path(path)
        return p if p.is_absolute() else (self.base_dir / p)


class ComponentConfig(BaseModel):
    """Settings of one named component; ``type`` picks the class from the registry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str


class SourceConfig(ComponentConfig):
    queue_size: int = Field(default=10_000, ge=1)
    overflow: Literal["block", "drop_newest"] = "block"
    # Longest silence that is normal for this source; exported so Prometheus can page
    # when a source goes blind (rotation broken, interface down). None: no expectation.
    expected_interval: Duration | None = None


class DetectorConfig(ComponentConfig):
    pass


class ResponderConfig(ComponentConfig):
    queue_size: int = Field(default=10_000, ge=1)
    # drop_oldest / drop_newest: a slow responder loses alerts (counted), never stalls
    # detection. block: detection waits for it (lossless, for archives).
    overflow: Literal["drop_oldest", "drop_newest", "block"] = "drop_oldest"
    min_severity: Severity = Severity.LOW


class Source(ABC):
    config_model: ClassVar[type[SourceConfig]] = SourceConfig
    finite: bool = False  # True for replay inputs that end

    def __init__(self, name: str, config: Any, ctx: Context) -> None:
        self.name = name
        self.config = config
        self.ctx = ctx

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Acquire what the config can make fail (listening sockets) before the pipeline
        starts, so a mistake is one line and exit 2, not a retry loop. Raise ConfigError."""

    def restore(self, position: Any) -> None:  # noqa: B027 - optional hook
        """Resume from a saved position (the last one passed to ``emit``)."""

    @abstractmethod
    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Read until ``stop`` is set (or the input ends, for finite sources)."""


class Detector(ABC):
    config_model: ClassVar[type[DetectorConfig]] = DetectorConfig

    def __init__(self, name: str, config: Any, ctx: Context) -> None:
        self.name = name
        self.config = config
        self.ctx = ctx

    @abstractmethod
    def reload(self) -> int:
        """(Re)load rules atomically; return the rule count. Raise RuleError and keep
        the running rules when the new ones are broken."""

    @abstractmethod
    def process(self, events: Sequence[Event]) -> list[Alert]:
        """Examine a batch; return the alerts it raises."""

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        """The rules running now, for ``ronda rules list``."""
        return []


class Responder(ABC):
    config_model: ClassVar[type[ResponderConfig]] = ResponderConfig
    wants_events: bool = False

    def __init__(self, name: str, config: Any, ctx: Context) -> None:
        self.name = name
        self.config = config
        self.ctx = ctx

    @abstractmethod
    def handle(self, alerts: Sequence[Alert]) -> None:
        """Act on alerts (new ones, and updates of the same id with a larger count)."""

    def handle_events(self, events: Sequence[Event]) -> None:  # noqa: B027 - optional hook
        """Receive raw events (only when ``wants_events``)."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make everything handled so far durable."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (after the last flush)."""
