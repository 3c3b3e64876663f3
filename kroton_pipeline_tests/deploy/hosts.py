"""Where the deployment's processes run: one loopback machine, or one network namespace each.

With network namespaces (root and ``ip netns`` needed) every process gets its own network
stack on a private bridge, as if on its own host: processes reach each other only through
the bridge addresses, and PostgreSQL only through a TCP forwarder on the bridge (the server
itself listens on 127.0.0.1, which no namespace can reach). The file system stays shared,
as the landing location would be (a volume or an object store).
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import threading
import uuid
from dataclasses import dataclass, field


class NamespaceSetupFailed(RuntimeError):
    """An ``ip`` command failed while building the namespaces; the message names it."""


@dataclass(frozen=True)
class Host:
    """One machine of the deployment: how to start a process there and how to reach it."""

    name: str
    address: str  # where the other hosts (and the test) reach its servers
    bind: str  # the address its servers listen on
    command_prefix: tuple[str, ...] = ()  # runs a command on this host

    def port(self, wanted: int) -> int:
        """``wanted`` on a host of its own; a free port when hosts share the loopback."""
        if self.command_prefix:
            return wanted
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


@dataclass
class LoopbackHosts:
    """Every host is this machine; PostgreSQL is reached where the tests reach it."""

    postgres: tuple[str, int]
    isolated = False

    def add(self, name: str) -> Host:
        return Host(name, "127.0.0.1", "127.0.0.1")

    def close(self) -> None:
        """Nothing to tear down."""


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise NamespaceSetupFailed(f"ip {' '.join(args)}: {result.stderr.strip()}")


def namespaces_available() -> bool:
    """Whether this machine lets us create a network namespace (root with ``ip netns``)."""
    if shutil.which("ip") is None:
        return False
    name = f"kroton-probe-{uuid.uuid4().hex[:6]}"
    try:
        _ip("netns", "add", name)
    except NamespaceSetupFailed:
        return False
    with contextlib.suppress(NamespaceSetupFailed):
        _ip("netns", "del", name)
    return True


class TcpForwarder:
    """Accepts on ``listen`` and relays each connection to ``target`` (PostgreSQL)."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        self._server = socket.create_server(listen, reuse_port=False)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="pg-forwarder")
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            # Pooled connections sit idle for minutes: no timeout once connected.
            for end in (client, upstream):
                end.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=2)


@dataclass
class NamespaceHosts:
    """A bridge on a random private /24 and one network namespace per host."""

    pg_target: tuple[str, int]
    isolated = True
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:5])
    namespaces: list[str] = field(default_factory=list)
    postgres: tuple[str, int] = ("", 0)
    _forwarder: TcpForwarder | None = None

    def __post_init__(self) -> None:
        self.bridge = f"kb{self.suffix}"
        self.subnet = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            # The only way to PostgreSQL from a namespace: the bridge address of the machine.
            self.postgres = (f"{self.subnet}.1", self.pg_target[1])
            self._forwarder = TcpForwarder(self.postgres, self.pg_target)
        except (NamespaceSetupFailed, OSError):
            self.close()
            raise

    def add(self, name: str) -> Host:
        index = len(self.namespaces) + 2
        namespace = f"kroton-{self.suffix}-{name}"
        outside, inside = f"kv{self.suffix}{index}", f"kp{self.suffix}{index}"
        _ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("link", "set", outside, "master", self.bridge)
        _ip("link", "set", outside, "up")
        address = f"{self.subnet}.{index}"
        _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", inside)
        _ip("-n", namespace, "link", "set", inside, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        return Host(name, address, "0.0.0.0", ("ip", "netns", "exec", namespace))

    def close(self) -> None:
        """Remove the namespaces (their veth pairs go with them), the bridge, the forwarder."""
        if self._forwarder is not None:
            self._forwarder.close()
        for namespace in self.namespaces:
            with contextlib.suppress(NamespaceSetupFailed):
                _ip("netns", "del", namespace)
        with contextlib.suppress(NamespaceSetupFailed):
            _ip("link", "del", self.bridge)
