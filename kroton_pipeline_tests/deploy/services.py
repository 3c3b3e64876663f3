"""OS processes of the deployment: start on a host, wait until they answer, kill, clean up."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kroton_pipeline_tests.deploy.hosts import Host

# What every process inherits from the test's environment; everything else is given.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


class ServiceFailed(RuntimeError):
    """A process exited or never answered; the message carries the end of its log."""


def base_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """A clean environment: the machine basics plus ``extra``, nothing else of the test's."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.5
) -> object:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: the parent pid follows the last ")".
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        children = parents.get(queue.pop(), [])
        found.extend(children)
        queue.extend(children)
    return found


def kill_tree(pid: int) -> list[int]:
    """SIGKILL ``pid`` and everything below it at once, as when its machine is lost."""
    victims = [pid, *descendants(pid)]
    for victim in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    return victims


@dataclass
class Service:
    """One long-running process of the deployment, its output in ``log``."""

    name: str
    host: Host
    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    address: tuple[str, int] = ("", 0)  # where a server among them is reached

    def start(self) -> Service:
        """Start in a session of its own (so cleanup can end everything it spawned)."""
        with self.log.open("ab") as out:
            out.write(f"--- start {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                [*self.host.command_prefix, *self.argv],
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_for_port(self, port: int, timeout: float = 90) -> None:
        """Until something accepts connections on ``port`` of this host."""

        def accepting() -> bool:
            if not self.alive():
                raise ServiceFailed(f"{self.name} exited:\n{self.tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host.address, port), timeout=1),
            ):
                return True
            return False

        try:
            wait_until(accepting, timeout, f"{self.name} on port {port}")
        except TimeoutError as exc:
            raise ServiceFailed(f"{exc}\n{self.tail()}") from exc

    def kill(self) -> None:
        """SIGKILL this process alone (whatever it started keeps running)."""
        if self.alive():
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(timeout=10)

    def stop(self, grace: float = 5) -> None:
        """SIGTERM its whole session, then SIGKILL what is left."""
        if self.popen is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=wait)
                break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
