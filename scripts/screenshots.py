"""Screenshots of the Dagster UI on the demo's instance, in headless Chromium.

What an operator sees after ``make ui``: the asset graph, a run, the funnel report and a
date's problems table. Kept in docs/screenshots/ and linked from the README; re-run after a
change to what the UI shows, then look at each PNG. Not part of the test suite:

    apt-get install -y chromium          # Debian; once, as root
    python scripts/screenshots.py --out docs/screenshots     # or: make screenshots

Steps: ``python -m kroton_pipeline.demo --ui`` in a temporary folder (the demo, then
``dg dev`` on its instance, sandbox serving); wait for the UI; one Chromium ``--screenshot``
per page; stop the UI again.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from kroton_pipeline.demo_ui import demo_ui_process

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("Chromium not found: apt-get install -y chromium")


def graphql(base: str, query: str, **variables: object) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"{base}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())["data"]


def wait_for_ui(base: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    query = (
        "{ workspaceOrError { ... on Workspace { locationEntries {"
        " locationOrLoadError { __typename } } } } }"
    )
    while time.monotonic() < deadline:
        try:
            entries = graphql(base, query)["workspaceOrError"]["locationEntries"]
            if any(e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries):
                return
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"the UI did not answer at {base} within {timeout:.0f} s")


def backfill_run(base: str, asset: str, first: str, last: str, timeout: float = 600) -> str:
    """Launch a backfill of ``asset`` over ``first``..``last`` and return its (one) run."""
    mutation = (
        "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {"
        " ... on LaunchBackfillSuccess { backfillId } } }"
    )
    params = {
        "partitionsByAssets": [
            {"assetKey": {"path": [asset]}, "partitions": {"range": {"start": first, "end": last}}}
        ]
    }
    backfill = graphql(base, mutation, p=params)["launchPartitionBackfill"]["backfillId"]
    query = (
        "query($id: String!) { partitionBackfillOrError(backfillId: $id) {"
        " ... on PartitionBackfill { runs(limit: 5) { runId status } } } }"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = graphql(base, query, id=backfill)["partitionBackfillOrError"]["runs"]
        if runs and runs[0]["status"] in ("SUCCESS", "FAILURE"):
            return runs[0]["runId"]
        time.sleep(2)
    raise SystemExit(f"backfill {backfill} did not finish")


def pages(base: str) -> dict[str, str]:
    """File name -> URL of each page worth a screenshot."""
    keys = graphql(
        base,
        '{ assetNodeOrError(assetKey: {path: ["registrations"]}) {'
        " ... on AssetNode { partitionKeys } } }",
    )["assetNodeOrError"]["partitionKeys"]
    run = backfill_run(base, "registrations", keys[0], keys[-1])
    return {
        "asset_graph.png": f"{base}/assets/registrations?view=lineage&lineageDepth=5",
        "run.png": f"{base}/runs/{run}",
        "funnel_report.png": f"{base}/assets/funnel_report",
        "problems_table.png": f"{base}/assets/registrations?view=partitions&partition={keys[0]}",
    }


def save_full_chart(base: str, out: Path) -> None:
    """The funnel's full chart, as the UI shows it behind "[Show Markdown]" (a PNG data URI
    in the ``chart_leads_by_status`` metadata of the latest materialization)."""
    query = (
        '{ assetOrError(assetKey: {path: ["funnel_report"]}) { ... on Asset {'
        " assetMaterializations(limit: 1) { metadataEntries { label"
        " ... on MarkdownMetadataEntry { mdStr } } } } } }"
    )
    [latest] = graphql(base, query)["assetOrError"]["assetMaterializations"]
    [markdown] = [
        e["mdStr"] for e in latest["metadataEntries"] if e["label"] == "chart_leads_by_status"
    ]
    out.write_bytes(base64.b64decode(markdown.split("base64,", 1)[1].rstrip(")")))


def screenshot(chromium: str, url: str, out: Path, size: str, profile: Path) -> None:
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            "--virtual-time-budget=20000",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--leads", type=int, default=60, help="leads per import date")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--window-size", default="1920,1400")
    args = parser.parse_args(argv)

    chromium = find_chromium()
    workdir = Path(tempfile.mkdtemp(prefix="kroton_screenshots_"))
    try:
        with demo_ui_process(workdir / "demo", workdir / "ui.log", args.leads, args.days) as base:
            wait_for_ui(base)
            args.out.mkdir(parents=True, exist_ok=True)
            for name, url in pages(base).items():
                out = (args.out / name).resolve()
                screenshot(chromium, url, out, args.window_size, workdir / "profile")
                print(f"{url} -> {out}")
            save_full_chart(base, (args.out / "funnel_full_chart.png").resolve())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
