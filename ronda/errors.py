"""Errors a user can cause. Each carries one clear line (or several, one per problem)."""

from __future__ import annotations


class RondaError(Exception):
    """Base class: a problem the user can fix; printed without a traceback."""

    exit_code = 2

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines: tuple[str, ...] = lines


class ConfigError(RondaError):
    """Invalid configuration (file, environment or flag)."""


class RuleError(RondaError):
    """A rule file that cannot be loaded."""


class InputError(RondaError):
    """A bad input argument (missing file, unknown kind)."""
