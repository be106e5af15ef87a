"""Charts drawn on the server as SVG: no script, printable, each with a title and a
description for screen readers (the page puts the figures' table beside it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 320
HEIGHT = 120
PAD_X = 8
PAD_TOP = 16
PAD_BOTTOM = 18

_ids = count(1)


def _frame(
    title: str, description: str, body: str, *, kind: str = "line", w: int = WIDTH, h: int = HEIGHT
) -> SafeString:
    n = next(_ids)
    return format_html(
        '<svg class="chart {kind}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-t{n} '
        'chart-d{n}"><title id="chart-t{n}">{title}</title>'
        '<desc id="chart-d{n}">{desc}</desc>{body}</svg>',
        kind=kind,
        w=w,
        h=h,
        n=n,
        title=title,
        desc=description,
        body=mark_safe(body),  # built below from numbers and escaped labels only
    )


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    description: str,
    fmt: Callable[[float], str] = lambda v: f"{v:g}",
) -> SafeString:
    """A trend line over labelled points; a missing value breaks the line. The highest and
    lowest values label the vertical scale (``fmt`` writes them)."""
    values = [v for _, v in points if v is not None]
    if not values:
        return _frame(title, description + " No data in these months.", "")
    top, bottom = max(values), min(values)
    low, high = bottom, top
    span = (high - low) or abs(high) or 1.0
    low -= span * 0.1
    high += span * 0.1
    step = (WIDTH - 2 * PAD_X) / max(len(points) - 1, 1)
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(v: float) -> float:
        return PAD_TOP + plot_h * (1 - (v - low) / (high - low))

    segments: list[list[str]] = [[]]
    dots = []
    for i, (label, v) in enumerate(points):
        x = PAD_X + i * step
        if v is None:
            segments.append([])
            continue
        segments[-1].append(f"{x:.1f},{y(v):.1f}")
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="2.5"><title>{escape(label)}: '
            f"{escape(fmt(v))}</title></circle>"
        )
    lines = "".join(
        f'<polyline fill="none" stroke="currentColor" stroke-width="2" points="{" ".join(s)}"/>'
        for s in segments
        if len(s) > 1
    )
    axis = (
        f'<line class="axis" x1="{PAD_X}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - PAD_X}" '
        f'y2="{HEIGHT - PAD_BOTTOM}"/>'
        f'<text x="{PAD_X}" y="{HEIGHT - 4}">{escape(points[0][0])}</text>'
        f'<text x="{WIDTH - PAD_X}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{escape(points[-1][0])}</text>"
        f'<text class="scale" x="{PAD_X}" y="{y(top) - 3:.1f}">{escape(fmt(top))}</text>'
    )
    if bottom != top:
        axis += (
            f'<text class="scale" x="{PAD_X}" y="{y(bottom) + 10:.1f}">{escape(fmt(bottom))}</text>'
        )
    return _frame(title, description, axis + lines + "".join(dots))


BAR_WIDTH = 640
BAR_HEIGHT = 180


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, description: str) -> SafeString:
    """Vertical bars, one per label (aging buckets, cohorts), each label under its bar."""
    if not bars or max(v for _, v in bars) <= 0:
        return _frame(title, description + " Nothing to show.", "", kind="bars")
    high = max(v for _, v in bars)
    plot_h = BAR_HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = (BAR_WIDTH - 2 * PAD_X) / len(bars)
    parts: list[str] = []
    for label, v in bars:
        i = len(parts)
        h = plot_h * max(v, 0) / high
        x = PAD_X + i * slot + slot * 0.15
        short = label if len(label) <= 16 else label[:15] + "…"
        parts.append(
            f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}"><title>{escape(label)}: {v:,.2f}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{BAR_HEIGHT - 4}" text-anchor="middle">'
            f"{escape(short)}</text>"
        )
    return _frame(title, description, "".join(parts), kind="bars", w=BAR_WIDTH, h=BAR_HEIGHT)
