"""``python -m kroton_pipeline.support.stuck``: the stuck leads of every import date, now.

Prints, per import date that has any, the table of ``reporting.stuck_leads`` (counts by
status and reason, what to check, subscription ids); exit code 1 when a lead is stuck, so a
cron job or a monitor can call it. Thresholds: ``KROTON_STUCK_AFTER_HOURS`` and
``KROTON_STUCK_AWAITING_HOURS``. Holds no personal data.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import TextIO

from sqlalchemy import Engine

from kroton_pipeline.reporting.stuck_leads import stuck_leads_by_date
from kroton_pipeline.settings import StuckThresholds, load_settings, utcnow


def main(
    argv: Sequence[str] | None = None,
    *,
    engine: Engine | None = None,
    stdout: TextIO | None = None,
    now: datetime | None = None,
) -> int:
    """Print the stuck leads per import date; 0 when none, 1 when some."""
    parser = argparse.ArgumentParser(
        prog="python -m kroton_pipeline.support.stuck",
        description="Leads still before registered too long after import, or awaiting "
        "Kroton's processing too long, per import date.",
    )
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        action="append",
        dest="dates",
        help="only this import date (YYYY-MM-DD); repeat for several",
    )
    args = parser.parse_args(argv)
    out = stdout or sys.stdout
    thresholds: StuckThresholds
    if engine is None:
        from kroton_pipeline.db.engine import make_engine

        settings = load_settings()
        engine, thresholds = make_engine(settings.database_url), settings.stuck
    else:
        thresholds = load_settings().stuck
    with engine.connect() as conn:
        found = stuck_leads_by_date(conn, now or utcnow(), thresholds, args.dates)
    if not found:
        out.write("No stuck leads.\n")
        return 0
    for import_date, stuck in found.items():
        out.write(f"## Import date {import_date}\n\n{stuck.markdown()}\n\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
