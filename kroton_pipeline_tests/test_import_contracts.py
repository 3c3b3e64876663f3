"""Imports run downward only (defs > steps > clients | db > domain > settings) and product
code never imports the sandbox: the contracts in pyproject.toml, checked by import-linter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    beside_python = Path(sys.executable).with_name("lint-imports")
    found = str(beside_python) if beside_python.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[dev]'")
    return found


def test_imports_keep_the_layers_and_leave_the_sandbox_alone() -> None:
    # From the repository root, so that the working copy of the package is the one analysed.
    done = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "0 broken" in report
