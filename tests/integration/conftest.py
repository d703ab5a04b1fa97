"""Elasticsearch fixtures (and only those): one real server per pytest session.

``es_server`` (session): the running :class:`EsServer`, stopped at the end.
``es`` (function): the same server, started again if a test left it stopped, with every
data stream, index, template and ILM policy of earlier tests deleted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.esserver import EsServer


@pytest.fixture(scope="session")
def es_server() -> Iterator[EsServer]:
    try:
        server = EsServer()
    except AssertionError as exc:  # not installed: fail (never skip), naming the script
        pytest.fail(str(exc), pytrace=False)
    try:
        server.start()
        server.snapshot_builtins()
        yield server
    finally:
        server.close()


@pytest.fixture
def es(es_server: EsServer) -> EsServer:
    es_server.reset()
    return es_server
