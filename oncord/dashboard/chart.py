"""Geometry of the dashboard charts (appointments per week, NPS per month), drawn as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass

from oncord.dashboard.nps import Month
from oncord.dashboard.stats import Week

WIDTH, HEIGHT = 640, 220
LEFT, BOTTOM, TOP = 36, 28, 10
LABELS = {"attended": "Attended", "cancelled": "Cancelled", "did_not_arrive": "Did not arrive"}


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    kind: str
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    """One week's stacked bar and its axis label."""

    week: Week
    label_x: float
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    """Everything the SVG needs."""

    bars: list[Bar]
    ticks: list[tuple[float, int]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM

    @property
    def is_empty(self) -> bool:
        """No appointments in any week."""
        return all(bar.week.total == 0 for bar in self.bars)


def nice_max(value: int) -> int:
    """The top of a chart's axis: `value` rounded up to a round number (both dashboard charts use it)."""
    if value <= 4:
        return 4
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return -(-value // 10000) * 10000


@dataclass(frozen=True)
class Column:
    """Where one stacked bar sits: its left edge, width and centre, and each part's top and height."""

    x: float
    width: float
    label_x: float
    parts: list[tuple[float, float]]


def stack_columns(stacks: list[list[int]]) -> tuple[list[Column], list[tuple[float, int]]]:
    """Lay out one bar per stack of counts (bottom part first) on a shared scale with 5 gridlines.

    Both stacked charts (appointments per week, bookings from messages) place their bars here, so
    they line up with each other and the axis rounding lives in one place.
    """
    top = nice_max(max((sum(stack) for stack in stacks), default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(stacks), 1)
    bar_width = slot * 0.62
    columns = []
    for index, stack in enumerate(stacks):
        x = LEFT + index * slot + (slot - bar_width) / 2
        y = float(HEIGHT - BOTTOM)
        parts = []
        for count in stack:
            height = plot_height * count / top
            y -= height
            parts.append((round(y, 1), round(height, 1)))
        columns.append(Column(round(x, 1), round(bar_width, 1), round(x + bar_width / 2, 1), parts))
    ticks = [(round(HEIGHT - BOTTOM - plot_height * i / 4, 1), top * i // 4) for i in range(5)]
    return columns, ticks


KINDS = ("attended", "cancelled", "did_not_arrive")


def build_chart(weeks: list[Week]) -> Chart:
    """Stack attended, cancelled and did-not-arrive per week."""
    columns, ticks = stack_columns([[getattr(week, kind) for kind in KINDS] for week in weeks])
    bars = []
    for week, column in zip(weeks, columns, strict=True):
        segments = [Segment(kind, LABELS[kind], getattr(week, kind), column.x, y, column.width, height)
                    for kind, (y, height) in zip(KINDS, column.parts, strict=True)]
        bars.append(Bar(week=week, label_x=column.label_x, segments=segments))
    return Chart(bars=bars, ticks=ticks)


@dataclass(frozen=True)
class ScoreBar:
    """One month's NPS bar, up from the zero line for a positive score, down for a negative one."""

    month: Month
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class ScoreChart:
    """The NPS chart: -100 to 100 on a fixed scale (scores of different months compare at a glance)."""

    bars: list[ScoreBar]
    ticks: list[tuple[float, int]]
    zero: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM

    @property
    def is_empty(self) -> bool:
        """No responses in any month."""
        return all(bar.month.responses == 0 for bar in self.bars)


def build_nps_chart(months: list[Month]) -> ScoreChart:
    """A bar per month from the zero line to its NPS, with gridlines at -100, -50, 0, 50 and 100."""
    plot_height = HEIGHT - BOTTOM - TOP
    zero = TOP + plot_height / 2
    slot = (WIDTH - LEFT) / max(len(months), 1)
    bar_width = slot * 0.5
    bars = []
    for index, month in enumerate(months):
        x = LEFT + index * slot + (slot - bar_width) / 2
        size = plot_height / 2 * abs(month.score or 0) / 100
        y = zero - size if (month.score or 0) >= 0 else zero
        bars.append(ScoreBar(month=month, x=round(x, 1), y=round(y, 1), width=round(bar_width, 1),
                             height=round(size, 1), label_x=round(x + bar_width / 2, 1)))
    ticks = [(round(zero - plot_height / 2 * value / 100, 1), value) for value in (100, 50, 0, -50, -100)]
    return ScoreChart(bars=bars, ticks=ticks, zero=round(zero, 1))
