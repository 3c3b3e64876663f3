"""The support reference and the Support section of docs/operations.md agree with the code."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from kroton_pipeline.domain.reason_catalogue import CATALOGUE
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.support.next_step import next_step
from kroton_pipeline.support.reference import REFERENCE_PATH, reference_markdown

OPERATIONS_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
# Names the Support section may quote besides statuses and reason codes.
OTHER_NAMES = {
    "daily_volume",
    "funnel_report",
    "registration_success_rate",
    "registrations",
    "replay_register_failed",
    "subscriptions",
}


def support_section() -> str:
    text = OPERATIONS_GUIDE.read_text(encoding="utf-8")
    return text.split("\n## Support\n", 1)[1].split("\n## ", 1)[0]


def test_support_reference_is_generated_from_the_catalogue() -> None:
    assert REFERENCE_PATH.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/support.md is stale: run python -m kroton_pipeline.support.reference"
    )
    for info in CATALOGUE.values():
        assert f"| `{info.code}` | {info.meaning} |" in reference_markdown()


def test_support_section_names_only_real_statuses_and_codes() -> None:
    quoted = set(re.findall(r"`([a-z][a-z_]*)`", support_section()))
    known = {status.value for status in Status} | set(CATALOGUE) | OTHER_NAMES
    assert quoted - known == set()
    # The design document's answer to "why was a student not registered?" names these three.
    assert {"course_failed", "empty_course", "register_failed"} <= quoted


def test_support_section_quotes_what_the_look_up_really_says() -> None:
    section = " ".join(support_section().split())
    now = datetime(2026, 11, 28, 15, 0)
    refused = {
        "status": "register_failed",
        "status_reason": "kroton_rejected: CPF inválido",
        "import_date": date(2026, 11, 28),
    }
    pending = {
        "status": "awaiting_register",
        "import_date": date(2026, 11, 28),
        "last_check": now - timedelta(minutes=3),
    }
    assert f"Next: {next_step(refused, now)}" in section
    assert f"Next: {next_step(pending, now).rstrip('.')}" in section
