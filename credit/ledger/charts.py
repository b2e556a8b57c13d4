"""Inline SVG chart of a score over time (no JavaScript, no CDN)."""

from __future__ import annotations

import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from credit.ledger import scoring

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 34, 12, 28
BAND_COLOURS = {"A": "#e6f4ea", "B": "#eef3fb", "C": "#fff4e0", "D": "#fde8e8"}


def score_chart(
    series: list[tuple[datetime.datetime, int, str]], *, title: str, rules: scoring.RuleSet = scoring.CURRENT_RULES
) -> SafeString:
    if not series:
        return mark_safe("")  # noqa: S308
    scores = [score for _t, score, _g in series]
    top = max(120, max(scores) + 10)
    bottom = 0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - bottom) / (top - bottom))

    def x(index: int) -> float:
        return LEFT + (plot_w * index / max(1, len(series) - 1))

    parts = [
        f'<svg class="score-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    bounds = [top, *[minimum for _g, minimum in rules.thresholds], bottom]
    grades = [g for g, _m in rules.thresholds] + ["D"]
    for grade, upper, lower in zip(grades, bounds, bounds[1:], strict=False):
        parts.append(
            f'<rect x="{LEFT}" y="{y(upper):.1f}" width="{plot_w}" height="{y(lower) - y(upper):.1f}" '
            f'fill="{BAND_COLOURS[grade]}"/>'
            f'<text x="{WIDTH - RIGHT - 4}" y="{y(upper) + 14:.1f}" text-anchor="end" font-size="12" '
            f'fill="#555">{grade}</text>'
        )
    for value in range(0, int(top) + 1, 20):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#d0d7de" '
            f'stroke-width="0.5"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{value}</text>'
        )
    for index, (moment, _score, _grade) in enumerate(series):
        local = moment.astimezone(scoring.SHANGHAI)
        if local.month in (1, 7) or index == len(series) - 1:
            parts.append(
                f'<text x="{x(index):.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" fill="#555">'
                f"{local:%Y-%m}</text>"
            )
    points = " ".join(f"{x(i):.1f},{y(score):.1f}" for i, (_t, score, _g) in enumerate(series))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for index, (moment, score, grade) in enumerate(series):
        label = f"{moment.astimezone(scoring.SHANGHAI):%Y-%m-%d}: {score} ({grade})"
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(score):.1f}" r="{4 if grade == "D" else 2.5}" '
            f'fill="{"#a11d1d" if grade == "D" else "#1f5fa8"}"><title>{escape(label)}</title>'
            "</circle>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every interpolated text is escaped above)
