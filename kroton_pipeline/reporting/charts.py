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
# One colour per status, each close to a coloured-square emoji, so that a markdown line of
# emoji can be the legend of an image that carries no text (see compact_stacked_bars).
STATUS_COLORS: dict[str, Color] = {
    "to_sync": (203, 213, 225),
    "course_failed": (249, 115, 22),
    "empty_course": (146, 64, 14),
    "to_register": (59, 130, 246),
    "awaiting_register": (147, 51, 234),
    "registered": (34, 197, 94),
    "register_failed": (239, 68, 68),
    "enrolled": (31, 41, 55),
    "dropped": (234, 179, 8),
    "failed": (185, 28, 28),
}
STATUS_EMOJI: dict[str, str] = {
    "to_sync": "⬜",
    "course_failed": "🟧",
    "empty_course": "🟫",
    "to_register": "🟦",
    "awaiting_register": "🟪",
    "registered": "🟩",
    "register_failed": "🟥",
    "enrolled": "⬛",
    "dropped": "🟨",
    "failed": "🟥",
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
        """The canvas as an indexed-colour PNG (palette + "Up" filter: rectangles of one
        colour compress to almost nothing, which keeps the data URI short)."""
        palette: dict[bytes, int] = {}
        stride = self.width * 3
        previous = bytes(self.width)
        raw = bytearray()
        for y in range(self.height):
            row = self.pixels[y * stride : (y + 1) * stride]
            indices = bytes(
                palette.setdefault(bytes(row[x : x + 3]), len(palette)) for x in range(0, stride, 3)
            )
            if len(palette) > 256:
                raise ValueError("a chart may use at most 256 colours")
            raw += b"\x02" + bytes((a - b) & 0xFF for a, b in zip(indices, previous, strict=True))
            previous = indices

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 3, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"PLTE", b"".join(palette))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
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


def compact_stacked_bars(
    columns: Sequence[tuple[str, Mapping[str, int]]],
    order: Sequence[str],
    colors: Mapping[str, Color] = STATUS_COLORS,
    height: int = 140,
) -> bytes:
    """The stacked bars alone, no text: a PNG of a few hundred bytes.

    The Dagster UI shows markdown metadata inline only below 1,000 characters (longer ones
    behind a "[Show Markdown]" button), so the chart that must be seen at a glance carries
    no glyphs; its legend is a line of emoji squares (:data:`STATUS_EMOJI`) under it.
    """
    keys = list(order) + sorted({k for _, c in columns for k in c if k not in order})
    top = max([sum(counts.values()) for _, counts in columns] + [1])
    slot = max(6, min(40, 360 // max(len(columns), 1)))
    gap = max(2, slot // 4)
    canvas = Canvas(slot * max(len(columns), 1) + gap, height + 2)
    for step in range(1, 5):
        canvas.rect(0, height - round(height * step / 4), canvas.width, 1, GRID)
    for index, (_, counts) in enumerate(columns):
        y = height
        for key in keys:
            size = round(height * counts.get(key, 0) / top)
            if size:
                canvas.rect(
                    index * slot + gap, y - size, slot - gap, size, colors.get(key, FALLBACK_COLOR)
                )
                y -= size
    canvas.rect(0, height, canvas.width, 2, INK)
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
