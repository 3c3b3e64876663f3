"""The ``funnel_report`` asset publishes tables, an inline chart and plotted numbers."""

from datetime import timedelta

import dagster as dg
from sqlalchemy import Engine

from kroton_pipeline.defs.common.resources import DatabaseResource, KrotonResource, RulesResource
from kroton_pipeline.defs.reporting.assets import funnel_report
from kroton_pipeline.settings import today_in_sao_paulo
from kroton_pipeline_tests.db.factories import create_subscriptions


def _resources(url: str) -> dict[str, object]:
    # The report only reads the Kroton budget settings; it sends nothing.
    kroton = KrotonResource(
        base_url="http://127.0.0.1:9", client_id="c", client_secret="s", subscription_key="k"
    )
    return {"database": DatabaseResource(url=url), "kroton": kroton, "rules": RulesResource()}


def test_funnel_report_materializes_tables_chart_and_numbers(engine: Engine, db_url: str) -> None:
    today = today_in_sao_paulo()
    with engine.begin() as conn:
        create_subscriptions(conn, 3, 1, status="registered", import_date=today)
        create_subscriptions(conn, 2, 10, status="enrolled", import_date=today - timedelta(days=1))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([funnel_report], instance=instance, resources=_resources(db_url))
    assert result.success
    [materialization] = result.asset_materializations_for_node("funnel_report")
    metadata = materialization.metadata
    chart = metadata["chart"]
    assert isinstance(chart, dg.MarkdownMetadataValue)
    assert chart.value.startswith("![Leads per status band](data:image/png;base64,")
    assert len(chart.value) < 1000  # shown inline, not behind "[Show Markdown]"
    assert metadata["chart_leads_by_status"].value.startswith("![Leads per status and import")
    for table in (
        "status_by_import_date",
        "status_last_7_days",
        "conversion_by_modality_30_days",
        "performance_by_campus_7_days",
        "daily_volume",
        "summary",
    ):
        assert isinstance(metadata[table], dg.MarkdownMetadataValue), table
    assert "| EAD | 5 | 5 | 2 | 40.0% |" in metadata["conversion_by_modality_30_days"].value
    assert metadata["leads_total"].value == 5
    assert "| follow-ups | 8640 |" in metadata["budget_plan"].value
    assert metadata["status/enrolled"].value == 2
    assert isinstance(metadata["registration_success_rate"], dg.FloatMetadataValue)
    # No personal data: CPFs, names and e-mails never reach the report.
    text = str({key: value.value for key, value in metadata.items()})
    assert "00000000001" not in text and "example.com" not in text and "Maria" not in text


def test_funnel_report_of_an_empty_database(sqlite_url: str) -> None:
    result = dg.materialize(
        [funnel_report],
        instance=dg.DagsterInstance.ephemeral(),
        resources=_resources(sqlite_url),
    )
    [materialization] = result.asset_materializations_for_node("funnel_report")
    assert materialization.metadata["chart"].value == "_no leads yet_"
