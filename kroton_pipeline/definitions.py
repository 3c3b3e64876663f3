"""The code location: every definition under ``defs/`` plus the resources for KROTON_ENV."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

from kroton_pipeline.defs.common.resources import resources_for_environment
from kroton_pipeline.notifications.slack import slack_resource
from kroton_pipeline.settings import Settings, load_settings


def _with_code_references(folder_defs: dg.Definitions, settings: Settings) -> dg.Definitions:
    """Each asset links to its source: the local file, or the repository when
    ``KROTON_GIT_URL`` (and ``KROTON_GIT_BRANCH``, default ``main``) are set."""
    assets = list(folder_defs.assets or [])
    # Deliberate use of Dagster's beta code-reference helpers: silence their BetaWarning
    # so that `dg dev` starts clean.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = dg.with_source_code_references(assets)
        if settings.git_url:
            assets = dg.link_code_references_to_git(
                assets,
                git_url=settings.git_url,
                git_branch=settings.git_branch,
                file_path_mapping=dg.AnchorBasedFilePathMapping(
                    local_file_anchor=Path(__file__),
                    file_anchor_path_in_repository="kroton_pipeline/definitions.py",
                ),
            )
    return dg.Definitions(
        assets=assets,
        asset_checks=folder_defs.asset_checks,
        jobs=folder_defs.jobs,
        schedules=folder_defs.schedules,
        sensors=folder_defs.sensors,
        resources=folder_defs.resources,
        # One process per run: the steps of a job form a chain, so a process per step would
        # only reload the code location for each step, and a run worker killed under the
        # multiprocess executor leaves its step process running (and sending) on its own.
        executor=folder_defs.executor or dg.in_process_executor,
        loggers=folder_defs.loggers,
        metadata=folder_defs.metadata,
        component_tree=folder_defs.component_tree,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Load the ``defs`` folder and bind the resources chosen by ``KROTON_ENV``."""
    settings = load_settings()
    folder_defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    resources = {**resources_for_environment(settings), "slack": slack_resource(settings)}
    return dg.Definitions.merge(
        _with_code_references(folder_defs, settings), dg.Definitions(resources=resources)
    )
