"""Ronda's processing pipeline (field mapping, placeholders) and the logsource table."""

from __future__ import annotations

import pytest
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaLogSource, SigmaRule

from detectors.sigma.pipeline import (
    LOGSOURCE_DATASETS,
    WEBSERVER_FIELDS,
    datasets_for,
    describe_logsource,
    ronda_pipeline,
)


def fields_after(rule: dict[str, object], **kw: object) -> list[str | None]:
    sigma = SigmaRule.from_dict(rule)
    ronda_pipeline(**kw).apply(sigma)  # type: ignore[arg-type]
    return [item.field for det in sigma.detection.detections.values()
            for item in det.detection_items]  # type: ignore[union-attr]


def test_is_a_pysigma_pipeline() -> None:
    assert isinstance(ronda_pipeline(), ProcessingPipeline)
    assert ronda_pipeline() is not ronda_pipeline()  # fresh each call (it keeps state)


def test_webserver_taxonomy_maps_to_ecs() -> None:
    detection = {f"s{i}": {name: "x"} for i, name in enumerate(WEBSERVER_FIELDS)}
    detection["condition"] = "1 of them"
    rule = {"title": "t", "logsource": {"category": "webserver"}, "detection": detection}
    assert fields_after(rule) == list(WEBSERVER_FIELDS.values())
    assert WEBSERVER_FIELDS["cs-uri-query"] == "url.query"
    assert WEBSERVER_FIELDS["c-ip"] == "source.ip"
    assert WEBSERVER_FIELDS["sc-status"] == "http.response.status_code"


def test_mapping_depends_on_logsource_and_ecs_names_pass_through() -> None:
    rule = {"title": "t", "logsource": {"product": "linux", "service": "sudo"},
            "detection": {"s": {"USER": "root", "c-ip": "x", "user": "a",
                                "process.name": "sudo"}, "condition": "s"}}
    assert fields_after(rule) == ["user.effective.name", "c-ip", "user.name", "process.name"]
    rule["logsource"] = {"category": "webserver"}
    assert fields_after(rule) == ["USER", "source.ip", "user", "process.name"]


def test_placeholders() -> None:
    rule = {"title": "t", "logsource": {"category": "webserver"},
            "detection": {"s": {"c-uri|expand": "%paths%"}, "condition": "s"}}
    sigma = SigmaRule.from_dict(rule)
    ronda_pipeline({"paths": ["/a", "/b"]}).apply(sigma)
    values = [str(v) for v in sigma.detection.detections["s"].detection_items[0].value]
    assert values == ["/a", "/b"]


@pytest.mark.parametrize(("logsource", "datasets"), [
    ({"category": "webserver"}, {"nginx.access", "apache.access", "http"}),
    ({"category": "webserver", "product": "nginx"}, {"nginx.access"}),
    ({"product": "linux", "service": "sshd"}, {"sshd.auth"}),
    ({"product": "linux", "service": "auth"}, {"sshd.auth", "system.auth"}),
    ({"service": "sudo"}, {"system.auth"}),
    ({"product": "linux", "service": "syslog"}, {"syslog"}),
    ({"product": "linux"}, {"sshd.auth", "system.auth", "syslog"}),
    ({"category": "process_creation", "product": "linux"}, set()),
    ({"product": "windows", "service": "security"}, set()),
    ({"category": "WebServer"}, {"nginx.access", "apache.access", "http"}),
])
def test_logsource_datasets(logsource: dict[str, str], datasets: set[str]) -> None:
    assert datasets_for(SigmaLogSource.from_dict(logsource)) == datasets


def test_logsource_table_is_data() -> None:
    table = {**LOGSOURCE_DATASETS, "category": {"dns": ("dns",)}}
    assert datasets_for(SigmaLogSource(category="dns"), table) == {"dns"}
    assert describe_logsource(SigmaLogSource(category="dns", product="zeek")) == \
        "category=dns product=zeek"
