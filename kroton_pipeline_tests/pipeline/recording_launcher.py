"""A Dagster run launcher for queue tests: it starts nothing, it only records.

Configured in a test instance's ``dagster.yaml`` as::

    run_launcher:
      module: kroton_pipeline_tests.pipeline.recording_launcher
      class: RecordingRunLauncher

A launched run is moved to STARTED (as a run worker would on start-up) and then left there,
so it keeps holding its pools until the test ends it. No step executes, so nothing reaches
the database or the Kroton API.
"""

from __future__ import annotations

from typing import Any

from dagster import DagsterEvent, DagsterEventType
from dagster._config import Shape
from dagster._core.launcher import LaunchRunContext, RunLauncher
from dagster._serdes import ConfigurableClass, ConfigurableClassData


class RecordingRunLauncher(RunLauncher, ConfigurableClass):
    """Marks each launched run STARTED and remembers its id, in launch order."""

    def __init__(self, inst_data: ConfigurableClassData | None = None) -> None:
        self._inst_data = inst_data
        self.launched: list[str] = []
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> Shape:
        return Shape({})

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: dict[str, Any]
    ) -> RecordingRunLauncher:
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        self.launched.append(run.run_id)
        started = DagsterEvent(
            event_type_value=DagsterEventType.RUN_START.value, job_name=run.job_name
        )
        self._instance.report_dagster_event(started, run_id=run.run_id)

    def terminate(self, run_id: str) -> bool:
        return False
