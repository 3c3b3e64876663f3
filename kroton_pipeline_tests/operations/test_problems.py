"""The per-date problems table: reasons read from the database, masked and escaped CPFs,
Kroton's failures first, short enough for the UI to show inline."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from kroton_pipeline.defs.common.metadata import outcomes_metadata, problems_metadata
from kroton_pipeline_tests.db.factories import create_subscriptions

DAY = date(2026, 1, 5)


def test_problems_list_status_reason_id_and_masked_cpf(engine: Engine) -> None:
    with engine.begin() as conn:
        create_subscriptions(conn, 30, 100, status="empty_course", status_reason="no offer")
        [failed] = create_subscriptions(
            conn, 1, 91458600, status="failed", status_reason="kroton ERROR: turma encerrada"
        )
        create_subscriptions(conn, 1, 500, status="to_register", last_error="ReadTimeout")
        create_subscriptions(conn, 5, 600, status="registered")
        create_subscriptions(conn, 2, 700, status="failed", import_date=date(2026, 1, 6))

    metadata = problems_metadata(engine, DAY)

    table = metadata["problems"].value
    assert len(table) < 1000  # shown inline, not behind "[Show Markdown]"
    lines = table.splitlines()
    # Kroton's failure first, with its reason, id and the CPF masked and escaped.
    assert (
        lines[2] == rf"| failed | kroton ERROR: turma encerrada | {failed} | \*\*\*.914.586-\*\* |"
    )
    assert "ReadTimeout" in lines[3]
    assert "more (all counted in problems_by_reason)" in table
    assert metadata["problem_leads"].value == 32
    by_reason = metadata["problems_by_reason"].value
    assert r"| empty\_course: no offer | 30 |" in by_reason
    assert "00091458600" not in table + by_reason and "Maria" not in table


def test_a_date_without_problems_says_so(engine: Engine) -> None:
    with engine.begin() as conn:
        create_subscriptions(conn, 3, 1, status="registered")
    metadata = problems_metadata(engine, DAY)
    assert metadata["problems"].value == "_no failed or stuck lead on this date_"
    assert metadata["problem_leads"].value == 0


def test_run_outcomes_show_from_to_reason_and_counts() -> None:
    metadata = outcomes_metadata(
        {
            ("awaiting_register", "failed", "kroton ERROR: vagas esgotadas"): 10,
            ("awaiting_register", "registered", "pending inscription processed"): 43,
        }
    )
    table = metadata["status_changes"].value
    assert table.splitlines()[2].startswith("| awaiting\\_register | registered |")
    assert metadata["became/failed"].value == 10
    assert metadata["became/registered"].value == 43
