"""The run's timeline as an inline SVG chart (no script, no external asset): pure.

Bars are the write calls per second in each time bucket (left axis); lines are, per
bucket, the 429s, the faults (5xx and dropped connections retried, writes in doubt or
refused) and the retries (re-sends by the client and new attempts after a lookup), on the
right axis. Every bar carries a ``<title>`` with its figures (shown on hover).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 960, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 56, 28, 40
#: (label, colour, how a point's value is computed) of each line.
SERIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("429s", "#e12d39", ("rate_limited",)),
    ("faults", "#f0a30a", ("server_errors", "in_doubt", "failed")),
    ("retries", "#7b4fd6", ("reattempts", "rate_limited", "server_errors")),
)
_BAR = "#3f8fd2"


def series_value(point: dict[str, Any], fields: Sequence[str]) -> int:
    """The value of one line at one point: the sum of its fields."""
    return sum(int(point.get(f, 0)) for f in fields)


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top``."""
    if top <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= top:
        step *= 10
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= top:
            return m * step
    return 10 * step


def _fmt(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{value:,.0f}"


def timeline_svg(points: Sequence[dict[str, Any]], bucket_seconds: int) -> str:
    """The chart of a timeline's points (see ledger.run_report.timeline) as SVG markup."""
    if not points:
        return ""
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    end = max(p["t"] for p in points) + bucket_seconds
    left_max = _nice(max(p["calls_per_s"] for p in points))
    right_max = max(4.0, _nice(max(series_value(p, f) for p in points for _l, _c, f in SERIES)))

    def x(t: float) -> float:
        return _LEFT + plot_w * t / end

    def y(value: float, top: float) -> float:
        return _TOP + plot_h * (1 - value / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="timeline" '
        'aria-label="Write calls per second, 429s, faults and retries over the run">',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="#f8fafc" '
        'stroke="#d9e2ec"/>',
    ]
    for i in range(5):  # grid and both axes' labels
        frac = i / 4
        gy = _TOP + plot_h * (1 - frac)
        out.append(
            f'<line x1="{_LEFT}" y1="{gy:.1f}" x2="{_LEFT + plot_w}" y2="{gy:.1f}" '
            'stroke="#e4e9f0"/>'
        )
        out.append(
            f'<text x="{_LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" '
            f'class="axis">{_fmt(left_max * frac)}</text>'
        )
        out.append(
            f'<text x="{_LEFT + plot_w + 6}" y="{gy + 4:.1f}" class="axis">'
            f"{_fmt(right_max * frac)}</text>"
        )
    for i in range(6):
        t = end * i / 5
        out.append(
            f'<text x="{x(t):.1f}" y="{HEIGHT - _BOTTOM + 16}" text-anchor="middle" '
            f'class="axis">{_fmt(round(t))} s</text>'
        )
    bar_w = max(plot_w * bucket_seconds / end - 1, 1)
    for p in points:
        top = y(p["calls_per_s"], left_max)
        tip = (
            f"{p['t']}–{p['t'] + bucket_seconds} s: {p['calls']} calls "
            f"({p['calls_per_s']}/s), {p['rate_limited']} 429s, "
            f"{series_value(p, SERIES[1][2])} faults, {series_value(p, SERIES[2][2])} retries"
        )
        out.append(
            f'<rect x="{x(p["t"]):.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
            f'height="{_TOP + plot_h - top:.1f}" fill="{_BAR}" class="calls">'
            f"<title>{escape(tip)}</title></rect>"
        )
    for label, colour, fields in SERIES:
        coords = " ".join(
            f"{x(p['t'] + bucket_seconds / 2):.1f},{y(series_value(p, fields), right_max):.1f}"
            for p in points
        )
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" '
            f'stroke-width="2" class="series-{escape(label)}"/>'
        )
    out.append(
        f'<text x="{_LEFT + plot_w}" y="16" text-anchor="end" class="axis">lines: per '
        f"{bucket_seconds} s bucket</text>"
    )
    lx = _LEFT
    for label, colour in (("calls / s", _BAR), *((lbl, c) for lbl, c, _f in SERIES)):
        out.append(
            f'<rect x="{lx}" y="7" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="16" class="axis">{escape(label)}</text>'
        )
        lx += 90
    out.append("</svg>")
    return "\n".join(out)
