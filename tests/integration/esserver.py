"""A real Elasticsearch (the integ-test zip that scripts/install-elasticsearch.sh puts in
.cache/elasticsearch) on 127.0.0.1, for tests. No mock stands in for it.

Runs as the unprivileged ``ronda-es`` user when the tests run as root (Elasticsearch
refuses root), single node, security off, 512 MB heap, on free loopback ports. The data,
logs, config copy and JVM temp files live in one work directory owned by that user, so a
stopped server restarted with :meth:`EsServer.start` comes back on the same port with its
data.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch

from tests.integration.daemon import ROOT, free_port

ES_VERSION = os.environ.get("RONDA_ES_VERSION", "8.19.21")
ES_HOME = ROOT / ".cache" / "elasticsearch" / f"elasticsearch-{ES_VERSION}"
ES_USER = os.environ.get("RONDA_ES_USER", "ronda-es")
INSTALL_HINT = "run scripts/install-elasticsearch.sh (scripts/test.sh does)"
_WATCHDOG = """
exec 3<&0
"$@" </dev/null 3<&- &
es=$!
{ read -r _ <&3; kill -TERM "$es" 2>/dev/null; } &
reader=$!
exec 3<&-
wait "$es"
rc=$?
kill "$reader" 2>/dev/null
exit "$rc"
"""


def java_home() -> str:
    """ES_JAVA_HOME: $ES_JAVA_HOME, $JAVA_HOME, else the JDK of ``java`` on PATH."""
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            return os.environ[var]
    java = shutil.which("java")
    if java is None:
        raise AssertionError("no java on PATH: Elasticsearch needs a JDK 17 "
                             "(apt-get install openjdk-17-jre-headless)")
    return str(Path(java).resolve().parents[1])


def _run_as() -> tuple[list[str], int | None, int | None]:
    """The command prefix, uid and gid to run Elasticsearch with (itself unless root)."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        pw = pwd.getpwnam(ES_USER)
    except KeyError:
        raise AssertionError(f"user {ES_USER} is missing: {INSTALL_HINT}") from None
    prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"]
    return prefix, pw.pw_uid, pw.pw_gid


class EsServer:
    """One single-node Elasticsearch. ``start()`` starts it, or restarts it after
    ``stop()`` on the same port and data directory; ``stop()`` sends SIGTERM and waits."""

    def __init__(self, workdir: Path | None = None, port: int | None = None) -> None:
        if not (ES_HOME / "bin" / "elasticsearch").exists():
            raise AssertionError(f"Elasticsearch {ES_VERSION} is not installed in {ES_HOME}: "
                                 f"{INSTALL_HINT}")
        self._prefix, self._uid, self._gid = _run_as()
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="ronda-es-"))
        self.port = port or free_port()
        self.transport_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "elasticsearch.out"
        self.last_start_seconds = 0.0
        self.proc: subprocess.Popen[bytes] | None = None
        self._prepare()

    def _prepare(self) -> None:
        for sub in ("data", "logs", "tmp"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "config"
        if not conf.exists():
            shutil.copytree(ES_HOME / "config", conf)
        if self._uid is not None and self._gid is not None:
            for path in (self.workdir, *self.workdir.rglob("*")):
                os.chown(path, self._uid, self._gid)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        settings = {
            "cluster.name": "ronda-test",
            "node.name": "ronda-test-node",
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": str(self.port),
            "transport.port": str(self.transport_port),
            "path.data": str(self.workdir / "data"),
            "path.logs": str(self.workdir / "logs"),
            "xpack.security.enabled": "false",
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.destructive_requires_name": "false",
        }
        flags = [f"-E{k}={v}" for k, v in settings.items()]
        es = [*self._prefix, str(ES_HOME / "bin" / "elasticsearch"), *flags]
        # A watchdog shell between us and Elasticsearch: it sends SIGTERM when its stdin
        # (a pipe from this process) closes, so a test process that dies, even by
        # SIGKILL, never leaves a server behind; and it exits with the server's status.
        return ["sh", "-c", _WATCHDOG, "es-watchdog", *es]

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.workdir),
            "ES_JAVA_HOME": java_home(),
            "ES_JAVA_OPTS": "-Xms512m -Xmx512m",
            "ES_PATH_CONF": str(self.workdir / "config"),
            "ES_TMPDIR": str(self.workdir / "tmp"),
        }

    def start(self, timeout: float = 180) -> EsServer:
        """Start (or restart) and wait until the cluster answers and is yellow.

        (``GET /`` is not in the integ-test zip: its ``rest-root`` module is missing.)"""
        if self.running:
            return self
        began = time.monotonic()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it; closed below
        try:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.env(),
                cwd=self.workdir, stdin=subprocess.PIPE, start_new_session=True)
        finally:
            log.close()
        deadline = began + timeout
        while not self._answers():
            if self.proc.poll() is not None:
                raise AssertionError(f"Elasticsearch exited with {self.proc.returncode}: "
                                     f"{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"Elasticsearch did not answer within {timeout:.0f} s: "
                                     f"{self.log_tail()}")
            time.sleep(0.25)
        self.client().cluster.health(wait_for_status="yellow", timeout="60s")
        self.last_start_seconds = time.monotonic() - began
        return self

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/_cluster/health", timeout=2) as r:
                return int(r.status) == 200
        except OSError:
            return False

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to Elasticsearch and wait until it has exited and its port is free
        (SIGKILL to the whole process group after ``timeout``)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the watchdog sends SIGTERM
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        deadline = time.monotonic() + 10
        while self._port_open() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _port_open(self) -> bool:
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def close(self) -> None:
        """Stop and delete the work directory (if this object made it)."""
        self.stop()
        if self._own_workdir:
            for _ in range(3):  # a file the node wrote while stopping may appear mid-way
                shutil.rmtree(self.workdir, ignore_errors=True)
                if not self.workdir.exists():
                    break
                time.sleep(1)

    # -- test isolation -------------------------------------------------------------

    def snapshot_builtins(self) -> None:
        """Remember the templates and policies the server has on its own (kept by reset)."""
        self._builtin = self._user_objects()

    def reset(self) -> None:
        """Start the server if stopped, then delete every data stream, index, template and
        ILM policy that a test made. A server without the data-streams API (the integ-test
        zip) cannot delete a data stream: then the node is restarted on an empty data
        directory, same port (about as long as a start)."""
        if not self.running:
            self.start()
        es = self.client()
        streams, indices = self._streams_and_indices()
        if streams:
            try:
                es.indices.delete_data_stream(name=",".join(streams), expand_wildcards="all")
            except ApiError as exc:
                if exc.status_code not in (400, 404, 405):
                    raise
                self.wipe()
                return
        if indices:
            es.options(ignore_status=404).indices.delete(
                index=",".join(indices), expand_wildcards="all")
        builtin = getattr(self, "_builtin", {})
        for kind, names in self._user_objects().items():
            for name in sorted(names - builtin.get(kind, set())):
                self._delete(kind, name)

    def wipe(self) -> None:
        """Stop, empty the data directory, start again on the same port."""
        self.stop()
        shutil.rmtree(self.workdir / "data", ignore_errors=True)
        self._prepare()
        self.start()

    def _streams_and_indices(self) -> tuple[list[str], list[str]]:
        body = self.client().indices.resolve_index(name="*", expand_wildcards="all").body
        streams = [d["name"] for d in body.get("data_streams", [])
                   if not d["name"].startswith(".")]
        indices = [i["name"] for i in body.get("indices", [])
                   if not i["name"].startswith(".") and "data_stream" not in i]
        return streams, indices

    def _user_objects(self) -> dict[str, set[str]]:
        es = self.client().options(ignore_status=(404, 405, 400))
        found: dict[str, set[str]] = {}
        body = es.indices.get_index_template().body
        found["index_template"] = {t["name"] for t in body.get("index_templates", []) or []}
        body = es.cluster.get_component_template().body
        found["component_template"] = {
            t["name"] for t in body.get("component_templates", []) or []}
        body = es.indices.get_template().body
        found["legacy_template"] = set(body) if isinstance(body, dict) else set()
        body = es.ilm.get_lifecycle().body
        found["ilm_policy"] = (
            set(body) if isinstance(body, dict) and "error" not in body else set())
        return found

    def _delete(self, kind: str, name: str) -> None:
        es = self.client().options(ignore_status=404)
        if kind == "index_template":
            es.indices.delete_index_template(name=name)
        elif kind == "component_template":
            es.cluster.delete_component_template(name=name)
        elif kind == "legacy_template":
            es.indices.delete_template(name=name)
        elif kind == "ilm_policy":
            es.ilm.delete_lifecycle(name=name)

    def client(self, **kw: object) -> Elasticsearch:
        opts: dict[str, object] = {"request_timeout": 30}
        opts.update(kw)
        return Elasticsearch(self.url, **opts)  # type: ignore[arg-type]

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"
