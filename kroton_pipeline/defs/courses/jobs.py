"""``sync_courses``: the catalog search of one import date, on its own."""

from __future__ import annotations

import dagster as dg

sync_courses = dg.define_asset_job(
    "sync_courses",
    selection=["course_matches"],
    description="syncCourses: find two catalog offers per lead.",
)
