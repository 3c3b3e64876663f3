"""Run one registration pass (or one follow-up pass) in its own OS process.

``python -m kroton_pipeline_tests.reliability.register_worker STEP DB_URL KROTON_URL DIALECT
DAY RUN_ID``: STEP is ``register`` or ``checker``. Prints the pass's counters as one JSON line,
so that the tests can start several at once, as separate launches of a job would.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, timedelta

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.steps.check_follow_ups import check_follow_ups
from kroton_pipeline.steps.register_leads import register_leads
from kroton_pipeline_tests.reliability.pipeline_state import RULES, kroton_client


def main(argv: list[str]) -> int:
    step, db_url, kroton_url, dialect, day, run_id = argv
    engine = make_engine(db_url)
    client = kroton_client(kroton_url, dialect=dialect)
    try:
        if step == "register":
            result = register_leads(
                engine, client, date.fromisoformat(day), RULES, run_id, poll_after=timedelta(0)
            )
        else:
            result = check_follow_ups(
                engine, client, date.fromisoformat(day), run_id, ignore_schedule=True
            )
    finally:
        client.close()
        engine.dispose()
    figures = {k: v for k, v in asdict(result).items() if isinstance(v, int | float | dict)}
    print(json.dumps(figures, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
