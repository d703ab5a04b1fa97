"""Config field types shared by the network detectors."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from detectors.net.netset import validate_cidrs

CidrList = Annotated[list[str], AfterValidator(validate_cidrs)]
"""Addresses or CIDRs; a bad entry is a config error naming it."""
