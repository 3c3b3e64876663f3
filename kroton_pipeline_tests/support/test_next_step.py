"""What happens next, in plain words: who moves the lead on, when, or what to fix."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kroton_pipeline.steps.register_leads import DEFAULT_POLL_AFTER
from kroton_pipeline.support.next_step import POLL_AFTER, next_step

NOW = datetime(2026, 11, 28, 15, 0)
DAY = date(2026, 11, 28)


def test_poll_interval_is_the_registration_pass_s() -> None:
    assert POLL_AFTER == DEFAULT_POLL_AFTER


def test_pending_inscription_polled_ten_minutes_after_the_last_answer() -> None:
    lead = {"status": "awaiting_register", "import_date": DAY, "last_check": NOW}
    assert "next poll in ~10 min" in next_step(lead, NOW)
    lead["last_check"] = NOW - timedelta(minutes=11)
    assert "a poll is due: the next register, all_jobs or retry run of 2026-11-28" in next_step(
        lead, NOW
    )
    lead["next_check_on"] = date(2026, 11, 29)
    assert next_step(lead, NOW).endswith("; the checker also looks on 2026-11-29.")


def test_registered_lead_says_when_it_is_looked_at_next_or_that_tracking_ended() -> None:
    lead = {"status": "registered", "import_date": DAY, "next_check_on": date(2026, 12, 3)}
    assert next_step(lead, NOW) == "registered: next follow-up on 2026-12-03."
    lead.update(next_check_on=None, last_check=datetime(2027, 1, 6, 10))
    assert "follow-ups ended after the look on 2027-01-06" in next_step(lead, NOW)
    lead.update(last_check=None)
    assert next_step(lead, NOW) == "registered: the next checker run looks at it."


def test_held_lead_names_its_fix_and_the_replay_job() -> None:
    lead = {"status": "register_failed", "status_reason": "gender_unknown", "import_date": DAY}
    assert next_step(lead, NOW) == (
        "register_failed (gender_unknown): fix the gender, then replay with reason "
        "gender_unknown (job replay_register_failed, import date 2026-11-28)."
    )


def test_next_step_never_quotes_a_reason_detail() -> None:
    for status in ("register_failed", "failed", "course_failed"):
        lead = {
            "status": status,
            "status_reason": "kroton_rejected: 123.456.789-09",
            "import_date": DAY,
            "attempts": 2,
            "last_error": "joana@example.com",
        }
        told = next_step(lead, NOW)
        assert "123.456.789-09" not in told and "joana@example.com" not in told
