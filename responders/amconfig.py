"""Settings of the alertmanager responder, and its basic-auth header (read at start)."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from responders.amclient import basic_auth, check_url
from ronda.component import Context, ResponderConfig
from ronda.durations import Duration
from ronda.schema import Severity


class AlertmanagerConfig(ResponderConfig):
    type: Literal["alertmanager"]
    urls: list[str]
    """Alertmanager base URLs; several = an HA cluster (every alert goes to each)."""
    min_severity: Severity = Severity.HIGH
    username: str | None = None
    """Basic auth user; the password comes from ``password_file`` or ``password_env``."""
    password_file: str | None = None
    password_env: str | None = None
    timeout: Duration = Field(default="5s", validate_default=True)
    """Per request; also bounds ``flush`` and ``close``."""
    resend_interval: Duration = Field(default="60s", validate_default=True)
    """Re-post active alerts this often (keep it below Alertmanager's resolve_timeout)."""
    resolve_after: Duration = Field(default="10m", validate_default=True)
    """Resolve an alert whose id has had no update (new alert or repeat) for this long."""
    kibana_url: str | None = None
    """Adds a ``kibana`` annotation (and generatorURL) opening Discover on the alert."""
    retry_initial: Duration = Field(default="1s", validate_default=True)
    retry_max: Duration = Field(default="60s", validate_default=True)
    max_active: int = Field(default=10_000, ge=1)
    """Active alerts kept; beyond it the oldest are resolved and forgotten (counted)."""

    @field_validator("urls", mode="before")
    @classmethod
    def _one_url(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one Alertmanager URL is needed")
        urls = [check_url(u) for u in value]
        twice = sorted({u for u in urls if urls.count(u) > 1})
        if twice:
            raise ValueError(f"Alertmanager URL listed twice: {', '.join(twice)}")
        return urls

    @field_validator("kibana_url")
    @classmethod
    def _check_kibana(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError(f"invalid kibana_url {value!r} (expected http://... or https://...)")
        return value.rstrip("/")

    @field_validator("timeout", "resend_interval", "resolve_after", "retry_initial", "retry_max")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @model_validator(mode="after")
    def _check_auth_and_retry(self) -> AlertmanagerConfig:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give password_file or password_env, not both")
        has_password = self.password_file is not None or self.password_env is not None
        if has_password and not self.username:
            raise ValueError("password_file/password_env need a username")
        if self.username and not has_password:
            raise ValueError("username needs password_file or password_env")
        if self.retry_max < self.retry_initial:
            raise ValueError("retry_max must not be smaller than retry_initial")
        return self


def read_authorization(config: AlertmanagerConfig, ctx: Context) -> str | None:
    """The basic-auth header value, reading the password now. Errors name the file or
    variable, never the secret."""
    if not config.username:
        return None
    if config.password_file is not None:
        path = ctx.resolve(config.password_file)
        try:
            password = path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ValueError(f"password_file {path} cannot be read: "
                             f"{exc.strerror or type(exc).__name__}") from None
        except UnicodeDecodeError:
            raise ValueError(f"password_file {path} is not UTF-8 text") from None
        where = f"password_file {path}"
    else:
        var = config.password_env or ""
        password = os.environ.get(var, "")
        if var not in os.environ:
            raise ValueError(f"password_env: environment variable {var} is not set")
        where = f"password_env: environment variable {var}"
    if not password:
        raise ValueError(f"{where} is empty")
    return basic_auth(config.username, password)
