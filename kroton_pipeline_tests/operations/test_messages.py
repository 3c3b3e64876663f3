"""Slack messages carry figures and links, never personal data."""

from __future__ import annotations

import json

from kroton_pipeline.notifications.messages import (
    alert_message,
    counts_line,
    run_failed_message,
    run_finished_message,
)

CPF = "378.457.608-70"
EMAIL = "mauricio.matsoui@redealumni.com"
PHONE = "11975405666"


def _all_text(message) -> str:
    return json.dumps(message.payload("#ops"), ensure_ascii=False)


def test_end_of_job_message_has_counts_per_status_and_the_run_link() -> None:
    message = run_finished_message(
        "all_jobs",
        "0123456789abcdef",
        "SUCCESS",
        "2026-11-28",
        {"registered": 120, "to_register": 3, "failed": 0},
        42.4,
        "http://ui/runs/0123456789abcdef",
    )
    text = _all_text(message)
    assert "registered 120 · to_register 3" in message.text
    assert "failed 0" not in text
    assert "2026-11-28" in message.text  # operational dates stay readable
    assert "<http://ui/runs/0123456789abcdef|Open the run>" in text


def test_failure_message_names_the_error_class_and_masks_personal_data() -> None:
    error = f"lead {CPF} ({EMAIL}, {PHONE}) born 1989-08-31 was refused\nTraceback..."
    message = run_failed_message(
        "register", "abcdef0123456789", "2026-11-28", "KrotonRejected", error, "registrations", None
    )
    text = _all_text(message)
    assert "KrotonRejected" in message.text
    assert "`registrations`" in text
    for personal in (CPF, "37845760870", EMAIL, PHONE, "975405666", "1989-08-31"):
        assert personal not in text
    assert "Traceback" not in text  # first line only


def test_long_error_messages_are_cut() -> None:
    message = run_failed_message("register", "r" * 16, None, "Failure", "x" * 2000, None, None)
    assert len(_all_text(message)) < 800


def test_alert_messages_say_started_or_cleared() -> None:
    started = alert_message("rate-limit waits on the Kroton API", True, "95 s", "r1234567", None)
    cleared = alert_message("rate-limit waits on the Kroton API", False, "0 s", "r7654321", None)
    assert "Alert started" in started.text and ":warning:" in started.text
    assert "Alert cleared" in cleared.text


def test_counts_line_without_leads() -> None:
    assert counts_line({"registered": 0}) == "no leads"
