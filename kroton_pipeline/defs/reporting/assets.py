"""The funnel report: one unpartitioned asset over the whole system of record."""

import dagster as dg

from kroton_pipeline.defs.common.resources import DatabaseResource, KrotonResource, RulesResource
from kroton_pipeline.defs.common.stages import REPORTING
from kroton_pipeline.defs.reporting.budget_use import budget_markdown, spent_last_day
from kroton_pipeline.domain.budget_plan import BudgetPlan
from kroton_pipeline.reporting.funnel import funnel_report as build_funnel_report
from kroton_pipeline.reporting.markdown import report_markdown, report_numbers
from kroton_pipeline.settings import TIMEZONE, today_in_sao_paulo

EVERY_PARTITION = dg.AllPartitionMapping()


@dg.asset(
    group_name=REPORTING,
    deps=[
        dg.AssetDep("registrations", partition_mapping=EVERY_PARTITION),
        dg.AssetDep("follow_up_snapshots", partition_mapping=EVERY_PARTITION),
    ],
    kinds={"python", "sql"},
    owners=["team:integrations"],
    description=(
        "The lead funnel over every import date: leads per status and import date (with a "
        "chart), the last 7 days' statuses, conversion per modality (30 days) and per campus "
        "(7 days) — the source document's three monitoring queries — plus the registration "
        "success rate, median hours from import to registration, daily volume and retry "
        "rate, and the day's Kroton budget planned vs spent. Figures are plotted across "
        "materializations in the Plots tab. Refreshed after every run that materializes "
        "registrations or follow_up_snapshots (funnel_refresh_sensor) and at 08:00."
    ),
)
def funnel_report(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    kroton: KrotonResource,
    rules: RulesResource,
) -> dg.MaterializeResult:
    engine = database.get_engine()
    with engine.connect() as conn:
        report = build_funnel_report(conn, today_in_sao_paulo())
    metadata: dict[str, object] = {
        name: dg.MetadataValue.md(text) for name, text in report_markdown(report).items()
    }
    for name, value in report_numbers(report).items():
        metadata[name] = (
            dg.MetadataValue.int(value) if isinstance(value, int) else dg.MetadataValue.float(value)
        )
    plan = BudgetPlan(kroton.rate_limit, kroton.rate_window_seconds, rules.follow_up_share)
    spent = spent_last_day(context.instance)
    metadata["budget_plan"] = dg.MetadataValue.md(budget_markdown(plan, spent))
    metadata["budget/daily_requests"] = dg.MetadataValue.int(plan.daily_requests)
    for kind, value in spent.items():
        metadata[f"budget/spent_24h/{kind.split()[0]}"] = dg.MetadataValue.int(value)
    context.log.info(
        f"funnel report: {report.leads_total} leads over {len(report.status_by_import_date)} "
        "import date(s)"
    )
    return dg.MaterializeResult(metadata=metadata)


refresh_funnel_report = dg.define_asset_job(
    "refresh_funnel_report",
    selection=[funnel_report],
    description="Recompute the funnel report (tables, chart and plotted figures).",
)

daily_funnel_report = dg.ScheduleDefinition(
    name="daily_funnel_report",
    job=refresh_funnel_report,
    cron_schedule="0 8 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning at 08:00 (São Paulo), after the 07:00 checker: refresh the report.",
)


WATCHED_ASSETS = ("registrations", "follow_up_snapshots")


@dg.sensor(
    job=refresh_funnel_report,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Keeps funnel_report current: one refresh after new materializations of "
        "registrations or follow_up_snapshots (registration, retry and checker runs). Its "
        "first tick only notes where the event log stands, so turning it on launches nothing."
    ),
)
def funnel_refresh_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    latest = 0
    for asset in WATCHED_ASSETS:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset)), limit=1
        ).records
        if records:
            latest = max(latest, records[0].storage_id)
    seen = int(context.cursor) if context.cursor else None
    if seen is None or latest <= seen:
        reason = "watching from now on" if seen is None else "no new materialization"
        return dg.SensorResult(cursor=str(latest), skip_reason=dg.SkipReason(reason))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"funnel:{latest}")], cursor=str(latest)
    )
