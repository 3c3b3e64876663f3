"""The few calls of Dagster's GraphQL API the topology tests make, as an operator's UI would."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

LOCATION = "kroton_pipeline"  # the code location name of every workspace
REPOSITORY = "__repository__"  # what Dagster names the repository of a @definitions module

WORKSPACE = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
RUNS = """
query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
  __typename ... on Runs { results {
    runId jobName status startTime endTime parentRunId rootRunId tags { key value } } }
  ... on PythonError { message } } }
"""
SENSOR = """
query Sensor($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  __typename ... on Sensor { id sensorState { status ticks(limit: 5) { status runIds } } }
  ... on PythonError { message } } }
"""
STOP_SENSOR = """
mutation Stop($id: String) { stopSensor(id: $id) { __typename
  ... on StopSensorMutationResult { instigationState { status } }
  ... on PythonError { message } } }
"""
LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
  ... on Error { message } } }
"""
BACKFILL = """
query Backfill($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { status runs { runId status tags { key value } } }
  ... on PythonError { message } } }
"""
LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId status } }
  ... on PythonError { message } ... on Error { message } } }
"""
LOGS = """
query Logs($runId: ID!) { logsForRun(runId: $runId) { __typename
  ... on EventConnection { events { __typename ... on MessageEvent { message } } } } }
"""
STARTED_PROCESS = re.compile(r"Started process for run \(pid: (\d+)\)")


class GraphQLError(RuntimeError):
    """The API answered with errors or an error type; the message carries them."""


@dataclass
class Run:
    """A run as the API shows it."""

    run_id: str
    job: str
    status: str
    start: float | None
    end: float | None
    parent: str | None
    tags: dict[str, str]

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Run:
        return cls(
            item["runId"],
            item["jobName"],
            item["status"],
            item["startTime"],
            item["endTime"],
            item["parentRunId"],
            {tag["key"]: tag["value"] for tag in item["tags"]},
        )


class DagsterGraphQL:
    """A client of one webserver's ``/graphql``."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url.rstrip("/") + "/graphql"
        self.http = httpx.Client(timeout=30)

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of the answer; one retry after a server error (a stale connection of
        the webserver's pool answers 500 once, e.g. after PostgreSQL restarted)."""
        for attempt in (1, 2):
            reply = self.http.post(self.url, json={"query": document, "variables": variables})
            if reply.status_code < 500 or attempt == 2:
                break
            time.sleep(1)
        reply.raise_for_status()
        body = reply.json()
        if body.get("errors"):
            raise GraphQLError(str(body["errors"]))
        return body["data"]

    @staticmethod
    def _expect(result: dict[str, Any], typename: str) -> dict[str, Any]:
        if result["__typename"] != typename:
            raise GraphQLError(f"{result['__typename']}: {result.get('message')}")
        return result

    def location_loaded(self) -> bool:
        """Whether the webserver has loaded the code location from its gRPC server."""
        data = self.query(WORKSPACE)["workspaceOrError"]
        entries = {e["name"]: e for e in self._expect(data, "Workspace")["locationEntries"]}
        entry = entries.get(LOCATION)
        if entry is None or entry["loadStatus"] != "LOADED":
            return False
        loaded = entry["locationOrLoadError"]
        if loaded["__typename"] == "PythonError":
            raise GraphQLError(f"the code location failed to load: {loaded['message']}")
        return True

    def runs(self, job: str | None = None, **tags: str) -> list[Run]:
        """Every run (of ``job``, with ``tags``), newest first."""
        run_filter: dict[str, Any] = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
        if job:
            run_filter["pipelineName"] = job
        data = self._expect(self.query(RUNS, filter=run_filter)["runsOrError"], "Runs")
        return [Run.from_api(item) for item in data["results"]]

    def run(self, run_id: str) -> Run:
        data = self._expect(self.query(RUNS, filter={"runIds": [run_id]})["runsOrError"], "Runs")
        return Run.from_api(data["results"][0])

    def sensor(self, name: str) -> dict[str, Any]:
        selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
        data = self.query(SENSOR, selector={**selector, "sensorName": name})
        return self._expect(data["sensorOrError"], "Sensor")

    def stop_sensor(self, name: str) -> str:
        """Stop a sensor as the UI's toggle does; its new status."""
        data = self.query(STOP_SENSOR, id=self.sensor(name)["id"])["stopSensor"]
        return self._expect(data, "StopSensorMutationResult")["instigationState"]["status"]

    def launch_backfill(self, assets: list[str], partitions: list[str]) -> str:
        """A backfill of ``assets`` over ``partitions``; its id."""
        params = {
            "assetSelection": [{"path": [key]} for key in assets],
            "partitionNames": partitions,
        }
        data = self.query(LAUNCH_BACKFILL, params=params)["launchPartitionBackfill"]
        return self._expect(data, "LaunchBackfillSuccess")["backfillId"]

    def backfill(self, backfill_id: str) -> dict[str, Any]:
        data = self.query(BACKFILL, id=backfill_id)["partitionBackfillOrError"]
        return self._expect(data, "PartitionBackfill")

    def launch_run(self, job: str, partition: str) -> str:
        """Launch ``job`` for one partition as the UI's launchpad does (to the queue)."""
        params = {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": job,
            },
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
        }
        data = self._expect(self.query(LAUNCH_RUN, params=params)["launchRun"], "LaunchRunSuccess")
        return data["run"]["runId"]

    def messages(self, run_id: str) -> list[str]:
        data = self.query(LOGS, runId=run_id)["logsForRun"]
        return [e.get("message") or "" for e in self._expect(data, "EventConnection")["events"]]

    def worker_pid(self, run_id: str) -> int | None:
        """The pid of the run's worker process, from its "Started process for run" event."""
        for message in self.messages(run_id):
            found = STARTED_PROCESS.search(message)
            if found:
                return int(found.group(1))
        return None
