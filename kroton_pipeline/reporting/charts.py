"""Charts for the funnel report with no plotting library: a PNG written with zlib + struct
(shown in the Dagster UI as a markdown image with a ``data:image/png;base64,…`` URI) and
unicode bar charts for markdown tables.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Mapping, Sequence

from kroton_pipeline.reporting import font

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
INK: Color = (55, 65, 81)
GRID: Color = (229, 231, 235)
# One colour per status, greens for Kroton's yes, reds for no, greys/blues in between.
STATUS_COLORS: dict[str, Color] = {
    "to_sync": (156, 163, 175),
    "course_failed": (251, 146, 60),
    "empty_course": (107, 114, 128),
    "to_register": (96, 165, 250),
    "awaiting_register": (129, 140, 248),
    "registered": (52, 211, 153),
    "register_failed": (239, 68, 68),
    "enrolled": (5, 150, 105),
    "dropped": (250, 204, 21),
    "failed": (153, 27, 27),
}
FALLBACK_COLOR: Color = (192, 132, 252)


class Canvas:
    """An RGB pixel buffer with rectangles and 5×7 text."""

    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: Color) -> None:
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, self.width), min(y + h, self.height)
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(color) * (x1 - x0)
        for yy in range(y0, y1):
            start = (yy * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, value: str, color: Color = INK, scale: int = 2) -> int:
        """Draw ``value`` with its top-left at (x, y); return the x after the last glyph."""
        for char in value:
            for row, line in enumerate(font.glyph(char)):
                for col, ink in enumerate(line):
                    if ink == "#":
                        self.rect(x + col * scale, y + row * scale, scale, scale, color)
            x += (font.WIDTH + 1) * scale
        return x

    @staticmethod
    def text_width(value: str, scale: int = 2) -> int:
        return len(value) * (font.WIDTH + 1) * scale

    def png(self) -> bytes:
        """The canvas as PNG bytes (8-bit RGB, no filtering)."""
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def stacked_bar_chart(
    title: str,
    columns: Sequence[tuple[str, Mapping[str, int]]],
    order: Sequence[str],
    colors: Mapping[str, Color] = STATUS_COLORS,
) -> bytes:
    """A PNG of one stacked bar per column (e.g. per import date), segments in ``order``.

    Keys not in ``order`` are stacked last, in a fallback colour.
    """
    keys = list(order) + sorted({k for _, c in columns for k in c if k not in order})
    used = [k for k in keys if any(counts.get(k, 0) for _, counts in columns)]
    top = max([sum(counts.values()) for _, counts in columns] + [1])
    left, right, chart_top, plot_h = 70, 190, 44, 260
    slot = max(22, min(64, 700 // max(len(columns), 1)))
    width = max(left + slot * max(len(columns), 1) + right, Canvas.text_width(title) + 24)
    canvas = Canvas(width, chart_top + plot_h + 56)
    canvas.text(12, 10, title, scale=2)
    base = chart_top + plot_h
    for step in range(5):  # horizontal grid with value labels
        value = round(top * step / 4)
        y = base - round(plot_h * step / 4)
        canvas.rect(left, y, slot * len(columns), 1, GRID)
        label = str(value)
        canvas.text(left - 8 - Canvas.text_width(label), y - 7, label)
    for index, (label, counts) in enumerate(columns):
        x = left + index * slot + slot // 6
        bar_w = slot - slot // 3
        y = base
        for key in used:
            height = round(plot_h * counts.get(key, 0) / top)
            if height:
                canvas.rect(x, y - height, bar_w, height, colors.get(key, FALLBACK_COLOR))
                y -= height
        # Every label when they fit, else every n-th, so dates never overlap.
        every = max(1, (Canvas.text_width(label, 1) + 6) // slot + 1)
        if index % every == 0:
            canvas.text(x, base + 8, label, scale=1)
    canvas.rect(left, base, slot * len(columns), 2, INK)
    legend_x, legend_y = width - right + 16, chart_top
    for key in used:
        canvas.rect(legend_x, legend_y, 14, 14, colors.get(key, FALLBACK_COLOR))
        canvas.text(legend_x + 20, legend_y, key, scale=1)
        legend_y += 20
    return canvas.png()


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def markdown_image(alt: str, png: bytes) -> str:
    """A markdown image the Dagster UI renders inline (checked in headless Chromium)."""
    return f"![{alt}]({png_data_uri(png)})"


def unicode_bar(value: float, maximum: float, width: int = 20) -> str:
    """``█████▍`` — a bar of eighth-blocks, ``width`` cells for ``maximum``."""
    if maximum <= 0 or value <= 0:
        return ""
    eighths = round(width * 8 * min(value / maximum, 1.0))
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])
