"""GeoIP enrichment: ``source.geo.*`` (and ``destination.geo.*``) from an mmdb file.

The user supplies a MaxMind GeoIP2/GeoLite2 or DB-IP database, city or country level::

    geoip: {database: /var/lib/ronda/GeoLite2-City.mmdb, cache_size: 10000}

Adds ``<side>.geo.location`` (``{lat, lon}``, a geo_point), ``country_iso_code``,
``country_name``, ``continent_name``, ``city_name``, ``region_name`` and
``region_iso_code`` where the database knows them. Addresses that are not globally
routable (private, loopback, link-local, documentation, ...) are not looked up. Lookups
are cached (LRU). A database that is missing or unreadable is one warning line when the
responder starts and no enrichment, never an error: alerts flow without it.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from pathlib import Path
from typing import Any

import geoip2.database
import geoip2.errors
import maxminddb
from pydantic import BaseModel, ConfigDict, Field

SIDES = ("source", "destination")
Geo = dict[str, Any]


class GeoipConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str
    """An mmdb file (MaxMind GeoIP2/GeoLite2 or DB-IP, City or Country)."""
    cache_size: int = Field(default=10_000, ge=0)
    """Addresses whose lookup result is kept in memory."""


class GeoIP:
    """Looks addresses up in one mmdb database; :meth:`enrich` adds ``*.geo`` to a doc."""

    def __init__(self, reader: geoip2.database.Reader, cache_size: int = 10_000) -> None:
        self._reader = reader
        kind = reader.metadata().database_type
        self._city = "City" in kind
        if not self._city and "Country" not in kind:
            raise ValueError(f"not a city or country database (type {kind!r})")
        self._lookup = functools.lru_cache(maxsize=cache_size)(self._lookup_uncached)

    @classmethod
    def open(cls, path: Path, log: logging.Logger, who: str,
             cache_size: int = 10_000) -> GeoIP | None:
        """The database at ``path``, or None (one warning line) when it cannot be used."""
        try:
            reader = geoip2.database.Reader(str(path))
        except FileNotFoundError:
            log.warning("%s: GeoIP database %s does not exist; alerts go without source.geo",
                        who, path)
            return None
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            log.warning("%s: GeoIP database %s cannot be read (%s); alerts go without "
                        "source.geo", who, path, reason)
            return None
        try:
            return cls(reader, cache_size)
        except ValueError as exc:
            reader.close()
            log.warning("%s: GeoIP database %s: %s; alerts go without source.geo",
                        who, path, exc)
            return None

    def close(self) -> None:
        self._reader.close()

    def lookup(self, ip: str) -> Geo | None:
        """ECS ``geo`` fields for ``ip``; None when unknown, not public or not an address."""
        return self._lookup(ip)

    def enrich(self, doc: dict[str, Any]) -> None:
        """Add ``source.geo`` / ``destination.geo`` to an (unflattened) ECS document."""
        for side in SIDES:
            part = doc.get(side)
            if not isinstance(part, dict) or "geo" in part:
                continue
            ip = part.get("ip")
            if isinstance(ip, str):
                geo = self._lookup(ip)
                if geo is not None:
                    part["geo"] = dict(geo)

    def _lookup_uncached(self, ip: str) -> Geo | None:
        try:
            addr = ipaddress.ip_address(ip.strip())
        except ValueError:
            return None
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if not addr.is_global:
            return None
        try:
            if self._city:
                resp: Any = self._reader.city(addr)
            else:
                resp = self._reader.country(addr)
        except (geoip2.errors.AddressNotFoundError, ValueError, maxminddb.InvalidDatabaseError):
            return None
        return _geo(resp, self._city) or None


def _geo(resp: Any, city: bool) -> Geo:
    geo: Geo = {}
    if resp.country.iso_code:
        geo["country_iso_code"] = resp.country.iso_code
    if resp.country.name:
        geo["country_name"] = resp.country.name
    if resp.continent.name:
        geo["continent_name"] = resp.continent.name
    if city:
        loc = resp.location
        if loc.latitude is not None and loc.longitude is not None:
            geo["location"] = {"lat": loc.latitude, "lon": loc.longitude}
        if resp.city.name:
            geo["city_name"] = resp.city.name
        region = resp.subdivisions.most_specific
        if region.name:
            geo["region_name"] = region.name
        if region.iso_code and resp.country.iso_code:
            geo["region_iso_code"] = f"{resp.country.iso_code}-{region.iso_code}"
    return geo
