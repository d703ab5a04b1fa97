"""Connection settings for Elasticsearch: validation, secrets, the client, error kinds."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, ConnectionTimeout, HttpHeaders, NodeConfig
from elastic_transport import ConnectionError as TransportConnectionError
from elasticsearch import ApiError
from pydantic import ValidationError

from responders.esconn import (
    EsConnection,
    classify,
    client_options,
    describe,
    make_client,
    parse_version,
)
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.config import validate
from ronda.configfile import Origins
from ronda.errors import ConfigError
from ronda.metrics import Metrics

SECRET = "c2VjcmV0LWFwaS1rZXktdmFsdWU="


def ctx(base: Path) -> Context:
    return Context(sensor="t", clock=ManualClock(0), metrics=Metrics(), state_dir=base,
                   log=logging.getLogger("test.esconn"), base_dir=base)


def error_of(**kw: Any) -> str:
    """The lines a user sees (ronda.config.validate: no input values echoed back)."""
    with pytest.raises(ConfigError) as exc:
        validate(EsConnection, kw, ("responders", "es"), Origins())
    return "\n".join(exc.value.lines)


def api_error(status: int, body: Any = None) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(),
                           duration=0.0, node=NodeConfig("http", "127.0.0.1", 9200))
    return ApiError("error", meta=meta, body=body or {})


def test_defaults_and_one_host_as_a_string() -> None:
    c = EsConnection.model_validate({"hosts": "https://es1.pemda.go.id:9200/"})
    assert c.hosts == ["https://es1.pemda.go.id:9200"]
    assert (c.verify_certs, c.request_timeout, c.namespace, c.auth) == (
        True, 10.0, "default", "none")
    timeout = EsConnection.model_validate({"hosts": ["http://a:9200"], "request_timeout": "30s"})
    assert timeout.request_timeout == 30
    with pytest.raises(ValidationError):
        c.namespace = "x"  # frozen


@pytest.mark.parametrize(("hosts", "message"), [
    ([], "at least 1 item"),
    ("http://a:9200 http://b:9200", "invalid URL"),
    (["ftp://a:21"], "invalid URL 'ftp://a:21'"),
    (["es1:9200"], "expected http(s)://HOST:PORT"),
    (["http://es1"], "has no port (e.g. http://es1:9200)"),
    (["https://elastic:hunter2@es1:9200"], "do not put credentials in the URL"),
    (["http://es1:9200/?x=1"], "must not have a query"),
    (["http://es1:99999"], "invalid URL"),
])
def test_hosts_are_checked(hosts: list[str], message: str) -> None:
    text = error_of(hosts=hosts)
    assert message in text
    assert "hunter2" not in text


@pytest.mark.parametrize(("namespace", "message"), [
    ("", "must not be empty"),
    ("Prod", "must be lower case"),
    ("pemda-bogor", "must not contain '-'"),
    ("a b", "must not contain ' '"),
    ("x*", "must not contain '*'"),
    ("_x", "start with _"),
    ("a" * 101, "longer than 100 bytes"),
])
def test_namespace_follows_data_stream_naming(namespace: str, message: str) -> None:
    assert message in error_of(hosts=["http://a:9200"], namespace=namespace)


def test_namespace_good_values() -> None:
    for ns in ("default", "pemda_bogor", "kab.bogor", "prod2"):
        assert EsConnection(hosts=["http://a:9200"], namespace=ns).namespace == ns


@pytest.mark.parametrize(("extra", "message"), [
    ({"api_key_file": "k", "api_key_env": "K"}, "api_key_file or api_key_env, not both"),
    ({"username": "u", "password_file": "p", "password_env": "P"},
     "password_file or password_env, not both"),
    ({"username": "ronda"}, "username 'ronda' needs password_file or password_env"),
    ({"password_env": "P"}, "needs a username"),
    ({"username": "u", "password_env": "P", "api_key_env": "K"}, "not both"),
    ({"password": "hunter2"}, "unknown key (expected one of api_key_env"),
    ({"api_key": "hunter2"}, "unknown key (expected one of api_key_env"),
])
def test_credential_combinations(extra: dict[str, str], message: str) -> None:
    assert message in error_of(hosts=["http://a:9200"], **extra)


def test_api_key_from_file_never_in_repr(tmp_path: Path) -> None:
    (tmp_path / "es.key").write_text(SECRET + "\n")
    conn = EsConnection(hosts=["https://a:9200"], api_key_file="es.key")
    opts = client_options(conn, ctx(tmp_path))
    assert opts["api_key"] == SECRET
    client = make_client(conn, ctx(tmp_path))
    for text in (repr(conn), str(conn), str(conn.model_dump()), repr(client)):
        assert SECRET not in text
    assert conn.auth == "api key"


def test_api_key_id_and_secret_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RONDA_ES_KEY", "  keyid:keysecret ")
    conn = EsConnection(hosts=["http://a:9200"], api_key_env="RONDA_ES_KEY")
    assert client_options(conn, ctx(tmp_path))["api_key"] == ("keyid", "keysecret")


def test_basic_auth_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RONDA_ES_PASSWORD", "hunter2")
    conn = EsConnection(hosts=["http://a:9200"], username="ronda",
                        password_env="RONDA_ES_PASSWORD")
    assert client_options(conn, ctx(tmp_path))["basic_auth"] == ("ronda", "hunter2")
    assert "hunter2" not in repr(conn) and conn.auth == "user ronda"


def test_missing_secrets_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    conn = EsConnection(hosts=["http://a:9200"], api_key_env="NOPE_NOT_SET")
    with pytest.raises(ConfigError, match="api_key_env: environment variable NOPE_NOT_SET"):
        make_client(conn, ctx(tmp_path))
    conn = EsConnection(hosts=["http://a:9200"], username="u", password_file="missing.txt")
    with pytest.raises(ConfigError, match=r"password_file .*missing.txt: cannot read it"):
        make_client(conn, ctx(tmp_path))
    (tmp_path / "empty").write_text("\n")
    conn = EsConnection(hosts=["http://a:9200"], api_key_file=str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="the file is empty"):
        make_client(conn, ctx(tmp_path))


def test_tls_and_client_settings(tmp_path: Path) -> None:
    conn = EsConnection(hosts=["https://a:9200", "https://b:9200"], ca_file="ca.pem",
                        request_timeout=3)
    with pytest.raises(ConfigError, match=r"ca_file .*ca.pem: no such file"):
        make_client(conn, ctx(tmp_path))
    (tmp_path / "ca.pem").write_text("not read until a request is made")
    opts = client_options(conn, ctx(tmp_path))
    assert opts["ca_certs"] == str(tmp_path / "ca.pem")
    assert (opts["max_retries"], opts["retry_on_timeout"], opts["request_timeout"]) == (
        0, False, 3.0)
    assert "api_key" not in opts and "basic_auth" not in opts
    conn = EsConnection(hosts=["http://a:9200", "http://b:9200"])
    client = make_client(conn, ctx(tmp_path))
    assert len(client.transport.node_pool.all()) == 2
    assert client._max_retries == 0
    assert client._retry_on_timeout is False


def test_classify() -> None:
    assert classify(TransportConnectionError("refused")) == "unavailable"
    assert classify(ConnectionTimeout("slow")) == "unavailable"
    for status in (429, 500, 502, 503, 504):
        assert classify(api_error(status)) == "unavailable"
    assert classify(api_error(400)) == "rejected"
    assert classify(api_error(401)) == "auth"
    assert classify(api_error(403)) == "auth"
    assert classify(api_error(404)) == "other"
    assert classify(api_error(409)) == "other"
    assert classify(ValueError("x")) == "other"


def test_describe_is_one_line() -> None:
    body = {"error": {"type": "security_exception", "reason": "missing authentication\ncreds"}}
    assert describe(api_error(401, body)) == "HTTP 401: missing authentication creds"
    assert describe(TransportConnectionError(
        "Connection error caused by: NewConnectionError(...: [Errno 111] Connection refused)")
    ) == "cannot connect (Connection refused)"
    assert describe(ConnectionTimeout("x")) == "timed out"


def test_parse_version() -> None:
    assert parse_version("8.19.21") == (8, 19, 21)
    assert parse_version("9.1.0-SNAPSHOT") == (9, 1, 0)
    with pytest.raises(ValueError, match="unrecognised"):
        parse_version("banana")
