"""One materialization, one set of check results, per partition — even in a ranged run.

A backfill of several dates runs as one run (single-run backfill policy), but each date
keeps its own figures: the run's materialization of every partition carries that date's
metadata (``context.add_asset_metadata(..., partition_key=...)``), and each check is
evaluated once per date (an ``AssetCheckEvaluation`` with its partition).

When some dates fail (no export for that day, say), the dates that succeeded are
materialized with their own events and the step then fails naming the others: only the
failed dates turn red.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg


@dataclass
class DateRecord:
    """What one partition gets: its metadata and its check results."""

    metadata: dict[str, Any]
    checks: list[dg.AssetCheckResult] = field(default_factory=list)


def _check_outputs(context: dg.AssetExecutionContext) -> Iterator[dg.Output]:
    # Each declared check is an output of the step; its evaluations were logged per date.
    assets_def = context.assets_def
    for spec in assets_def.check_specs:
        yield dg.Output(None, output_name=assets_def.get_output_name_for_asset_check_key(spec.key))


def _evaluations(asset_key: dg.AssetKey, key: str, record: DateRecord) -> Iterator[Any]:
    for check in record.checks:
        yield dg.AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=check.check_name or "",
            passed=check.passed,
            # The run log shows metadata, not the partition: name the date there too.
            metadata={"date": key, **(check.metadata or {})},
            severity=check.severity,
            description=check.description,
            partition=key,
        )


def materialize_per_date(
    context: dg.AssetExecutionContext,
    records: Mapping[str, DateRecord],
    failure: dg.Failure | None = None,
) -> Iterator[Any]:
    """Events for a run over ``records`` (partition key -> record); raise ``failure`` last.

    Without a failure every partition of the run is materialized with its own metadata; with
    one, only the partitions in ``records`` are, and the step fails.
    """
    asset_key = context.asset_key
    if failure is None:
        for key, record in records.items():
            context.add_asset_metadata(record.metadata, partition_key=key)
        yield dg.MaterializeResult()
    else:
        for key, record in records.items():
            yield dg.AssetMaterialization(asset_key, partition=key, metadata=record.metadata)
    for key, record in records.items():
        yield from _evaluations(asset_key, key, record)
    if failure is not None:
        raise failure
    yield from _check_outputs(context)


def observe_per_date(
    context: dg.AssetExecutionContext, records: Mapping[str, dict[str, Any]]
) -> Iterator[Any]:
    """A run that changed nothing (a dry run): one observation per date, no materialization
    and no check result — there is nothing to judge. The asset needs ``output_required=False``.
    """
    for key, metadata in records.items():
        yield dg.AssetObservation(context.asset_key, partition=key, metadata=metadata)
    yield from _check_outputs(context)


def run_keys(context: dg.AssetExecutionContext) -> Sequence[str]:
    """The partition keys the run covers (one, or a backfill's range)."""
    return list(context.partition_keys)
