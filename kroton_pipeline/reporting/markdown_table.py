"""Markdown tables whose cells render literally (masked CPFs keep their asterisks)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

# Characters Markdown would read as formatting (a masked CPF ``***.914.586-**`` would turn
# bold and lose its asterisks) or as a table border.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(value: object) -> str:
    """``value`` as Markdown that renders literally (in a table cell too)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(value)).replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; cells are escaped, so masked values and reasons show as they are."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
