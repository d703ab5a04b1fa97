"""GeoIP enrichment from an mmdb file the test writes itself."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geoip2.database
import pytest

from responders.elasticsearch import ElasticsearchConfig, ElasticsearchResponder
from responders.esdocs import alert_stream
from responders.geoip import GeoIP
from tests.responders.fake_es import FakeEs
from tests.responders.mmdb import city, write_mmdb
from tests.responders.test_elasticsearch import Mono, drain, make_alert, make_ctx

NETWORKS = {
    "36.64.0.0/11": city("ID", "Indonesia", "Bandung", -6.9, 107.6, ("JB", "West Java")),
    "81.2.69.0/24": city("GB", "United Kingdom", "London", 51.5, -0.1, continent="Europe"),
    "2400:cb00::/32": city("US", "United States", "San Francisco", 37.7, -122.4,
                           continent="North America"),
    "10.0.0.0/8": city("ZZ", "Nowhere", "Private", 0.0, 0.0),  # never looked up
}
LOG = logging.getLogger("test.geoip")


@pytest.fixture
def city_db(tmp_path: Path) -> Path:
    return write_mmdb(tmp_path / "city.mmdb", NETWORKS)


def test_city_lookup_gives_ecs_geo_fields(city_db: Path) -> None:
    geo = GeoIP.open(city_db, LOG, "es")
    assert geo is not None
    assert geo.lookup("36.70.1.2") == {
        "country_iso_code": "ID", "country_name": "Indonesia", "continent_name": "Asia",
        "location": {"lat": -6.9, "lon": 107.6}, "city_name": "Bandung",
        "region_name": "West Java", "region_iso_code": "ID-JB"}
    assert geo.lookup("2400:cb00::1")["city_name"] == "San Francisco"  # type: ignore[index]
    assert geo.lookup("::ffff:81.2.69.160")["city_name"] == "London"  # type: ignore[index]
    assert geo.lookup("8.8.8.8") is None  # not in the database


@pytest.mark.parametrize("ip", ["10.1.2.3", "127.0.0.1", "192.168.1.1", "169.254.0.1",
                                "::1", "fe80::1", "203.0.113.5", "not-an-ip", ""])
def test_non_public_or_invalid_addresses_are_not_looked_up(city_db: Path, ip: str) -> None:
    geo = GeoIP.open(city_db, LOG, "es")
    assert geo is not None and geo.lookup(ip) is None


def test_lookups_are_cached(city_db: Path) -> None:
    geo = GeoIP(geoip2.database.Reader(str(city_db)), cache_size=2)
    for _ in range(5):
        geo.lookup("36.70.1.2")
    info = geo._lookup.cache_info()
    assert (info.hits, info.misses) == (4, 1)


def test_country_database(tmp_path: Path) -> None:
    db = write_mmdb(tmp_path / "country.mmdb", {
        "36.64.0.0/11": {"country": {"iso_code": "ID", "names": {"en": "Indonesia"}},
                         "continent": {"code": "AS", "names": {"en": "Asia"}}}},
        database_type="DBIP-Country-Lite")
    geo = GeoIP.open(db, LOG, "es")
    assert geo is not None
    assert geo.lookup("36.70.1.2") == {"country_iso_code": "ID", "country_name": "Indonesia",
                                       "continent_name": "Asia"}


def test_enrich_adds_geo_to_source_and_destination(city_db: Path) -> None:
    geo = GeoIP.open(city_db, LOG, "es")
    assert geo is not None
    doc: dict[str, Any] = {"source": {"ip": "81.2.69.1"}, "destination": {"ip": "10.0.0.1"}}
    geo.enrich(doc)
    assert doc["source"]["geo"]["country_iso_code"] == "GB"
    assert "geo" not in doc["destination"]
    keep = {"source": {"ip": "81.2.69.1", "geo": {"city_name": "Given"}}}
    geo.enrich(keep)
    assert keep["source"]["geo"] == {"city_name": "Given"}  # what the alert says wins


@pytest.mark.parametrize(("content", "words"), [
    (None, "does not exist"), (b"not an mmdb at all", "cannot be read")])
def test_missing_or_broken_database_is_one_warning_and_no_enrichment(
        tmp_path: Path, caplog: Any, content: bytes | None, words: str) -> None:
    path = tmp_path / "GeoLite2-City.mmdb"
    if content is not None:
        path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="test.geoip"):
        assert GeoIP.open(path, LOG, "es") is None
    (record,) = caplog.records
    assert words in record.getMessage() and str(path) in record.getMessage()


def test_wrong_kind_of_database_is_a_warning(tmp_path: Path, caplog: Any) -> None:
    db = write_mmdb(tmp_path / "asn.mmdb", {"36.64.0.0/11": {"autonomous_system_number": 7713}},
                    database_type="GeoLite2-ASN")
    with caplog.at_level(logging.WARNING, logger="test.geoip"):
        assert GeoIP.open(db, LOG, "es") is None
    assert "not a city or country database" in caplog.text


def test_the_responder_enriches_alerts(tmp_path: Path, city_db: Path) -> None:
    fake = FakeEs()
    ctx = make_ctx(tmp_path)
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": ["http://127.0.0.1:9200"], "setup": False,
        "flush_interval": 0, "geoip": {"database": str(city_db)}})
    mono = Mono()
    r = ElasticsearchResponder("es", config, ctx, client=fake.client(), background=False,
                               monotonic=mono)
    r.handle([make_alert(1, ip="36.90.4.4"), make_alert(2, ip="192.168.0.9")])
    drain(r, mono)
    docs = {d["source"]["ip"]: d for d in fake.docs(alert_stream("default")).values()}
    assert docs["36.90.4.4"]["source"]["geo"]["location"] == {"lat": -6.9, "lon": 107.6}
    assert docs["36.90.4.4"]["source"]["geo"]["city_name"] == "Bandung"
    assert "geo" not in docs["192.168.0.9"]["source"]
    r.close()


def test_the_responder_runs_without_its_missing_database(tmp_path: Path, caplog: Any) -> None:
    fake = FakeEs()
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": ["http://127.0.0.1:9200"], "setup": False,
        "flush_interval": 0, "geoip": {"database": "missing.mmdb"}})
    mono = Mono()
    with caplog.at_level(logging.WARNING, logger="test.es"):
        r = ElasticsearchResponder("es", config, make_ctx(tmp_path), client=fake.client(),
                                   background=False, monotonic=mono)
    assert "missing.mmdb does not exist" in caplog.text
    r.handle([make_alert(1, ip="36.90.4.4")])
    drain(r, mono)
    (doc,) = fake.docs(alert_stream("default")).values()
    assert "geo" not in doc["source"]
    r.close()
