"""``make ui`` as an operator meets it, judged through Dagster's GraphQL API.

One process runs ``python -m kroton_pipeline.demo --ui`` (the demo, then ``dg dev`` —
webserver and daemon — on its instance, with the demo's sandbox serving). Then: opening it
launches nothing within two sensor ticks and fails nothing; the funnel is materialized and
the first-run pop-up is off; a backfill of three import dates gives each date its own
figures, equal to the database's; a range with one missing export fails that date alone.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.demo_ui import demo_ui_process
from kroton_pipeline_tests.ui.graphql import GraphQL, int_entries, markdown_entry

# On SQLite and mostly waiting (sensor ticks, daemon-launched backfills): it runs beside the
# other tests, its three tests on one worker so that they share one open UI.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("ui")]

ROOT = Path(__file__).resolve().parents[2]
DAYS = 3
SENSOR_INTERVAL = 15


@dataclass
class Opening:
    """What the UI showed right after it opened, before any test touched it (the tests run
    in random order; a backfill test's runs must not count as the opening's)."""

    demo_runs: list[str]
    first_run_popup: bool
    ticks: list[list[dict]]
    runs_after_ticks: list[str]
    run_statuses: list[str]
    funnel_leads_total: int
    leads_in_database: int


class OpenUI:
    def __init__(self, workdir: Path, api: GraphQL, log: Path) -> None:
        self.workdir, self.api, self.log = workdir, api, log
        self.opening = self._observe_opening()

    def _observe_opening(self) -> Opening:
        demo_runs = self.api.run_ids()
        popup = self.api.should_show_first_run_popup()
        # Two ticks of the landing sensor (every SENSOR_INTERVAL s) and of the funnel sensor.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            ticks = [
                self.api.sensor_ticks(name) for name in ("landing_sensor", "funnel_refresh_sensor")
            ]
            if all(len(found) >= 2 for found in ticks):
                break
            time.sleep(5)
        else:
            raise AssertionError(f"sensors did not tick twice: {ticks}")
        [funnel] = self.api.materializations("funnel_report")[:1]
        return Opening(
            demo_runs=demo_runs,
            first_run_popup=popup,
            ticks=ticks,
            runs_after_ticks=self.api.run_ids(),
            run_statuses=[run["status"] for run in self.api.runs()],
            funnel_leads_total=int_entries(funnel)["leads_total"],
            leads_in_database=sum(sum(c.values()) for c in self.counts_by_date().values()),
        )

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.workdir / 'kroton_pipeline.db'}"

    def dates(self) -> list[str]:
        names = [p.name for p in (self.workdir / "landing").glob("leads_*")]
        return sorted({re.search(r"\d{4}-\d\d-\d\d", n).group(0) for n in names})  # type: ignore[union-attr]

    def counts_by_date(self) -> dict[str, Counter[str]]:
        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            rows = conn.execute(select(Subscription.import_date, Subscription.status)).all()
        engine.dispose()
        found: dict[str, Counter[str]] = {}
        for day, status in rows:
            found.setdefault(day.isoformat(), Counter())[status] += 1
        return found


# Session scope: opened once per worker (all of this module's tests share one worker, see
# the group above), even when the worker runs other modules' tests between them.
@pytest.fixture(scope="session")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenUI]:
    workdir = tmp_path_factory.mktemp("ui") / "demo"
    log = workdir.parent / "ui.log"
    # The landing sensor looks every 15 s instead of 60: the opening waits for two looks.
    settings = {"KROTON_LANDING_SENSOR_INTERVAL_SECONDS": str(SENSOR_INTERVAL)}
    with demo_ui_process(workdir, log, leads=14, days=DAYS, settings=settings) as url:
        api = GraphQL(url)
        api.wait_until_up(timeout=420)
        yield OpenUI(workdir, api, log)


def test_opening_launches_nothing_and_the_funnel_is_there(ui: OpenUI) -> None:
    opening = ui.opening
    assert opening.demo_runs, "the demo's runs should be in the instance"
    assert not opening.first_run_popup
    assert all(tick["status"] == "SKIPPED" for found in opening.ticks for tick in found), (
        opening.ticks
    )
    assert opening.runs_after_ticks == opening.demo_runs
    assert set(opening.run_statuses) == {"SUCCESS"}, opening.run_statuses
    assert opening.funnel_leads_total == opening.leads_in_database


def _statuses(table: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in table.splitlines()[2:]:
        status, count = (cell.strip().replace("\\", "") for cell in line.strip("|").split("|"))
        found[status] = int(count)
    return found


def test_a_three_date_backfill_gives_each_date_its_own_figures(ui: OpenUI) -> None:
    dates = ui.dates()
    assert len(dates) == DAYS
    backfill = ui.api.launch_backfill("registrations", dates[0], dates[-1])
    finished = ui.api.wait_for_backfill(backfill)
    assert len(finished["runs"]) == 1  # a single-run backfill
    [run] = finished["runs"]
    assert run["status"] == "SUCCESS"

    counts = ui.counts_by_date()
    shown = {
        m["partition"]: m
        for m in ui.api.materializations("registrations", dates)
        if m["runId"] == run["runId"]
    }
    assert sorted(shown) == dates
    for day in dates:
        assert int_entries(shown[day])["leads"] == sum(counts[day].values()), day
        assert _statuses(markdown_entry(shown[day], "leads_by_status")) == counts[day], day
    total = sum(sum(c.values()) for c in counts.values())
    assert all(int_entries(m)["leads"] < total for m in shown.values())


def test_a_range_with_one_missing_export_fails_that_date_alone(ui: OpenUI) -> None:
    dates = ui.dates()
    middle = dates[1]
    export = next((ui.workdir / "landing").glob(f"leads_{middle}.*"))
    held_back = export.rename(export.with_name(f"held_back_{export.name}"))
    try:
        backfill = ui.api.launch_backfill("subscriptions", dates[0], dates[-1])
        finished = ui.api.wait_for_backfill(backfill)
    finally:
        held_back.rename(export)  # the other tests (in any order) see every export
    [run] = finished["runs"]
    assert run["status"] == "FAILURE"

    statuses = ui.api.partition_statuses("subscriptions")
    assert statuses.get("FAILED") == {middle}
    assert {dates[0], dates[-1]} <= statuses["MATERIALIZED"]
    by_run = {
        m["partition"]
        for m in ui.api.materializations("subscriptions", dates)
        if m["runId"] == run["runId"]
    }
    assert by_run == {dates[0], dates[-1]}
