"""``python -m kroton_pipeline.sandbox`` starts a standalone sandbox."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.integration
def test_standalone_sandbox_answers_and_stops_on_ctrl_c() -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "kroton_pipeline.sandbox",
        "--port",
        str(port),
        "--seed",
        "3",
        "--rate-limit",
        "50",
        "--token-ttl",
        "120",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                health = httpx.get(base + "/_sandbox", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.05)
        assert health.json()["seed"] == 3
        assert httpx.get(base + "/_sandbox/config").json()["token_ttl"] == 120
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
        assert f"{base}/kroton" in output
        assert f"{base}/captacao" in output
        assert f"{base}/catalog" in output
        assert f"{base}/_sandbox/requests" in output
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
