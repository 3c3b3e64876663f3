"""The report's chart is a valid PNG made without a plotting library."""

from __future__ import annotations

import base64
import random
import struct
import zlib
from datetime import date, timedelta

from kroton_pipeline.reporting.charts import (
    STATUS_COLORS,
    compact_stacked_bars,
    markdown_image,
    stacked_bar_chart,
    unicode_bar,
)
from kroton_pipeline.reporting.funnel import FunnelReport
from kroton_pipeline.reporting.markdown import INLINE_MARKDOWN_LIMIT, STATUS_ORDER, chart_section


def _decode(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        position += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    return width, height, chunks[b"PLTE"], zlib.decompress(chunks[b"IDAT"])


def test_stacked_bar_chart_is_a_valid_png_with_the_status_colours() -> None:
    png = stacked_bar_chart(
        "leads",
        [("11-27", {"registered": 5, "failed": 1}), ("11-28", {"enrolled": 3})],
        ["registered", "enrolled", "failed"],
    )
    width, height, palette, raw = _decode(png)
    assert len(raw) == height * (1 + width)  # one palette index per pixel, one filter byte
    colours = {palette[i : i + 3] for i in range(0, len(palette), 3)}
    assert bytes(STATUS_COLORS["registered"]) in colours
    assert bytes(STATUS_COLORS["enrolled"]) in colours


def test_the_inline_chart_stays_small_enough_to_show_without_a_click() -> None:
    report = FunnelReport(today=date(2026, 11, 28))
    noise = random.Random(1)
    for offset in range(60):
        day = date(2026, 9, 1) + timedelta(days=offset)
        report.status_by_import_date[day] = {s: noise.randint(0, 300) for s in STATUS_ORDER}
    text = chart_section(report)
    assert text.startswith("![Leads per status](data:image/png;base64,")
    assert len(text) < INLINE_MARKDOWN_LIMIT
    assert "2026-10-30" in text  # the newest import date is always shown


def test_compact_bars_of_a_month_of_typical_days_are_a_few_hundred_bytes() -> None:
    columns = [(f"d{n}", {"registered": 50 + n * 7 % 40, "dropped": n % 9}) for n in range(30)]
    assert len(compact_stacked_bars(columns, ["registered", "dropped"])) < 600


def test_chart_is_embedded_as_a_data_uri_markdown_image() -> None:
    png = stacked_bar_chart("leads", [("11-28", {"registered": 1})], ["registered"])
    image = markdown_image("Leads", png)
    assert image.startswith("![Leads](data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1].rstrip(")")) == png


def test_unicode_bars_scale_to_the_maximum() -> None:
    assert unicode_bar(10, 10, 4) == "████"
    assert unicode_bar(5, 10, 4) == "██"
    assert unicode_bar(0, 10) == ""
    assert unicode_bar(1, 80, 10) == "▏"
