"""The report's charts: matplotlib PNGs, a compact one that shows inline, escaped tables."""

from __future__ import annotations

import base64
import io
import random
from datetime import date, timedelta

from PIL import Image

from kroton_pipeline.reporting.charts import (
    STATUS_COLORS,
    compact_chart,
    date_columns,
    markdown_image,
    share_bar,
    status_chart,
)
from kroton_pipeline.reporting.funnel import FunnelReport, GroupConversion
from kroton_pipeline.reporting.markdown import (
    INLINE_MARKDOWN_LIMIT,
    STATUS_ORDER,
    chart_section,
    conversion_section,
)
from kroton_pipeline.reporting.markdown_table import markdown_table, md_escape


def _image(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_failed_and_register_failed_have_distinct_colours() -> None:
    assert len(set(STATUS_COLORS.values())) == len(STATUS_COLORS)
    assert STATUS_COLORS["failed"] != STATUS_COLORS["register_failed"]


def test_dates_without_an_export_are_gaps_on_the_axis() -> None:
    counts = {date(2026, 11, 1): {"registered": 5}, date(2026, 11, 4): {"failed": 2}}
    columns = date_columns(counts, 30)
    assert [day.day for day, _ in columns] == [1, 2, 3, 4]
    assert columns[1][1] is None and columns[2][1] is None


def test_full_chart_is_a_png_with_the_status_colours() -> None:
    columns = date_columns(
        {date(2026, 11, 27): {"registered": 5, "failed": 1}, date(2026, 11, 28): {"enrolled": 3}},
        30,
    )
    image = _image(status_chart(columns, STATUS_ORDER, "leads"))
    assert image.width > 500 and image.height > 300  # axes, labels and legend fit
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20)}
    assert (0x22, 0xC5, 0x5E) in colours  # registered
    assert (0x14, 0x53, 0x2D) in colours  # enrolled


def test_the_inline_chart_stays_small_enough_to_show_without_a_click() -> None:
    report = FunnelReport(today=date(2026, 11, 28))
    noise = random.Random(1)
    for offset in range(60):
        day = date(2026, 9, 1) + timedelta(days=offset)
        if offset % 9 == 4:
            continue  # no export that day
        report.status_by_import_date[day] = {s: noise.randint(0, 300) for s in STATUS_ORDER}
    text = chart_section(report)
    assert text.startswith("![Leads per status band](data:image/png;base64,")
    assert len(text) < INLINE_MARKDOWN_LIMIT
    assert "green at Kroton" in text and "red register_failed" in text


def test_compact_chart_has_dates_and_a_scale() -> None:
    columns = date_columns({date(2026, 11, d): {"registered": 40 + d} for d in range(1, 8)}, 7)
    image = _image(compact_chart(columns))
    assert image.width < 300 and image.height < 100


def test_chart_is_embedded_as_a_data_uri_markdown_image() -> None:
    png = compact_chart(date_columns({date(2026, 11, 28): {"registered": 1}}, 1))
    image = markdown_image("Leads", png)
    assert image.startswith("![Leads](data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1].rstrip(")")) == png


def test_share_bars_are_on_a_0_to_100_percent_scale() -> None:
    assert share_bar(1.0, 4) == "████"
    assert share_bar(0.5, 4) == "██"
    assert share_bar(0.0) == ""
    # 0.6 % is a sliver, never a full bar, even when it is the largest value shown.
    section = conversion_section([GroupConversion("EAD", 1000, 10, 6)], "modality", None)
    assert "█" not in section and "0.6%" in section


def test_masked_values_render_literally_in_tables() -> None:
    assert md_escape("***.914.586-**") == r"\*\*\*.914.586-\*\*"
    table = markdown_table(["cpf", "reason"], [("***.914.586-**", "a | b")])
    assert r"\*\*\*.914.586-\*\*" in table and r"a \| b" in table
