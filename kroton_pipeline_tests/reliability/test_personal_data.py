"""Personal data never leaves unmasked (LGPD).

The whole chain runs through Dagster on the sandbox with generated leads (5 % of them bad
rows, so rejections and their messages are exercised too). Then every Python log record, the
whole Dagster event log (messages, materialization and check metadata, outputs), the stored
run configuration, every error and every Slack message the run reporter builds are searched
for each lead's CPF, e-mail, phone and birth date, in any formatting: none may appear.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import today_in_sao_paulo
from kroton_pipeline_tests.reliability.dagster_chain import (
    ChainRuns,
    capture_all_logging,
    run_whole_chain,
)

pytestmark = pytest.mark.integration
SEPARATORS = r"[\s().\-+/]*"


def _digits_pattern(digits: str) -> str:
    """Matches these digits with any separators between them, not inside a longer number."""
    return r"(?<![0-9])" + SEPARATORS.join(digits) + r"(?![0-9])"


def personal_patterns(export: pd.DataFrame) -> dict[str, re.Pattern[str]]:
    """One regex per personal value of the export (label -> pattern); labels name no value."""
    patterns: dict[str, str] = {}
    for index, row in export.iterrows():
        cpf = re.sub(r"\D", "", str(row["cpf"]))
        if len(cpf) == 11:
            patterns[f"row {index} cpf"] = _digits_pattern(cpf)
        email = str(row["email"]).strip()
        if "@" in email and len(email) > 5:
            patterns[f"row {index} email"] = re.escape(email)
        phone = re.sub(r"\D", "", f"{row['area_code']}{row['phone_number']}")
        if len(phone) >= 10:
            patterns[f"row {index} phone"] = _digits_pattern(phone)
            patterns[f"row {index} phone number"] = _digits_pattern(phone[2:])
        birthday = str(row["birthday"])
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birthday):
            year, month, day = birthday.split("-")
            patterns[f"row {index} birthday"] = re.escape(birthday)
            patterns[f"row {index} birthday br"] = re.escape(f"{day}/{month}/{year}")
    return {label: re.compile(pattern, re.IGNORECASE) for label, pattern in patterns.items()}


def leaks(texts: dict[str, str], patterns: dict[str, re.Pattern[str]]) -> list[str]:
    """ "<where>: <which value>" for every personal value found (the value is not repeated)."""
    found = []
    for where, text in texts.items():
        for label, pattern in patterns.items():
            if pattern.search(text):
                found.append(f"{where}: {label}")
    return found


def slack_messages(chain: ChainRuns, database_url: str) -> str:
    """Every Slack message the run reporter would send for these runs."""
    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.notifications.reporter import RunReporter
    from kroton_pipeline.notifications.run_facts import run_facts
    from kroton_pipeline.settings import alert_thresholds

    engine = make_engine(database_url)
    reporter = RunReporter(engine, alert_thresholds({}), "http://localhost:3000")
    texts = []
    try:
        for result in chain.runs:
            run = chain.instance.get_run_by_id(result.run_id)
            facts = run_facts(chain.instance, run)
            messages = [reporter.summary(facts, run.status.value), *reporter.alerts(facts)]
            failures = [
                (event.step_key, event.event_specific_data.error)
                for event in result.all_events
                if event.event_type_value == "STEP_FAILURE"
            ]
            if failures:
                messages.append(reporter.failure(facts, failures))
            texts += [str(message.payload("#kroton")) for message in messages]
    finally:
        engine.dispose()
    return "\n".join(texts)


def test_no_personal_data_in_logs_metadata_errors_or_slack(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_date = today_in_sao_paulo()
    database_url = f"sqlite:///{tmp_path / 'kroton.db'}"
    for name, value in {
        "KROTON_ENV": "sandbox",
        "KROTON_SANDBOX_PORT": str(sandbox.port),
        "KROTON_DATABASE_URL": database_url,
        "KROTON_LANDING_URL": str(tmp_path / "landing"),
        "KROTON_RATE_WINDOW_SECONDS": "1",
        "CATALOG_RATE_WINDOW_SECONDS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    export = generate_export(import_date, 40, seed=5, bad_share=0.05, distinct_searches=8)
    write_export(export, tmp_path / "landing", import_date)
    patterns = personal_patterns(export)
    assert len(patterns) > 150

    with capture_all_logging() as captured, dg.DagsterInstance.ephemeral() as instance:
        chain = run_whole_chain(sandbox, import_date, instance)
        stored = chain.stored_text()
        slack = slack_messages(chain, database_url)

    assert all(result.success for result in chain.runs), chain.errors()
    posted = [e for e in sandbox.journal() if e["method"] == "POST" and "inscricao" in e["path"]]
    assert posted, "the chain registered nobody: nothing was tested"
    assert len(captured.lines) > 50 and len(stored) > 10_000 and slack
    found = leaks(
        {
            "python logging": "\n".join(captured.lines),
            "dagster event log and run config": stored,
            "errors": "\n".join(chain.errors()),
            "slack": slack,
        },
        patterns,
    )
    assert not found, f"personal data found unmasked: {found[:20]}"


def test_the_scan_would_see_a_leak() -> None:
    """The patterns find a value however it is formatted (guards the test above)."""
    export = pd.DataFrame(
        [{"cpf": "378.457.608-70", "email": "ana@example.com", "area_code": "11",
          "phone_number": "975405666", "birthday": "1989-08-31"}]
    )  # fmt: skip
    patterns = personal_patterns(export)
    for text in ("cpf 37845760870", "(11) 97540-5666", "ANA@example.com", "31/08/1989"):
        assert leaks({"t": text}, patterns), text
    assert not leaks({"t": "***.457.608-** (11) *****-**66 a***@example.com"}, patterns)
