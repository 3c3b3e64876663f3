"""Jobs named after the source service's actions (docs/operations.md, Running it)."""

from __future__ import annotations

import dagster as dg

import_leads = dg.define_asset_job(
    "import_leads",
    selection=["subscriptions"],
    description="Import one day's Databricks export (subscriptions).",
)
fix_data = dg.define_asset_job(
    "fix_data",
    selection=["subscription_genders"],
    description="fixData: fill missing genders from other subscriptions and the IBGE table.",
)
sync_courses = dg.define_asset_job(
    "sync_courses",
    selection=["course_matches"],
    description="syncCourses: find two catalog offers per lead.",
)
register = dg.define_asset_job(
    "register",
    selection=["registrations"],
    description="register: CPF pre-check, then register leads at Kroton; poll pending ones.",
)
checker = dg.define_asset_job(
    "checker",
    selection=["follow_up_snapshots"],
    description="checker: the daily follow-up of every tracked lead.",
)
all_jobs = dg.define_asset_job(
    "all_jobs",
    selection=[
        "subscriptions",
        "subscription_genders",
        "course_matches",
        "registrations",
        "follow_up_snapshots",
    ],
    description=(
        "allJobs: every action — import → fixData → syncCourses → register → checker — for "
        "one date (the checker follows every tracked lead due that day)."
    ),
)
retry_pass = dg.define_asset_job(
    "retry_pass",
    selection=["subscription_genders", "course_matches", "registrations"],
    description=(
        "Retry pass: leads left behind (genders, catalog errors, transient Kroton failures, "
        "unknown outcomes) and pending inscriptions."
    ),
)
