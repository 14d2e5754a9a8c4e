"""Geometry of the "bookings from messages" chart: attributed bookings per week, stacked by source.

The few sources with the most bookings get a colour each and the rest share "Other", so the legend
stays readable; the colours are SVG fill attributes (no stylesheet change, no inline style).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oncord.attribution.figures import Source
from oncord.dashboard.chart import BOTTOM, HEIGHT, LEFT, WIDTH, stack_columns

# Distinct on white and for the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")
OTHER_COLOUR = "#7a7a7a"
NAMED = 4


@dataclass(frozen=True)
class Series:
    """One legend entry: a campaign or journey (or "Other") and its colour."""

    label: str
    colour: str
    weekly: tuple[int, ...]

    @property
    def total(self) -> int:
        """Its bookings over all the weeks shown."""
        return sum(self.weekly)


@dataclass(frozen=True)
class Segment:
    """One source's part of one week's bar."""

    label: str
    colour: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    """One week's bar."""

    start: datetime
    total: int
    label_x: float
    segments: list[Segment]


@dataclass(frozen=True)
class BookingsChart:
    """Everything the SVG and its figures table need."""

    series: list[Series]
    bars: list[Bar]
    ticks: list[tuple[float, int]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM

    @property
    def is_empty(self) -> bool:
        """No attributed booking in any week."""
        return not any(bar.total for bar in self.bars)


def _series(sources: list[Source], weeks: int) -> list[Series]:
    named = [Series(f"{s.name} ({s.kind.lower()})", PALETTE[i], s.weekly)
             for i, s in enumerate(sources[:NAMED])]
    rest = sources[NAMED:]
    if rest:
        weekly = tuple(sum(s.weekly[i] for s in rest) for i in range(weeks))
        named.append(Series(f"Other ({len(rest)} more)", OTHER_COLOUR, weekly))
    return named


def build_bookings_chart(starts: list[datetime], sources: list[Source]) -> BookingsChart:
    """Stack each source's bookings per week."""
    series = _series(sources, len(starts))
    columns, ticks = stack_columns([[s.weekly[i] for s in series] for i in range(len(starts))])
    bars = []
    for index, (start, column) in enumerate(zip(starts, columns, strict=True)):
        segments = [Segment(s.label, s.colour, s.weekly[index], column.x, y, column.width, height)
                    for s, (y, height) in zip(series, column.parts, strict=True)]
        bars.append(Bar(start, sum(s.weekly[index] for s in series), column.label_x, segments))
    return BookingsChart(series=series, bars=bars, ticks=ticks)
