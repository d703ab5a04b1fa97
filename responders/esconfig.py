"""Settings of the elasticsearch responder (the connection settings come from
:class:`responders.esconn.EsConnection`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from responders.esconn import EsConnection
from responders.geoip import GeoipConfig
from ronda.component import ResponderConfig
from ronda.durations import Duration, Size


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpoolSettings(_Section):
    max_bytes: Size = Field(default="1GiB", validate_default=True)
    """Disk the spool may use; when full, new alerts wait in the responder queue."""
    segment_bytes: Size = Field(default="16MiB", validate_default=True)
    """Size of one segment file; delivered segments are deleted whole."""
    fsync: Literal["always", "batch", "interval"] = "batch"
    """always: appends and acks; batch: every appended batch; interval: every fsync_interval."""
    fsync_interval: Duration = Field(default="1s", validate_default=True)

    @field_validator("segment_bytes")
    @classmethod
    def _segment(cls, value: int) -> int:
        if value < 4096:
            raise ValueError("must be at least 4KiB")
        return value

    @field_validator("fsync_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @model_validator(mode="after")
    def _room(self) -> SpoolSettings:
        if self.max_bytes < 2 * self.segment_bytes:
            raise ValueError("max_bytes must be at least twice segment_bytes")
        return self


class EventSettings(_Section):
    enabled: bool = False
    """Also index raw events into logs-ronda.<dataset>-<namespace>."""
    sample_rate: float = Field(default=1.0, gt=0.0, le=1.0)
    """Fraction of events kept (decided per event id, so stable across re-reads)."""
    datasets: list[str] | None = None
    """Only these datasets (shell patterns such as nginx.*); default: all."""


class ElasticsearchConfig(ResponderConfig, EsConnection):
    type: Literal["elasticsearch"]
    batch_size: int = Field(default=500, ge=1, le=10_000)
    """Documents per bulk request."""
    parallel_requests: int = Field(default=2, ge=1, le=8)
    """Bulk requests in flight at once (settled in order)."""
    flush_interval: Duration = Field(default="1s", validate_default=True)
    """Longest wait for a full batch before sending a smaller one."""
    setup: bool = True
    """Install the index templates when Elasticsearch is first reachable."""
    spool: SpoolSettings = SpoolSettings()
    dead_letter: str | None = None
    """Refused documents; default <state_dir>/<name>/dead-letter.jsonl (relative: in
    the state folder)."""
    dead_letter_max_bytes: Size = Field(default="100MiB", validate_default=True)
    events: EventSettings = EventSettings()
    geoip: GeoipConfig | None = None
    retry_initial: Duration = Field(default="0.5s", validate_default=True)
    retry_max: Duration = Field(default="30s", validate_default=True)
    drain_timeout: Duration = Field(default="3s", validate_default=True)
    """On shutdown, how long to keep sending while Elasticsearch accepts documents; the
    rest stays in the spool for the next start."""

    @field_validator("retry_initial", "retry_max", "dead_letter_max_bytes")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @model_validator(mode="after")
    def _retry(self) -> ElasticsearchConfig:
        if self.retry_max < self.retry_initial:
            raise ValueError("retry_max must not be smaller than retry_initial")
        return self

    def dead_letter_path(self, state_dir: Path, name: str) -> Path:
        if self.dead_letter is None:
            return state_dir / name / "dead-letter.jsonl"
        path = Path(self.dead_letter).expanduser()
        return path if path.is_absolute() else state_dir / path
