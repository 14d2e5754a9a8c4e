"""Geometry of the weekly appointments chart, drawn as inline SVG by the template."""

from __future__ import annotations

from dataclasses import dataclass

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


def _nice_max(value: int) -> int:
    if value <= 4:
        return 4
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return -(-value // 10000) * 10000


def build_chart(weeks: list[Week]) -> Chart:
    """Stack attended, cancelled and did-not-arrive per week on a shared scale with 5 gridlines."""
    top = _nice_max(max((w.total for w in weeks), default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(weeks), 1)
    bar_width = slot * 0.62
    bars = []
    for index, week in enumerate(weeks):
        x = LEFT + index * slot + (slot - bar_width) / 2
        y = float(HEIGHT - BOTTOM)
        segments = []
        for kind in ("attended", "cancelled", "did_not_arrive"):
            count = getattr(week, kind)
            height = plot_height * count / top
            y -= height
            segments.append(Segment(kind, LABELS[kind], count, round(x, 1), round(y, 1),
                                    round(bar_width, 1), round(height, 1)))
        bars.append(Bar(week=week, label_x=round(x + bar_width / 2, 1), segments=segments))
    ticks = [(round(HEIGHT - BOTTOM - plot_height * i / 4, 1), top * i // 4) for i in range(5)]
    return Chart(bars=bars, ticks=ticks)
