"""``register``, and the retry pass of leads left behind (scheduled in ``schedules.py``)."""

from __future__ import annotations

import dagster as dg

register = dg.define_asset_job(
    "register",
    selection=["registrations"],
    description="register: CPF pre-check, then register leads at Kroton; poll pending ones.",
)
retry_pass = dg.define_asset_job(
    "retry_pass",
    selection=["subscription_genders", "course_matches", "registrations"],
    description=(
        "Retry pass: leads left behind (genders, catalog errors, transient Kroton failures, "
        "unknown outcomes) and pending inscriptions."
    ),
)
