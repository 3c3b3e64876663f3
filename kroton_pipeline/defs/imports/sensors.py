"""The landing sensor: one run of the whole chain per new Databricks export.

The cursor remembers the SHA-256 of every export it started a run for, so each import date
runs exactly once. A file that appears again with different content is reported in the
sensor's log and tick, never silently re-imported: an operator re-runs the partition (or a
backfill) on purpose once they have checked why Databricks wrote it again.
"""

import json

import dagster as dg

from kroton_pipeline.defs.common.partitions import import_date_partitions
from kroton_pipeline.defs.common.resources import LandingResource
from kroton_pipeline.defs.jobs import all_jobs
from kroton_pipeline.landing import list_exports, sha256_of

EXPORT_FILE_TAG = "kroton/export_file"
EXPORT_SHA_TAG = "kroton/export_sha256"


@dg.sensor(
    job=all_jobs,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the landing location (KROTON_LANDING_URL) and starts all_jobs for each new "
        "leads_YYYY-MM-DD export, once per import date. Changed re-deliveries are reported, "
        "not re-imported."
    ),
)
def landing_sensor(
    context: dg.SensorEvaluationContext, landing: LandingResource
) -> dg.SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    partition_keys = set(import_date_partitions.get_partition_keys())
    run_requests: list[dg.RunRequest] = []
    reports: list[str] = []
    for export in list_exports(landing.url):
        key = export.import_date.isoformat()
        digest = sha256_of(export.read_bytes())
        if key in seen:
            if seen[key] != digest:
                reports.append(f"{export.name} changed after it was imported; not re-imported")
            continue
        if key not in partition_keys:
            reports.append(f"{export.name} has no import-date partition; ignored")
            continue
        seen[key] = digest
        run_requests.append(
            dg.RunRequest(
                run_key=f"{key}:{digest[:16]}",
                partition_key=key,
                tags={EXPORT_FILE_TAG: export.name, EXPORT_SHA_TAG: digest},
            )
        )
    for report in reports:
        context.log.warning(report)
    return dg.SensorResult(
        run_requests=run_requests,
        cursor=json.dumps(seen, sort_keys=True),
        skip_reason=None if run_requests else dg.SkipReason("; ".join(reports) or "no new export"),
    )
