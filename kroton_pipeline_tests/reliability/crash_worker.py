"""Run the registration step in its own process and SIGKILL it at one checkpoint.

``python -m kroton_pipeline_tests.reliability.crash_worker DB_URL KROTON_URL DIALECT
IMPORT_DATE POINT NTH``: builds the engine and a KrotonClient on the sandbox, calls
``register_leads`` and kills itself (SIGKILL: no cleanup, no rollback handler, no atexit)
the NTH time the registration reaches checkpoint POINT (see
``register_leads.CHECKPOINTS``). Exits 0 if the point was never reached.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import date

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.steps.register_leads import register_leads
from kroton_pipeline_tests.reliability.pipeline_state import RULES, kroton_client


def main(argv: list[str]) -> int:
    db_url, kroton_url, dialect, import_date, point, nth = argv
    seen = 0

    def checkpoint(name: str, subscription_id: int) -> None:
        nonlocal seen
        if name != point:
            return
        seen += 1
        if seen == int(nth):
            print(f"killed at {name} of subscription {subscription_id}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    engine = make_engine(db_url)
    client = kroton_client(kroton_url, dialect=dialect)
    register_leads(
        engine,
        client,
        date.fromisoformat(import_date),
        RULES,
        "crash-run",
        checkpoint=checkpoint,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
