"""The landing sensor: one run of the whole chain per complete export of an import date.

Sources, per import date: the landing export (a file or a Spark directory, see
``kroton_pipeline.landing``) when there is one, else a complete batch the Databricks job
staged in ``incoming_leads`` (``kroton_pipeline.steps.import_leads``). docs/exports.md is
the contract.

Completeness: an export with a completion marker (``leads_YYYY-MM-DD.csv.done`` beside a
file, ``_SUCCESS`` inside a Spark directory) is complete as soon as it is seen; a file
without one is complete once its size and modification time are the same on two ticks in
a row. An empty file is never complete. A staged batch is complete once ``incoming_leads``
holds its ``row_count`` rows.

The cursor holds, per import date, the stamp last seen, the stamp and SHA-256 of the content
a run was *requested* for, and that request's attempt. It does not say "imported": the
Dagster instance does. While the run for (date, SHA-256) is not known to have succeeded the
sensor looks it up by its tags; when it failed or was cancelled the sensor requests it again
(a new run key, ``…:2``, ``…:3``), up to ``MAX_ATTEMPTS`` times, then reports it once and
waits for a new delivery or a manual re-run. A complete export whose content differs from
the one requested before (a re-delivery) is requested again: the import is idempotent by
CPF and reports what the new content added and updated.

Names that match the export pattern but cannot be imported (``leads_2026-02-30.csv``, a
directory without ``_SUCCESS``) are reported once in the log and the tick, then only again
if their reason changes; they never stop another date.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from kroton_pipeline.defs.common.partitions import import_date_partitions
from kroton_pipeline.defs.common.resources import DatabaseResource, LandingResource
from kroton_pipeline.defs.imports.jobs import all_jobs
from kroton_pipeline.landing import ExportFile, scan_landing
from kroton_pipeline.settings import load_settings
from kroton_pipeline.steps.import_leads import StagedBatch, complete_batches

EXPORT_FILE_TAG = "kroton/export_file"
EXPORT_SHA_TAG = "kroton/export_sha256"
EXPORT_ATTEMPT_TAG = "kroton/export_attempt"
PARTITION_TAG = "dagster/partition"
# Runs requested for one content of one date before the sensor stops asking again.
MAX_ATTEMPTS = 3
# The cursor's entry for the names skipped (the others are import dates).
SKIPPED_KEY = "_skipped"

Source = ExportFile | StagedBatch
_FAILED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


@dataclass
class Tick:
    """What one evaluation decided: run requests, reports (logged) and dates still waiting."""

    requests: list[dg.RunRequest] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


@dg.sensor(
    job=all_jobs,
    # Read when the definitions load (KROTON_LANDING_SENSOR_INTERVAL_SECONDS, default 60).
    minimum_interval_seconds=load_settings().landing_sensor_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the landing location (KROTON_LANDING_URL) and the incoming_batches table and "
        "starts all_jobs for each complete leads_YYYY-MM-DD export: a file stable for two "
        "ticks or marked .done, a Spark directory with _SUCCESS, or a complete staged batch. "
        "Re-deliveries are imported again; failed imports are requested again (3 attempts); "
        "bad names are reported once."
    ),
)
def landing_sensor(
    context: dg.SensorEvaluationContext, landing: LandingResource, database: DatabaseResource
) -> dg.SensorResult:
    seen = _read_cursor(context.cursor)
    tick = Tick()
    scan = scan_landing(landing.url)
    skipped_before = seen.pop(SKIPPED_KEY, {})
    for name, reason in sorted(scan.skipped.items()):
        if skipped_before.get(name) != reason:
            tick.reports.append(f"{name} skipped: {reason}")

    sources: dict[str, Source] = {}
    for export in scan.exports:
        sources.setdefault(export.import_date.isoformat(), export)
    for day, batch in complete_batches(database.get_engine()).items():
        sources.setdefault(day.isoformat(), batch)

    partition_keys = set(import_date_partitions.get_partition_keys())
    for key, source in sorted(sources.items()):
        seen[key] = _consider(context, key, source, seen.get(key, {}), partition_keys, tick)

    for report in tick.reports:
        context.log.warning(report)
    reason = "; ".join(tick.reports + tick.waiting) or "no new export"
    return dg.SensorResult(
        run_requests=tick.requests,
        cursor=json.dumps({**seen, SKIPPED_KEY: scan.skipped}, sort_keys=True),
        skip_reason=None if tick.requests else dg.SkipReason(reason),
    )


def _consider(
    context: dg.SensorEvaluationContext,
    key: str,
    source: Source,
    state: dict[str, Any],
    partition_keys: set[str],
    tick: Tick,
) -> dict[str, Any]:
    """The date's new cursor state; appends its run request or report to ``tick``."""
    stamp = source.stamp()
    if stamp == state.get("requested"):
        return _follow_up(context, key, source, state, tick)
    if stamp != state.get("stamp") and not source.has_marker():
        tick.waiting.append(f"{source.name}: waiting until it stops changing")
        return {**state, "stamp": stamp}
    state = {**state, "stamp": stamp}
    if source.is_empty():
        tick.waiting.append(f"{source.name}: empty, waiting for data")
        return state
    if key not in partition_keys:
        if state.get("reported") != stamp:
            tick.reports.append(f"{source.name} has no import-date partition; ignored")
        return {**state, "reported": stamp}
    digest = source.digest()
    if digest == state.get("sha256"):
        return {**state, "requested": stamp}  # touched, same content: nothing to import
    if state.get("sha256"):
        tick.reports.append(f"{source.name} changed after it was requested; importing it again")
    tick.requests.append(_request(key, source, digest, attempt=1))
    return {**state, "requested": stamp, "sha256": digest, "attempt": 1, "settled": False}


def _follow_up(
    context: dg.SensorEvaluationContext,
    key: str,
    source: Source,
    state: dict[str, Any],
    tick: Tick,
) -> dict[str, Any]:
    """Unchanged since its request: ask again if that run failed, until it succeeded."""
    if state.get("settled", True):
        return state
    attempt = int(state.get("attempt", 1))
    tags = {EXPORT_SHA_TAG: state["sha256"], PARTITION_TAG: key, EXPORT_ATTEMPT_TAG: str(attempt)}
    # Every run of this request (two deployments sharing a tick may both have started one).
    statuses = {run.status for run in context.instance.get_runs(dg.RunsFilter(tags=tags))}
    if dg.DagsterRunStatus.SUCCESS in statuses:
        return {**state, "settled": True}
    if not statuses or not statuses <= set(_FAILED):
        return state  # the latest request's run is not launched yet, or still running
    if attempt >= MAX_ATTEMPTS:
        tick.reports.append(
            f"{source.name}: its import failed {attempt} times; not requested again until "
            "the export changes (or re-run the partition)"
        )
        return {**state, "settled": True}
    tick.requests.append(_request(key, source, state["sha256"], attempt + 1))
    return {**state, "attempt": attempt + 1}


def _request(key: str, source: Source, digest: str, attempt: int) -> dg.RunRequest:
    suffix = "" if attempt == 1 else f":{attempt}"
    return dg.RunRequest(
        run_key=f"{key}:{digest[:16]}{suffix}",
        partition_key=key,
        tags={
            EXPORT_FILE_TAG: source.name,
            EXPORT_SHA_TAG: digest,
            EXPORT_ATTEMPT_TAG: str(attempt),
        },
    )


def _read_cursor(cursor: str | None) -> dict[str, Any]:
    """The cursor: import date -> its state, and the skipped names under ``_skipped``."""
    raw: Mapping[str, Any] = json.loads(cursor) if cursor else {}
    state: dict[str, Any] = {}
    for key, value in raw.items():
        legacy = not isinstance(value, dict) or ("sha256" in value and "requested" not in value)
        if key == SKIPPED_KEY or not legacy:
            state[key] = value
        else:
            # Earlier cursors held the imported SHA-256 (and its stamp): already requested.
            value = value if isinstance(value, dict) else {"sha256": value, "stamp": ""}
            state[key] = {**value, "requested": value.get("stamp", ""), "settled": True}
    return state
