"""One lead's path through the product code stays short enough to read in one sitting.

``scripts/one_lead_trace.py`` runs one real lead from the landing file to ``registered``
against the sandbox, with a profiler, and lists the product modules whose code ran.
docs/architecture.md ("One lead's path") shows the same list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULES_ON_THE_PATH = 20

pytestmark = pytest.mark.integration


def test_one_lead_from_the_landing_file_to_registered_runs_at_most_20_product_modules() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "one_lead_trace.py"), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    traced = json.loads(done.stdout.strip().splitlines()[-1])
    path = traced["path"]
    # The lead really went through every stage: each step module ran.
    for step in ("import_leads", "fill_genders", "match_courses", "register_leads"):
        assert f"steps/{step}.py" in path
    assert "defs/imports/sensors.py" in path
    assert len(path) <= MAX_MODULES_ON_THE_PATH, path
    # The architecture document names every module on the path.
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    section = architecture.split("## One lead's path")[1].split("\n## ")[0]
    for module in path:
        assert Path(module).name in section, module
