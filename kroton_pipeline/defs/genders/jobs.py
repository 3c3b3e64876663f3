"""``fix_data``: the gender fill of one import date, on its own."""

from __future__ import annotations

import dagster as dg

fix_data = dg.define_asset_job(
    "fix_data",
    selection=["subscription_genders"],
    description="fixData: fill missing genders from other subscriptions and the IBGE table.",
)
