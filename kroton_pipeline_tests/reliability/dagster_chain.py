"""The whole chain through Dagster on the sandbox, and everything it left behind as text.

Used by the personal-data and the secrets tests: ``definitions.defs()`` is loaded with the
environment the test sets, ``all_jobs`` runs for one import date, then ``register`` (after
the sandbox clock moves so pending inscriptions resolve) and the ``checker``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from kroton_pipeline.sandbox import SandboxServer

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class CapturingHandler(logging.Handler):
    """Keeps every Python log record (message and exception text) as the handler saw it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        self.lines.append(f"{record.name}: {text}")


@contextmanager
def capture_all_logging() -> Iterator[CapturingHandler]:
    """Every record of every logger, at DEBUG, for the duration of the block."""
    handler = CapturingHandler()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@dataclass
class ChainRuns:
    """The runs of one chain and the instance that holds them."""

    instance: dg.DagsterInstance
    runs: list[dg.ExecuteInProcessResult] = field(default_factory=list)

    def stored_text(self) -> str:
        """Everything Dagster stored about the runs: run config, tags, every event log entry
        serialised whole (user messages, materialization and check metadata, step outputs,
        errors with their stack traces)."""
        parts = []
        for result in self.runs:
            run = self.instance.get_run_by_id(result.run_id)
            assert run is not None
            parts.append(dg.serialize_value(run))
            for entry in self.instance.all_logs(result.run_id):
                parts.append(entry.user_message or "")
                parts.append(dg.serialize_value(entry))
        return "\n".join(parts)

    def errors(self) -> list[str]:
        """Message and stack of every failure event of the runs."""
        found = []
        for result in self.runs:
            for event in result.all_events:
                error = getattr(event.event_specific_data, "error", None)
                while error is not None:
                    found.append(error.message + "".join(error.stack))
                    error = error.cause
        return found


def run_whole_chain(
    sandbox: SandboxServer, import_date: date, instance: dg.DagsterInstance
) -> ChainRuns:
    """all_jobs for ``import_date``, then register and checker, as the demo does."""
    from kroton_pipeline.definitions import defs  # after the test set the environment

    definitions = defs()
    chain = ChainRuns(instance)
    partition = import_date.isoformat()

    def run(name: str, run_config: dict | None = None) -> None:
        job = definitions.resolve_job_def(name)
        result = job.execute_in_process(
            partition_key=partition,
            instance=instance,
            run_config={**QUIET, **(run_config or {})},
            raise_on_error=False,
        )
        chain.runs.append(result)

    run("all_jobs")
    sandbox.advance(15 * 60)
    run("register", {"ops": {"registrations": {"config": {"poll_after_minutes": 0}}}})
    sandbox.advance(3 * 24 * 3600)
    run("checker", {"ops": {"follow_up_snapshots": {"config": {"ignore_schedule": True}}}})
    return chain
