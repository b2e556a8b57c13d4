"""Server-side charts as inline SVG geometry (no JavaScript, no external file, nothing the
Content-Security-Policy would refuse): the views compute coordinates here, the templates draw
``<rect>``, ``<polyline>`` and ``<text>`` with classes styled in the site's stylesheet. Each chart
carries its figures as text too (the template's title, description and data table)."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 720
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 220
TREND_HEIGHT = 220
TREND_TOP = 20
TREND_BOTTOM = 40
TREND_LEFT = 48
TREND_RIGHT = 48


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    x: float
    y: float
    width: float
    height: float
    text_y: float
    value_x: float


@dataclass
class BarChart:
    width: int
    height: int
    label_width: int
    bars: list[Bar] = field(default_factory=list)


def ranking_bars(rows: list[tuple[str, float | None, str]]) -> BarChart:
    """Horizontal bars, one per (label, percent 0–100 or ``None``, text shown after the bar)."""
    plot = WIDTH - LABEL_WIDTH - 80
    chart = BarChart(width=WIDTH, height=max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP, label_width=LABEL_WIDTH)
    for index, (label, percent, text) in enumerate(rows):
        y = BAR_GAP + index * (BAR_HEIGHT + BAR_GAP)
        width = plot * max(0.0, min(100.0, percent or 0.0)) / 100
        chart.bars.append(
            Bar(label, text, LABEL_WIDTH, y, round(width, 1), BAR_HEIGHT, y + BAR_HEIGHT * 0.7, LABEL_WIDTH + width + 6)
        )
    return chart


@dataclass(frozen=True)
class TrendPoint:
    label: str
    count: int
    percent: float | None
    bar_x: float
    bar_y: float
    bar_width: float
    bar_height: float
    label_x: float
    point_y: float | None


@dataclass
class TrendChart:
    width: int
    height: int
    base_y: float
    top_y: float
    left: int
    right_x: float
    max_count: int
    points: list[TrendPoint] = field(default_factory=list)
    line: str = ""
    gridlines: list[tuple[float, str]] = field(default_factory=list)


def trend(months: list[tuple[str, int, float | None]]) -> TrendChart:
    """Bars of a count per month (left axis, 0 to the largest) and a line of a percentage (right
    axis, 0–100 %), one (label, count, percent or ``None``) per month."""
    base = TREND_HEIGHT - TREND_BOTTOM
    plot_height = base - TREND_TOP
    plot_width = WIDTH - TREND_LEFT - TREND_RIGHT
    top = max([count for _label, count, _percent in months] + [1])
    chart = TrendChart(
        width=WIDTH,
        height=TREND_HEIGHT,
        base_y=base,
        top_y=TREND_TOP,
        left=TREND_LEFT,
        right_x=WIDTH - TREND_RIGHT,
        max_count=top,
    )
    slot = plot_width / max(1, len(months))
    points = []
    for index, (label, count, percent) in enumerate(months):
        height = plot_height * count / top
        x = TREND_LEFT + index * slot
        point_y = None if percent is None else round(base - plot_height * percent / 100, 1)
        chart.points.append(
            TrendPoint(
                label=label,
                count=count,
                percent=percent,
                bar_x=round(x + slot * 0.2, 1),
                bar_y=round(base - height, 1),
                bar_width=round(slot * 0.6, 1),
                bar_height=round(height, 1),
                label_x=round(x + slot / 2, 1),
                point_y=point_y,
            )
        )
        if point_y is not None:
            points.append(f"{round(x + slot / 2, 1)},{point_y}")
    chart.line = " ".join(points)
    chart.gridlines = [(round(base - plot_height * share, 1), f"{int(share * 100)} %") for share in (0, 0.5, 1)]
    return chart
