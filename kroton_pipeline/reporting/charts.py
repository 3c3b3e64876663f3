"""Charts of the funnel report, drawn with matplotlib (Agg: no display needed).

Shown in the Dagster UI as Markdown images with a ``data:image/png;base64,…`` URI. The UI
shows a Markdown value inline only below 1,000 characters, so there are two charts: a
compact one (a few status bands, first and last date, palette PNG of well under 1 KB) shown
at a glance, and the full one (every status, dated axis, legend) behind "[Show Markdown]".
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # before pyplot: renders to memory, never opens a window

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
from PIL import Image

# One distinct colour per status (failed and register_failed are told apart).
STATUS_COLORS: dict[str, str] = {
    "to_sync": "#cbd5e1",
    "course_failed": "#f97316",
    "empty_course": "#92400e",
    "to_register": "#3b82f6",
    "awaiting_register": "#9333ea",
    "registered": "#22c55e",
    "register_failed": "#ef4444",
    "enrolled": "#14532d",
    "dropped": "#eab308",
    "failed": "#1f2937",
}
FALLBACK_COLOR = "#c084fc"
GAP_COLOR = "#9ca3af"

# The compact chart's bands: few colours keep its PNG small; each has a plain-word colour
# name for the legend written under it.
BANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "waiting": (
        "#94a3b8",
        "grey",
        ("to_sync", "course_failed", "to_register", "awaiting_register"),
    ),
    "at Kroton": ("#22c55e", "green", ("registered", "enrolled", "dropped")),
    "register_failed": ("#ef4444", "red", ("register_failed",)),
    "failed": ("#1f2937", "black", ("failed",)),
    "empty_course": ("#eab308", "yellow", ("empty_course",)),
}

Columns = Sequence[tuple[date, Mapping[str, int] | None]]


def date_columns(counts_by_date: Mapping[date, Mapping[str, int]], days: int) -> Columns:
    """The last ``days`` calendar days up to the newest import date; None where no export."""
    if not counts_by_date:
        return []
    last = max(counts_by_date)
    first = max(min(counts_by_date), last - timedelta(days=days - 1))
    span = (last - first).days + 1
    return [
        (day, counts_by_date.get(day)) for day in (first + timedelta(days=n) for n in range(span))
    ]


def _png(figure: plt.Figure, palette_colors: int | None = None) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    if palette_colors is None:
        return buffer.getvalue()
    # A few flat colours: an indexed PNG is a fraction of the RGBA one.
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    small = io.BytesIO()
    image.quantize(colors=palette_colors, dither=Image.Dither.NONE).save(
        small, format="PNG", optimize=True
    )
    return small.getvalue()


def status_chart(columns: Columns, order: Sequence[str], title: str) -> bytes:
    """Stacked bars of leads per status per import date, with a dated axis and a legend.

    Dates with no export are marked on the axis (a gap, not a missing bar).
    """
    keys = list(order) + sorted({k for _, c in columns if c for k in c if k not in order})
    used = [k for k in keys if any(c and c.get(k) for _, c in columns)]
    width = min(max(6.0, 0.32 * len(columns) + 3.5), 14.0)
    figure, axes = plt.subplots(figsize=(width, 4.2), dpi=100)
    positions = range(len(columns))
    bottom = [0] * len(columns)
    for key in used:
        values = [(c or {}).get(key, 0) for _, c in columns]
        axes.bar(
            positions,
            values,
            bottom=bottom,
            color=STATUS_COLORS.get(key, FALLBACK_COLOR),
            width=0.8,
            label=key,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for index, (_, counts) in enumerate(columns):
        if counts is None:
            axes.text(
                index,
                0,
                "no export",
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=7,
                color=GAP_COLOR,
            )
    every = max(1, len(columns) // 15)
    axes.set_xticks(list(positions)[::every])
    axes.set_xticklabels([day.strftime("%m-%d") for day, _ in columns][::every], fontsize=8)
    axes.set_xlabel("import date")
    axes.set_ylabel("leads")
    axes.set_title(title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e5e7eb")
    axes.set_axisbelow(True)
    handles = [Patch(color=STATUS_COLORS.get(k, FALLBACK_COLOR), label=k) for k in used]
    axes.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False
    )
    figure.tight_layout()
    return _png(figure)


def compact_chart(columns: Columns) -> bytes:
    """The status bands per date, first and last date and the tallest bar: a tiny PNG."""
    with matplotlib.rc_context(
        {"text.antialiased": False, "patch.antialiased": False, "lines.antialiased": False}
    ):
        figure, axes = plt.subplots(figsize=(3.6, 1.2), dpi=72)
        bottom = [0] * len(columns)
        for color, _, statuses in BANDS.values():
            values = [sum((c or {}).get(s, 0) for s in statuses) for _, c in columns]
            axes.bar(
                range(len(columns)), values, bottom=bottom, color=color, width=0.8, linewidth=0
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        last = len(columns) - 1
        axes.set_xticks([0, last] if last else [0])
        labels = [columns[0][0].strftime("%m-%d"), columns[-1][0].strftime("%m-%d")]
        axes.set_xticklabels(labels if last else labels[:1], fontsize=7)
        axes.set_yticks([0, max([*bottom, 1])])
        axes.tick_params(labelsize=7, length=2)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout(pad=0.2)
        return _png(figure, palette_colors=8)


def compact_legend(columns: Columns) -> str:
    """The compact chart's legend in words (renders anywhere, no emoji font needed)."""
    present = [
        f"{colour_name} {band}"
        for band, (_, colour_name, statuses) in BANDS.items()
        if any(c and any(c.get(s) for s in statuses) for _, c in columns)
    ]
    return ", ".join(present)


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def markdown_image(alt: str, png: bytes) -> str:
    """A Markdown image the Dagster UI renders inline (checked in headless Chromium)."""
    return f"![{alt}]({png_data_uri(png)})"


def share_bar(share: float, width: int = 20) -> str:
    """``█████▍`` — a bar of eighth-blocks on a 0–100 % scale (``width`` cells = 100 %)."""
    if share <= 0:
        return ""
    eighths = round(width * 8 * min(share, 1.0))
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])
