"""Two network namespaces joined by a veth pair, for the live-capture tests and benchmark.

    with VethPair() as net:          # needs root (CAP_NET_ADMIN) and iproute2
        net.run_a([...])             # a command inside namespace A (ip netns exec)

The pair is made inside the namespaces (``ip -n A link add ... peer ... netns B``), so the
host's own interfaces, addresses and firewall are never touched; only documentation-free
private addresses (10.99.x.1 and 10.99.x.2 /24) are used. Names carry the process id and
a counter, and everything is deleted on exit, even after a failure.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import shutil
import subprocess
from collections.abc import Sequence
from types import TracebackType
from typing import Any

_COUNTER = itertools.count()
CLONE_NEWNET = 0x40000000


def netns_problem() -> str | None:
    """Why namespaces cannot be made here (None: they can)."""
    if shutil.which("ip") is None:
        return "iproute2 ('ip') is not installed"
    if os.geteuid() != 0:
        return "needs root (CAP_NET_ADMIN) to create network namespaces"
    return None


def enter_netns(name: str) -> None:
    """Move the calling thread (only it) into namespace ``name``: sockets it opens from
    then on belong there. Call it in a thread made for the purpose, never the main one."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {name}: {os.strerror(err)}")
    finally:
        os.close(fd)


def _ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")


class VethPair:
    """Namespace ``a`` holds ``ra0`` (10.99.N.1), namespace ``b`` holds ``rb0`` (10.99.N.2)."""

    if_a, if_b = "ra0", "rb0"

    def __init__(self, tag: str = "t") -> None:
        n = next(_COUNTER)
        self.a = f"ronda-{tag}-{os.getpid()}-{n}-a"
        self.b = f"ronda-{tag}-{os.getpid()}-{n}-b"
        net = 100 + (os.getpid() + n) % 150
        self.ip_a, self.ip_b = f"10.99.{net}.1", f"10.99.{net}.2"
        self._made: list[str] = []

    def __enter__(self) -> VethPair:
        try:
            for ns in (self.a, self.b):
                _ip("netns", "add", ns)
                self._made.append(ns)
                self.run(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
                self.run(ns, ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])
                _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", self.a, "link", "add", self.if_a, "type", "veth", "peer", "name",
                self.if_b, "netns", self.b)
            for ns, dev, addr in ((self.a, self.if_a, self.ip_a), (self.b, self.if_b, self.ip_b)):
                _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                _ip("-n", ns, "link", "set", dev, "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for ns in reversed(self._made):  # deleting a namespace deletes its veth end
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=30)
        self._made.clear()

    def cmd(self, ns: str, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def run(self, ns: str, argv: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        kw.setdefault("timeout", 60)
        check = kw.pop("check", True)
        r = subprocess.run(self.cmd(ns, argv), capture_output=True, text=True, **kw)
        if r.returncode != 0 and check:
            raise RuntimeError(f"{' '.join(argv)} in {ns}: {r.stderr.strip()[-500:]}")
        return r

    def popen(self, ns: str, argv: Sequence[str], **kw: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.cmd(ns, argv), **kw)
