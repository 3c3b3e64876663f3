"""Screenshot of the funnel report's asset page in headless Chromium (issue 5).

Proves that what the ``funnel_report`` asset publishes renders in the Dagster UI: markdown
tables, unicode bars and the chart given as a markdown image with a
``data:image/png;base64,…`` URI. Not part of the test suite (it needs Chromium):

    apt-get install -y chromium          # Debian; once, as root
    python scripts/screenshot_funnel.py --out funnel_report.png

Steps: ``python -m kroton_pipeline.demo`` into a temporary work folder (sandbox, two import
dates, a Dagster instance at <workdir>/dagster_home); the ``refresh_funnel_report`` job on
that instance; ``dagster-webserver`` on a free port; Chromium's ``--screenshot`` of
``/assets/funnel_report``; the webserver is stopped again. Exit code 0 when the PNG was
written; look at it to see the chart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("Chromium not found: apt-get install -y chromium")


def wait_for(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the webserver did not answer {url} within {timeout:.0f} s")


def prepare(workdir: Path, leads: int) -> dict[str, str]:
    """Demo run + funnel report materialized; returns the environment of that instance."""
    python = sys.executable
    subprocess.run(
        [python, "-m", "kroton_pipeline.demo", "--workdir", str(workdir), "--leads", str(leads)],
        cwd=ROOT,
        check=True,
    )
    # The UI's one-time "Join the Dagster community" dialog would cover the page.
    with (workdir / "dagster_home" / "dagster.yaml").open("a") as config:
        config.write("nux:\n  enabled: false\n")
    env = {
        **os.environ,
        "KROTON_ENV": "sandbox",
        "KROTON_DATABASE_URL": f"sqlite:///{workdir / 'kroton_pipeline.db'}",
        "KROTON_LANDING_URL": str(workdir / "landing"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
    }
    materialize = (
        "import dagster as dg\n"
        "from kroton_pipeline.definitions import defs\n"
        "job = defs().resolve_job_def('refresh_funnel_report')\n"
        "assert job.execute_in_process(instance=dg.DagsterInstance.get()).success\n"
    )
    subprocess.run([python, "-c", materialize], cwd=ROOT, env=env, check=True)
    return env


def screenshot(chromium: str, url: str, out: Path, size: str, profile: Path) -> None:
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            "--virtual-time-budget=15000",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("funnel_report.png"))
    parser.add_argument("--leads", type=int, default=80, help="leads per import date")
    parser.add_argument("--window-size", default="1400,2000")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    args = parser.parse_args(argv)

    chromium = find_chromium()
    workdir = Path(tempfile.mkdtemp(prefix="kroton_screenshot_"))
    webserver = None
    try:
        env = prepare(workdir, args.leads)
        port = free_port()
        log = (workdir / "webserver.log").open("w")
        webserver = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("dagster-webserver")),
                "-m",
                "kroton_pipeline.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/server_info")
        out = args.out.resolve()
        screenshot(chromium, f"{base}/assets/funnel_report", out, args.window_size, workdir / "p")
        print(f"screenshot of {base}/assets/funnel_report written to {out}")
    finally:
        if webserver is not None:
            webserver.terminate()
            try:
                webserver.wait(timeout=20)
            except subprocess.TimeoutExpired:
                webserver.kill()
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
