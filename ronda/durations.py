"""Durations and sizes as users write them: ``90s``, ``5m``, ``1h``, ``30d``, ``512MiB``."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_DUR_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB|k|K|M|G)?\s*$")
_SIZE_UNITS = {
    "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "k": 1024, "K": 1024, "M": 1024**2,
    "G": 1024**3, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3,
}


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``90s``, ``5m``, ``1.5h``, ``30d``, ``2w``, ``250ms``."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r} (expected e.g. 30s, 5m, 1h, 7d)")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"invalid duration {value!r} (must not be negative)")
        return float(value)
    m = _DUR.match(str(value))
    if not m:
        raise ValueError(f"invalid duration {value!r} (expected e.g. 30s, 5m, 1h, 7d)")
    return float(m.group(1)) * _DUR_UNITS[m.group(2) or "s"]


def parse_size(value: Any) -> int:
    """Bytes from ``1048576``, ``512MiB``, ``2G``, ``100MB``."""
    if isinstance(value, bool):
        raise ValueError(f"invalid size {value!r} (expected e.g. 512MiB, 2GiB)")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"invalid size {value!r} (must not be negative)")
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"invalid size {value!r} (expected e.g. 512MiB, 2GiB)")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2) or "B"])


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
