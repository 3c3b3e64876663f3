"""Replaying ``register_failed`` leads on request: the ``replay_register_failed`` job."""

from datetime import date

import dagster as dg
from pydantic import Field

from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.domain.reason_catalogue import status_reason_info
from kroton_pipeline.domain.statuses import Status, StatusReason
from kroton_pipeline.steps.replay_failed import replay_register_failed

# The register_failed reasons worth replaying once their cause is fixed, and what fixes it.
# The job's description and its config schema are written from this one list.
REPLAYABLE_REASONS: dict[str, str] = {
    code.value: status_reason_info(code.value).action  # type: ignore[union-attr]
    for code in (
        StatusReason.GENDER_UNKNOWN,
        StatusReason.INVALID_PAYLOAD,
        StatusReason.NO_COURSE_OPTIONS,
        StatusReason.KROTON_REJECTED,
    )
}
REASONS_TEXT = "; ".join(f"`{reason}` ({fix})" for reason, fix in REPLAYABLE_REASONS.items())


class ReplayConfig(dg.Config):
    """Which failed leads go back, and how far."""

    import_date: str = Field(
        description="The import date (YYYY-MM-DD) whose register_failed leads are replayed."
    )
    reason_prefix: str | None = Field(
        None,
        description=(
            "Only leads whose reason starts with this (empty: every register_failed lead of "
            f"the date). Reasons: {REASONS_TEXT}. The `problems` table of `registrations` "
            "shows each lead's reason."
        ),
    )
    back_to: str = Field(
        "to_sync",
        description="to_sync: search courses again and register; to_register: register only.",
    )


@dg.op(
    description=(
        "Move the import date's register_failed leads back to to_sync or to_register, "
        "through the state machine; the next all_jobs / retry pass sends them."
    )
)
def replay_failed_leads(
    context: dg.OpExecutionContext, config: ReplayConfig, database: DatabaseResource
) -> dg.Output[None]:
    try:
        to_status = Status(config.back_to)
        import_date = date.fromisoformat(config.import_date)
        result = replay_register_failed(
            database.get_engine(), import_date, to_status, config.reason_prefix, context.run.run_id
        )
    except ValueError as exc:
        raise dg.Failure(description=f"invalid replay config: {exc}") from exc
    context.log.info(f"{result.replayed} lead(s) of {import_date} back to {to_status}")
    return dg.Output(None, metadata={"replayed": result.replayed, "back_to": to_status.value})


@dg.job(
    name="replay_register_failed",
    description=(
        "Replay register_failed leads of one import date after their cause is fixed; then run "
        "all_jobs or wait for the retry pass. `reason_prefix` picks the leads: "
        f"{REASONS_TEXT}."
    ),
)
def replay_register_failed_job() -> None:
    replay_failed_leads()
