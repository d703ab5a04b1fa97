"""``ronda kibana import`` against a fake Kibana (http.server on 127.0.0.1): the multipart
body, the kbn-xsrf header, the space path, the overwrite parameter, authentication, error
reporting and exit codes. Kibana itself cannot run on these machines."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ronda.daemon.cli import main
from ronda.daemon.paths import PROJECT_DIR
from ronda.kibana import import_path, multipart, parse_response

KIBANA_DIR = PROJECT_DIR / "dashboards" / "kibana"

Reply = Callable[[dict[str, Any]], tuple[int, bytes]]


def imported_all(request: dict[str, Any]) -> tuple[int, bytes]:
    """What Kibana answers when every object in the file is imported."""
    objects = file_objects(request)
    results = [{"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"].get(
        "title", "")}} for o in objects]
    body = {"success": True, "successCount": len(objects), "successResults": results,
            "warnings": []}
    return 200, json.dumps(body).encode()


class FakeKibana:
    """Records each request (method, path, headers, body) and answers with ``reply``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: Reply = imported_all
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = {"method": "POST", "path": self.path, "body": body,
                           "headers": {k.lower(): v for k, v in self.headers.items()}}
                fake.requests.append(request)
                time.sleep(fake.delay)
                status, data = fake.reply(request)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kibana() -> Iterator[FakeKibana]:
    fake = FakeKibana()
    yield fake
    fake.close()


def file_part(request: dict[str, Any]) -> Any:
    """The one part of the multipart body, parsed by the standard e-mail parser."""
    head = f"Content-Type: {request['headers']['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request["body"])
    assert message.is_multipart()
    parts = list(message.iter_parts())
    assert len(parts) == 1
    return parts[0]


def file_objects(request: dict[str, Any]) -> list[dict[str, Any]]:
    payload = file_part(request).get_payload(decode=True)
    return [json.loads(line) for line in payload.decode().splitlines() if line.strip()]


def shipped_objects() -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(KIBANA_DIR.glob("*.ndjson"))
            for line in path.read_text().splitlines() if line.strip()]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the request ------------------------------------------------------------------------

def test_import_sends_every_shipped_object_in_one_multipart_request(
        kibana: FakeKibana, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kibana", "import", "--url", kibana.url]) == 0
    assert len(kibana.requests) == 1
    request = kibana.requests[0]
    assert request["path"] == "/api/saved_objects/_import?overwrite=true"
    assert request["headers"]["kbn-xsrf"] == "true"
    assert request["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert "authorization" not in request["headers"]
    part = file_part(request)
    assert part.get_param("name", header="content-disposition") == "file"
    assert part.get_filename().endswith(".ndjson")
    sent = file_objects(request)
    assert sent == shipped_objects()
    types = [o["type"] for o in sent]
    assert types.index("dashboard") > max(i for i, t in enumerate(types) if t == "index-pattern")
    out = capsys.readouterr().out
    assert f"imported {len(sent)} saved objects" in out


def test_space_and_no_overwrite(kibana: FakeKibana) -> None:
    assert main(["kibana", "import", "--url", kibana.url, "--space", "soc-team",
                 "--no-overwrite"]) == 0
    assert kibana.requests[0]["path"] == "/s/soc-team/api/saved_objects/_import"


def test_default_space_and_base_path(kibana: FakeKibana) -> None:
    assert main(["kibana", "import", "--url", kibana.url + "/kibana/", "--space", "default",
                 "--overwrite"]) == 0
    assert kibana.requests[0]["path"] == "/kibana/api/saved_objects/_import?overwrite=true"


def test_dir_override_sends_only_its_files(kibana: FakeKibana, tmp_path: Path) -> None:
    (tmp_path / "b.ndjson").write_text('{"type":"lens","id":"two","attributes":{}}\n')
    (tmp_path / "a.ndjson").write_text(
        '{"type":"index-pattern","id":"one","attributes":{}}\n\n')
    (tmp_path / "notes.txt").write_text("not sent")
    assert main(["kibana", "import", "--url", kibana.url, "--dir", str(tmp_path)]) == 0
    assert [o["id"] for o in file_objects(kibana.requests[0])] == ["one", "two"]


def test_basic_auth_from_password_file(kibana: FakeKibana, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    assert main(["kibana", "import", "--url", kibana.url, "--username", "elastic",
                 "--password-file", str(secret)]) == 0
    expected = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
    assert kibana.requests[0]["headers"]["authorization"] == expected


@pytest.mark.parametrize(("key", "header"), [
    ("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
     "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="),
    ("key-id:key-secret", "ApiKey " + base64.b64encode(b"key-id:key-secret").decode()),
])
def test_api_key_from_file(kibana: FakeKibana, tmp_path: Path, key: str, header: str) -> None:
    secret = tmp_path / "key"
    secret.write_text(key + "\n")
    assert main(["kibana", "import", "--url", kibana.url, "--api-key-file", str(secret)]) == 0
    assert kibana.requests[0]["headers"]["authorization"] == header


# -- Kibana's answers -------------------------------------------------------------------

def test_object_errors_are_listed_and_exit_1(
        kibana: FakeKibana, capsys: pytest.CaptureFixture[str]) -> None:
    answer = {"success": False, "successCount": 40, "warnings": [], "errors": [
        {"id": "ronda-overview", "type": "dashboard", "meta": {"title": "Ronda: Overview"},
         "error": {"type": "missing_references",
                   "references": [{"type": "index-pattern", "id": "ronda-alerts-dataview"}]}},
        {"id": "ronda-web-by-site", "type": "lens", "title": "Web attacks per website",
         "error": {"type": "conflict"}},
        {"id": "x", "type": "map", "error": {"type": "unknown", "message": "bad layer"}},
    ]}
    kibana.reply = lambda request: (200, json.dumps(answer).encode())
    assert main(["kibana", "import", "--url", kibana.url]) == 1
    err = capsys.readouterr().err.splitlines()
    assert ("error: dashboard ronda-overview 'Ronda: Overview': missing_references "
            "(missing index-pattern ronda-alerts-dataview)") in err
    assert ("error: lens ronda-web-by-site 'Web attacks per website': conflict "
            "(exists already; import with --overwrite)") in err
    assert "error: map x: unknown (bad layer)" in err
    assert "imported 40 of" in err[-1] and "3 refused" in err[-1]


def test_warnings_are_shown(kibana: FakeKibana, capsys: pytest.CaptureFixture[str]) -> None:
    answer = {"success": True, "successCount": 1, "warnings": [
        {"type": "simple", "message": "Reload the page"}]}
    kibana.reply = lambda request: (200, json.dumps(answer).encode())
    assert main(["kibana", "import", "--url", kibana.url]) == 0
    assert "warning: Reload the page" in capsys.readouterr().err


@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, {"statusCode": 401, "error": "Unauthorized", "message": "missing credentials"},
     "HTTP 401 (check --username/--password-file or --api-key-file): Unauthorized "
     "missing credentials"),
    (404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"},
     "HTTP 404 (wrong URL or base path, or no such space)"),
    (400, {"statusCode": 400, "error": "Bad Request", "message": "Invalid file extension"},
     "HTTP 400: Bad Request Invalid file extension"),
    (200, "<html>proxy login</html>", "not an import result: <html>proxy login</html>"),
])
def test_refused_request_is_one_line_and_exit_1(
        kibana: FakeKibana, capsys: pytest.CaptureFixture[str], status: int, body: Any,
        expected: str) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    kibana.reply = lambda request: (status, data)
    assert main(["kibana", "import", "--url", kibana.url]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert expected in err[0]


def test_unreachable_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert main(["kibana", "import", "--url", url]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"ronda kibana import: Kibana at {url} is unreachable: connection refused"]


def test_slow_kibana_times_out(kibana: FakeKibana, capsys: pytest.CaptureFixture[str]) -> None:
    kibana.delay = 2.0
    assert main(["kibana", "import", "--url", kibana.url, "--timeout", "0.3"]) == 1
    assert "no answer within 0.3s" in capsys.readouterr().err


def test_https_to_a_plain_http_server_is_one_line(
        kibana: FakeKibana, capsys: pytest.CaptureFixture[str]) -> None:
    url = kibana.url.replace("http://", "https://")
    assert main(["kibana", "import", "--url", url, "--timeout", "5"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"Kibana at {url}" in err[0]


# -- bad usage: exit 2, nothing sent ----------------------------------------------------

@pytest.mark.parametrize(("extra", "message"), [
    (["--space", "Not A Space"], "invalid Kibana space id"),
    (["--username", "elastic"], "--username and --password-file go together"),
    (["--password-file", "/nonexistent"], "--username and --password-file go together"),
    (["--api-key-file", "/k", "--username", "u"], "not both"),
    (["--api-key-file", "/nonexistent/key"], "--api-key-file /nonexistent/key cannot be read"),
    (["--ca-file", "/nonexistent/ca.pem"], "--ca-file /nonexistent/ca.pem: no such file"),
    (["--dir", "/nonexistent"], "--dir /nonexistent: no such folder"),
    (["--timeout", "0"], "--timeout must be positive"),
])
def test_bad_flags_exit_2(kibana: FakeKibana, capsys: pytest.CaptureFixture[str],
                          extra: list[str], message: str) -> None:
    assert main(["kibana", "import", "--url", kibana.url, *extra]) == 2
    assert message in capsys.readouterr().err
    assert kibana.requests == []


@pytest.mark.parametrize("url", ["ftp://kibana:5601", "http://user:pw@kibana:5601",
                                 "http://kibana:5601/?x=1", "kibana:5601", "http://k:99999"])
def test_bad_url_exits_2(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kibana", "import", "--url", url]) == 2
    assert "Kibana URL" in capsys.readouterr().err


def test_missing_url_is_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["kibana", "import"])
    assert exc.value.code == 2


@pytest.mark.parametrize(("content", "message"), [
    ('{"type":"lens","id":"a"}\n{"type": \n', "b.ndjson:2: not JSON"),
    ('["not", "an", "object"]\n', "b.ndjson:1: not a saved object"),
])
def test_bad_ndjson_names_file_and_line(
        kibana: FakeKibana, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
        message: str) -> None:
    (tmp_path / "b.ndjson").write_text(content)
    assert main(["kibana", "import", "--url", kibana.url, "--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert kibana.requests == []


def test_empty_dir_exits_2(kibana: FakeKibana, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kibana", "import", "--url", kibana.url, "--dir", str(tmp_path)]) == 2
    assert "no *.ndjson saved-object files" in capsys.readouterr().err


# -- the pieces -------------------------------------------------------------------------

def test_multipart_body_layout() -> None:
    body, content_type = multipart("ronda.ndjson", b'{"a":1}\n', boundary="XyZ")
    assert content_type == "multipart/form-data; boundary=XyZ"
    assert body == (b'--XyZ\r\nContent-Disposition: form-data; name="file"; '
                    b'filename="ronda.ndjson"\r\nContent-Type: application/ndjson\r\n\r\n'
                    b'{"a":1}\n\r\n--XyZ--\r\n')


@pytest.mark.parametrize(("base", "space", "overwrite", "path"), [
    ("", None, True, "/api/saved_objects/_import?overwrite=true"),
    ("/", "default", False, "/api/saved_objects/_import"),
    ("/kibana", "soc", True, "/kibana/s/soc/api/saved_objects/_import?overwrite=true"),
])
def test_import_path(base: str, space: str | None, overwrite: bool, path: str) -> None:
    assert import_path(base, space, overwrite) == path


def test_parse_response_reads_titles_from_meta_or_top_level() -> None:
    result = parse_response(200, json.dumps({"success": False, "successCount": 0, "errors": [
        {"type": "search", "id": "s", "meta": {"title": "From meta"},
         "error": {"type": "unsupported_type"}},
        {"type": "lens", "id": "l", "title": "Top level", "error": {"type": "conflict"}},
    ]}).encode())
    assert not result.success
    assert [e.title for e in result.errors] == ["From meta", "Top level"]
    assert result.errors[0].line() == "search s 'From meta': unsupported_type"
