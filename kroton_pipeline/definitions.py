"""The code location: every definition under ``defs/`` plus the resources for KROTON_ENV."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from kroton_pipeline.defs.common.resources import resources_for_environment


@dg.definitions
def defs() -> dg.Definitions:
    """Load the ``defs`` folder and bind the resources chosen by ``KROTON_ENV``."""
    folder_defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    return dg.Definitions.merge(folder_defs, dg.Definitions(resources=resources_for_environment()))
