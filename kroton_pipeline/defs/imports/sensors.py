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
from kroton_pipeline.landing import exports_by_date, sha256_of

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
    seen: dict[str, dict[str, str]] = _read_cursor(context.cursor)
    partition_keys = set(import_date_partitions.get_partition_keys())
    run_requests: list[dg.RunRequest] = []
    reports: list[str] = []
    for import_date, export in sorted(exports_by_date(landing.url).items()):
        key = import_date.isoformat()
        stamp = export.stamp()
        known = seen.get(key)
        if known is not None and known.get("stamp") == stamp:
            continue  # unchanged since the last tick: not read again
        digest = sha256_of(export.read_bytes())
        if known is not None:
            if known["sha256"] != digest:
                reports.append(f"{export.name} changed after it was imported; not re-imported")
            seen[key] = {**known, "stamp": stamp}  # report a change once, not every tick
            continue
        if key not in partition_keys:
            reports.append(f"{export.name} has no import-date partition; ignored")
            continue
        seen[key] = {"sha256": digest, "stamp": stamp}
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


def _read_cursor(cursor: str | None) -> dict[str, dict[str, str]]:
    """The cursor: import date -> SHA-256 of the file imported and its last seen stamp."""
    raw = json.loads(cursor) if cursor else {}
    # Older cursors held the SHA-256 alone.
    return {
        key: value if isinstance(value, dict) else {"sha256": value, "stamp": ""}
        for key, value in raw.items()
    }
