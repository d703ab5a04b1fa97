"""Ronda's pySigma processing pipeline and the logsource -> dataset table.

Rules written for Sigma's taxonomy (SigmaHQ ``rules/web`` and ``rules/linux``) use field
names such as ``cs-uri-query`` or ``c-ip``; Ronda's events carry ECS names. The pipeline
returned by :func:`ronda_pipeline` renames them (pySigma ``FieldMappingTransformation``);
names it does not know pass through unchanged, so rules may use ECS names directly. The
same pipeline serves ``ronda rules export --format elasticsearch``.

Which events a rule looks at follows from its ``logsource``: :data:`LOGSOURCE_DATASETS`
maps each logsource attribute value to the datasets Ronda's sources produce for it; a
rule's datasets are the intersection over the attributes it names. An empty result means
no Ronda source produces that logsource: the rule loads but is inactive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    FieldMappingTransformation,
    ValueListPlaceholderTransformation,
)
from sigma.rule import SigmaLogSource

WEB_DATASETS = ("nginx.access", "apache.access", "http")

WEBSERVER_FIELDS: Mapping[str, str] = {
    "c-ip": "source.ip",
    "c-uri": "url.original",
    "cs-uri": "url.original",
    "cs-uri-stem": "url.path",
    "c-uri-stem": "url.path",
    "cs-uri-query": "url.query",
    "c-uri-query": "url.query",
    "c-uri-extension": "url.extension",
    "cs-method": "http.request.method",
    "sc-status": "http.response.status_code",
    "cs-user-agent": "user_agent.original",
    "c-useragent": "user_agent.original",
    "cs-referer": "http.request.referrer",
    "cs-referrer": "http.request.referrer",
    "cs-host": "url.domain",
    "cs-bytes": "http.request.bytes",
    "sc-bytes": "http.response.body.bytes",
    "cs-version": "http.version",
    "cs-username": "user.name",
    "s-ip": "destination.ip",
    "s-port": "destination.port",
}
"""Sigma webserver (W3C extended log) taxonomy -> ECS, for ``category: webserver``."""

LINUX_FIELDS: Mapping[str, str] = {
    "user": "user.name",
    "user_name": "user.name",
    "username": "user.name",
    "client_ip": "source.ip",
    "src_ip": "source.ip",
    "host": "host.hostname",
    "hostname": "host.hostname",
    "deviceProcessName": "process.name",
    "process": "process.name",
    "pid": "process.pid",
}
"""Common field names of Linux auth/syslog rules -> ECS, for ``product: linux``."""

SUDO_FIELDS: Mapping[str, str] = {
    "USER": "user.effective.name",
    "COMMAND": "process.command_line",
    "PWD": "process.working_directory",
    "TTY": "system.auth.sudo.tty",
}
"""The key=value parts of a sudo log line -> ECS, for ``service: sudo``."""

LOGSOURCE_DATASETS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "category": {
        "webserver": WEB_DATASETS,
    },
    "product": {
        "linux": ("sshd.auth", "system.auth", "syslog"),
        "nginx": ("nginx.access",),
        "apache": ("apache.access",),
    },
    "service": {
        "sshd": ("sshd.auth",),
        "auth": ("sshd.auth", "system.auth"),
        "sudo": ("system.auth",),
        "syslog": ("syslog",),
    },
}
"""Logsource attribute -> value -> datasets of Ronda events. Extend it when a new source
produces a new kind of event (``category: dns`` -> ``dns`` ...)."""


def datasets_for(
    logsource: SigmaLogSource, table: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None
) -> frozenset[str]:
    """Datasets a rule with this logsource applies to (empty: no Ronda source produces it)."""
    table = LOGSOURCE_DATASETS if table is None else table
    result: frozenset[str] | None = None
    for attribute in ("category", "product", "service"):
        value = getattr(logsource, attribute)
        if value is None:
            continue
        found = frozenset(table.get(attribute, {}).get(str(value).lower(), ()))
        result = found if result is None else result & found
    return result or frozenset()


def describe_logsource(logsource: SigmaLogSource) -> str:
    """``category=webserver product=nginx`` (the attributes the rule names)."""
    parts = [
        f"{attribute}={_short(value)}"
        for attribute in ("category", "product", "service")
        if (value := getattr(logsource, attribute)) is not None
    ]
    return " ".join(parts) or "(empty)"


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def ronda_pipeline(
    placeholders: Mapping[str, Sequence[str | int]] | None = None,
) -> ProcessingPipeline:
    """A new pipeline: taxonomy field names -> ECS; ``%name%`` placeholders of values
    with the ``expand`` modifier -> the values given for ``name`` (when given).

    Placeholders without values are left in place (the Ronda compiler reports them).
    """
    items = [
        ProcessingItem(
            identifier="ronda_webserver_fields",
            transformation=FieldMappingTransformation(_mapping(WEBSERVER_FIELDS)),
            rule_conditions=[LogsourceCondition(category="webserver")],
        ),
        ProcessingItem(
            identifier="ronda_sudo_fields",
            transformation=FieldMappingTransformation(_mapping(SUDO_FIELDS)),
            rule_conditions=[LogsourceCondition(service="sudo")],
        ),
        ProcessingItem(
            identifier="ronda_linux_fields",
            transformation=FieldMappingTransformation(_mapping(LINUX_FIELDS)),
            rule_conditions=[LogsourceCondition(product="linux")],
        ),
    ]
    values: dict[str, list[str | int]] = {k: list(v) for k, v in (placeholders or {}).items()}
    if values:
        items.append(
            ProcessingItem(
                identifier="ronda_placeholders",
                transformation=ValueListPlaceholderTransformation(include=sorted(values)),
            )
        )
    return ProcessingPipeline(items=items, vars=values, name="ronda")


def _mapping(fields: Mapping[str, str]) -> dict[str | None, str | list[str]]:
    return {k: v for k, v in fields.items()}
