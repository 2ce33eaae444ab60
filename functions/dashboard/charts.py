"""Charts drawn on the server as SVG: no script, no library, readable by a screen reader.

A chart is an `<svg role="img">` with a title and a description that say what it shows; the page
gives the same figures as a table beside it, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
HEIGHT = 240
_TOP = 16
_BOTTOM = 36
_LEFT = 8
_BAR_GAP = 0.25


@dataclass(frozen=True)
class Bar:
    label: str  # the axis label ("Jan")
    value: int  # minor units, never negative
    text: str  # the value as people read it ("€1,234.50")


def bar_chart(bars: Sequence[Bar], title: str, colour: str = "#0969da") -> str:
    """An SVG bar chart of `bars`, scaled to the largest; each bar has its value as a tooltip."""
    highest = max((bar.value for bar in bars), default=0) or 1
    plot_height = HEIGHT - _TOP - _BOTTOM
    slot = (WIDTH - 2 * _LEFT) / max(len(bars), 1)
    width = slot * (1 - _BAR_GAP)
    described = "; ".join(f"{bar.label}: {bar.text}" for bar in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" class="chart" preserveAspectRatio="xMidYMid meet">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(described)}</desc>',
        f'<line x1="{_LEFT}" y1="{HEIGHT - _BOTTOM}" x2="{WIDTH - _LEFT}" '
        f'y2="{HEIGHT - _BOTTOM}" stroke="#8c959f"/>',
    ]
    for index, bar in enumerate(bars):
        height = round(plot_height * max(bar.value, 0) / highest, 1)
        x = round(_LEFT + index * slot + (slot - width) / 2, 1)
        y = round(HEIGHT - _BOTTOM - height, 1)
        parts.append(
            f'<rect x="{x}" y="{y}" width="{round(width, 1)}" height="{height}" fill="{escape(colour)}">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
        )
        parts.append(
            f'<text x="{round(x + width / 2, 1)}" y="{HEIGHT - _BOTTOM + 18}" text-anchor="middle" '
            f'font-size="12" fill="#1f2328">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(values: Sequence[tuple[str, int]], written: Callable[[int], str]) -> list[Bar]:
    return [Bar(label, value, written(value)) for label, value in values]
