"""A few reads and writes of Dagster's GraphQL API, as the UI makes them."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

LOCATION = {"repositoryLocationName": "kroton_pipeline", "repositoryName": "__repository__"}


class GraphQL:
    """Posts queries to ``<base>/graphql`` and returns their ``data``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/graphql", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            found = json.loads(answer.read())
        assert "errors" not in found, found["errors"]
        return found["data"]

    def wait_until_up(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base_url}/server_info", timeout=2):
                    pass
                if self.location_loaded():
                    return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"the UI at {self.base_url} did not come up in {timeout:.0f} s")

    def location_loaded(self) -> bool:
        data = self(
            """{ workspaceOrError { ... on Workspace { locationEntries {
                 name locationOrLoadError { __typename } } } } }"""
        )
        entries = data["workspaceOrError"]["locationEntries"]
        return any(e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries)

    def run_ids(self) -> list[str]:
        data = self("{ runsOrError { ... on Runs { results { runId } } } }")
        return [run["runId"] for run in data["runsOrError"]["results"]]

    def runs(self) -> list[dict[str, Any]]:
        data = self("{ runsOrError { ... on Runs { results { runId status jobName } } } }")
        return data["runsOrError"]["results"]

    def sensor_ticks(self, name: str) -> list[dict[str, Any]]:
        data = self(
            """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
                 ... on Sensor { sensorState { ticks(limit: 20) { status timestamp } } } } }""",
            selector={**LOCATION, "sensorName": name},
        )
        return data["sensorOrError"]["sensorState"]["ticks"]

    def should_show_first_run_popup(self) -> bool:
        return bool(self("{ shouldShowNux }")["shouldShowNux"])

    def materializations(self, asset: str, partitions: list[str] | None = None) -> list[dict]:
        data = self(
            """query($key: AssetKeyInput!, $partitions: [String!]) {
                 assetOrError(assetKey: $key) { ... on Asset {
                   assetMaterializations(partitions: $partitions, limit: 100) {
                     partition runId
                     metadataEntries { label
                       ... on IntMetadataEntry { intValue }
                       ... on MarkdownMetadataEntry { mdStr } } } } } }""",
            key={"path": [asset]},
            partitions=partitions,
        )
        return data["assetOrError"]["assetMaterializations"]

    def partition_statuses(self, asset: str) -> dict[str, set[str]]:
        """Partition keys by status (MATERIALIZED, FAILED, …) of a daily-partitioned asset."""
        data = self(
            """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { ... on AssetNode {
                 partitionKeys
                 assetPartitionStatuses { ... on TimePartitionStatuses {
                   ranges { status startKey endKey } } } } } }""",
            key={"path": [asset]},
        )
        node = data["assetNodeOrError"]
        keys = node["partitionKeys"]
        found: dict[str, set[str]] = {}
        for span in node["assetPartitionStatuses"]["ranges"]:
            first, last = keys.index(span["startKey"]), keys.index(span["endKey"])
            found.setdefault(span["status"], set()).update(keys[first : last + 1])
        return found

    def launch_backfill(self, asset: str, first: str, last: str) -> str:
        data = self(
            """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(
                 backfillParams: $params) {
                   __typename ... on LaunchBackfillSuccess { backfillId }
                   ... on PythonError { message } } }""",
            params={
                "partitionsByAssets": [
                    {
                        "assetKey": {"path": [asset]},
                        "partitions": {"range": {"start": first, "end": last}},
                    }
                ]
            },
        )
        launched = data["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        return launched["backfillId"]

    def wait_for_backfill(self, backfill_id: str, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self(
                """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
                     ... on PartitionBackfill { status runs(limit: 10) { runId status } } } }""",
                id=backfill_id,
            )
            backfill = data["partitionBackfillOrError"]
            runs = backfill["runs"]
            if (
                backfill["status"] != "REQUESTED"
                and runs
                and all(run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in runs)
            ):
                return backfill
            time.sleep(2)
        raise AssertionError(f"backfill {backfill_id} did not finish in {timeout:.0f} s")


def int_entries(materialization: dict[str, Any]) -> dict[str, int]:
    return {
        entry["label"]: entry["intValue"]
        for entry in materialization["metadataEntries"]
        if "intValue" in entry
    }


def markdown_entry(materialization: dict[str, Any], label: str) -> str:
    for entry in materialization["metadataEntries"]:
        if entry["label"] == label:
            return entry["mdStr"]
    raise AssertionError(f"no {label} entry")
