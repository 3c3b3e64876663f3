"""The support reference (``docs/support.md``), generated from the reason catalogue.

``python -m kroton_pipeline.support.reference`` rewrites the file; a test fails when the file
and ``domain.reason_catalogue`` disagree, so the page never drifts from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kroton_pipeline.domain.reason_catalogue import CATALOGUE, STATUS_MEANINGS

REFERENCE_PATH = Path(__file__).resolve().parents[2] / "docs" / "support.md"

_INTRO = """\
# Support reference: statuses and reason codes

Generated from `kroton_pipeline/domain/reason_catalogue.py` by
`python -m kroton_pipeline.support.reference`; do not edit by hand.

A lead's status says where it is; its reason (`status_reason`, and each `status_history`
row) says why, as `code` or `code: detail`. An exported row that did not become a
subscription is kept in `lead_rejections` with a rejection code. `python -m
kroton_pipeline.lead` shows one person's codes with these meanings and actions.
Replay = once the cause is fixed, the `replay_register_failed` job for the import date with
`reason_prefix: <code>` (and `back_to`: `to_sync` to search courses again, or `to_register`).
"""


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def reference_markdown() -> str:
    """The whole page."""
    lines = [_INTRO, "## Statuses", ""]
    lines += _table(
        ("status", "meaning"),
        [(f"`{status.value}`", meaning) for status, meaning in STATUS_MEANINGS.items()],
    )
    for kind, title in (("status", "Status reasons"), ("rejection", "Rejection codes")):
        rows = [
            (f"`{info.code}`", info.meaning, info.action_kind.value, info.action)
            for info in CATALOGUE.values()
            if info.kind == kind
        ]
        lines += ["", f"## {title}", ""]
        lines += _table(("code", "meaning", "action", "what to do"), rows)
    return "\n".join(lines) + "\n"


def main() -> int:
    """Rewrite ``docs/support.md``."""
    REFERENCE_PATH.write_text(reference_markdown(), encoding="utf-8")
    print(f"wrote {REFERENCE_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
