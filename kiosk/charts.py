"""Server-rendered SVG bar charts for the report pages: no script, print exactly as shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    """One set of bars: its name (legend), values and CSS class (colour)."""

    name: str
    values: Sequence[float]
    css: str


def _nice_top(value: float) -> float:
    """A round number at or above ``value`` for the top of the scale."""
    if value <= 0:
        return 1
    step = int(10 ** (len(str(int(value))) - 1))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def _text_width(text: str) -> float:
    """Roughly how wide 11px text is: CJK characters are about twice as wide as Latin ones."""
    return sum(11.0 if ord(ch) >= 0x2E80 else 6.2 for ch in text)


def _legend_layout(names: Sequence[str], left: float, right: float) -> list[tuple[float, int]]:
    """(x, y) of each legend entry, wrapping to a new line when the next would not fit."""
    places: list[tuple[float, int]] = []
    x, y = left, 0
    for name in names:
        needed = 14 + _text_width(name) + 14
        if x > left and x + needed > right:
            x, y = left, y + 16
        places.append((x, y))
        x += needed
    return places


def bar_chart(
    labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 640, height: int = 220
) -> Markup:
    """Grouped vertical bars with a value axis, labels under each group and a legend."""
    left, right, bottom = 40, 8, 34
    legend = _legend_layout([s.name for s in series], left, width - right)
    top = 12 + 16 * (max(y for _x, y in legend) // 16 + 1) if legend else 12
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for s in series for v in s.values), default=0)
    scale_top = _nice_top(peak)
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = max(1.0, (group_w * 0.8) / max(len(series), 1))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = scale_top * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = f"{value:g}" if value < 1000 else f"{value / 1000:g}k"
        parts.append(f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s_index, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else 0
            h = plot_h * value / scale_top
            x = x0 + s_index * bar_w
            parts.append(
                f'<rect class="{escape(s.css)}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w * 0.92:.1f}" height="{h:.1f}"><title>{escape(label)} · {escape(s.name)}: '
                f"{value:g}</title></rect>"
            )
        parts.append(
            f'<text class="axis" x="{left + g * group_w + group_w / 2:.1f}" y="{height - bottom + 14}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for s, (x, y) in zip(series, legend, strict=True):
        parts.append(f'<rect class="{escape(s.css)}" x="{x}" y="{y + 4}" width="10" height="10"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="{y + 13}">{escape(s.name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
