"""Jobs of the import: ``import_leads`` and ``all_jobs``, the one the landing sensor requests.

Jobs are named after the source service's actions (docs/operations.md, Running it).
"""

from __future__ import annotations

import dagster as dg

import_leads = dg.define_asset_job(
    "import_leads",
    selection=["subscriptions"],
    description="Import one day's Databricks export (subscriptions).",
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
