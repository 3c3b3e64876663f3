"""LGPD data-subject requests: the ``erase_personal_data`` job.

The person is named by a database id, never by CPF: Dagster keeps every run's configuration
in clear (run storage, the UI's Launchpad and run view) for as long as the run is kept, so a
CPF given as config would outlive the very erasure it asked for. The operator finds the id
with ``python -m kroton_pipeline.steps.erasure`` (CPF typed at a prompt) and launches the
job with it. The run's event log is the record of the erasure: subscription id, time and how
many rows of each table were anonymised — nothing personal.
"""

import dagster as dg

from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.settings import erasure_keys
from kroton_pipeline.steps.erasure import cpf_of, erase_person


class ErasureConfig(dg.Config):
    """Exactly one of the two ids; see the module docstring for how to find it."""

    subscription_id: int | None = None
    """The person's subscription (``subscriptions.id``)."""

    rejection_id: int | None = None
    """A rejected export row of the person, when they never became a subscription."""


@dg.op(
    description=(
        "Anonymise one person's personal data in every table (subscriptions, follow-ups, "
        "snapshots, status history, rejections) keeping statuses and counts."
    ),
)
def erase_person_op(
    context: dg.OpExecutionContext, config: ErasureConfig, database: DatabaseResource
) -> dg.Output[None]:
    if (config.subscription_id is None) == (config.rejection_id is None):
        raise dg.Failure(description="Give exactly one of subscription_id or rejection_id.")
    engine = database.get_engine()
    cpf = cpf_of(engine, config.subscription_id, config.rejection_id)
    result = erase_person(
        engine,
        cpf,
        context.run.run_id,
        keys=erasure_keys(),
        claim_ttl_seconds=database.claim_ttl_seconds,
    )
    context.log.info(
        f"personal data erased: subscription {result.subscription_id}, "
        f"{result.rejections} rejected row(s)"
    )
    return dg.Output(
        None,
        metadata={
            "subscription_id": result.subscription_id if result.subscription_id else "none",
            "erased_at": result.erased_at.isoformat(timespec="seconds") + "Z",
            "closed_status": result.closed_status or "unchanged",
            "rows_anonymised": dg.MetadataValue.json(result.tables),
        },
    )


@dg.job(
    description=(
        "LGPD erasure request: anonymise one person (named by subscription_id or "
        "rejection_id, never by CPF) everywhere; statuses and funnel counts are kept."
    ),
    tags={"kind": "privacy"},
)
def erase_personal_data() -> None:
    erase_person_op()
