"""The ``health_check`` job: the deployment's health as asset checks.

The same checks as ``python -m kroton_pipeline.health``, run on the pipeline's own
resources. Every check is blocking, so one failure fails the run, and the Slack failure
sensor reports it with the failed check's name.
"""

import dagster as dg

from kroton_pipeline.defs.common.resources import (
    CaptacaoResource,
    CatalogResource,
    DatabaseResource,
    KrotonResource,
)
from kroton_pipeline.defs.common.stages import REPORTING
from kroton_pipeline.health import (
    CheckOutcome,
    check_client,
    check_database,
    check_names,
    check_settings,
)
from kroton_pipeline.settings import TIMEZONE

DESCRIPTIONS = {
    "settings": "Every setting KROTON_ENV needs is present and valid.",
    "database": "The project database answers.",
    "names_table": "The IBGE names table is loaded (fix_data needs it).",
    "kroton_token": "Kroton issues an OAuth2 token and a CPF look-up answers.",
    "captacao_token": "The Captação API logs in and a look-up answers.",
    "catalog_search": "The catalog middleware accepts the API key and answers a search.",
}
HEALTH_CHECKS = [
    dg.AssetCheckSpec(name, asset="deployment_health", description=text, blocking=True)
    for name, text in DESCRIPTIONS.items()
]


@dg.asset(
    group_name=REPORTING,
    kinds={"python", "kroton"},
    owners=["team:integrations"],
    check_specs=HEALTH_CHECKS,
    description=(
        "Health of the deployment: settings complete, database reachable, IBGE names loaded, "
        "Kroton and Captação tokens, catalog search. Each is an asset check; a failed one "
        "fails the run (and Slack says which). Costs 3 Kroton and 1 catalog request."
    ),
)
def deployment_health(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    kroton: KrotonResource,
    captacao: CaptacaoResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    outcomes: list[CheckOutcome] = [check_settings()[0]]
    try:
        engine = database.get_engine()
    except Exception as exc:  # unreachable: every database check fails with the reason
        reason = f"unreachable: {type(exc).__name__}"
        outcomes += [
            CheckOutcome("database", False, reason),
            CheckOutcome("names_table", False, reason),
        ]
    else:
        outcomes += [check_database(engine), check_names(engine)]
    outcomes += [
        check_client("kroton_token", kroton.health),
        check_client("captacao_token", captacao.health),
        check_client("catalog_search", catalog.health),
    ]
    for outcome in outcomes:
        (context.log.info if outcome.ok else context.log.error)(outcome.line())
    return dg.MaterializeResult(
        metadata={
            "checks_passed": sum(outcome.ok for outcome in outcomes),
            "checks_failed": sum(not outcome.ok for outcome in outcomes),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=outcome.name,
                passed=outcome.ok,
                description=outcome.detail,
                metadata={"detail": outcome.detail},
            )
            for outcome in outcomes
        ],
    )


health_check = dg.define_asset_job(
    "health_check",
    selection=[deployment_health],
    description=(
        "Check settings, database, IBGE names, Kroton and Captação tokens and the catalog "
        "(same checks as `python -m kroton_pipeline.health`)."
    ),
)

hourly_health_check = dg.ScheduleDefinition(
    name="hourly_health_check",
    job=health_check,
    cron_schedule="15 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every hour at :15, the health check: automatic, as the design document asks; a "
        "failure reaches Slack."
    ),
)
