"""Chart geometry for server-rendered SVG, pure: numbers in, coordinates out.

The templates draw what these return. Charts must read without colour: every series gets
its own dash pattern (lines) or fill pattern (bars) and a text label, and every chart sits
next to a table of its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 90, 12, 28

DASHES = ["", "8 4", "3 3", "12 4 3 4", "1 4"]
"""One dash pattern per series, so lines differ without colour (solid first)."""


def nice_top(value: float) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^n); at least 4, so that the
    quarter ticks of a small count stay whole numbers."""
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


def _ticks(top: int) -> list[Tick]:
    plot = HEIGHT - TOP - BOTTOM
    return [Tick(round(TOP + plot * (1 - i / 4), 1), f"{top * i / 4:,.4g}") for i in range(5)]


@dataclass(frozen=True)
class Line:
    name: str
    points: str
    dash: str
    end_x: float
    end_y: float
    last: float


@dataclass(frozen=True)
class LineChart:
    lines: list[Line]
    ticks: list[Tick]
    x_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_y: int = HEIGHT - BOTTOM


def line_chart(series: dict[str, list[float]], labels: list[str]) -> LineChart:
    """Lines for each named series over ``labels`` (x axis), labelled at their right end.

    Raises ValueError when a series has a different length from ``labels``.
    """
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    top = nice_top(max((v for values in series.values() for v in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(labels) - 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    lines = []
    for index, (name, values) in enumerate(series.items()):
        points = " ".join(f"{LEFT + i * step:.1f},{y(v)}" for i, v in enumerate(values))
        last = values[-1] if values else 0
        lines.append(
            Line(
                name,
                points,
                DASHES[index % len(DASHES)],
                LEFT + (len(values) - 1) * step + 6,
                y(last),
                last,
            )
        )
    # End labels must not overlap: push each at least 11 px below the one above.
    placed: list[Line] = []
    for line in sorted(lines, key=lambda item: item.end_y):
        end_y = max(line.end_y, placed[-1].end_y + 11) if placed else line.end_y
        placed.append(Line(line.name, line.points, line.dash, line.end_x, end_y, line.last))
    order = {line.name: i for i, line in enumerate(lines)}
    placed.sort(key=lambda item: order[item.name])
    every = max(1, len(labels) // 6)
    x_labels = [(LEFT + i * step, label) for i, label in enumerate(labels) if i % every == 0]
    return LineChart(placed, _ticks(top), x_labels)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    w: float
    h: float
    pattern: str
    text: str
    show_label: bool = True


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        """Nothing to draw: every value is zero (the page says so instead of a flat chart)."""
        return not any(bar.value for bar in self.bars)


PATTERNS = ["solid", "hatch", "dots", "cross", "grid"]
"""Fill patterns defined once per page (``findings/_chart_defs.html``), by index."""


def bar_chart(
    values: list[tuple[str, float]], *, patterned: bool = False, unit: str = ""
) -> BarChart:
    """Vertical bars, one per (label, value), each with its value written above it.

    ``patterned`` gives each bar its own fill pattern (for categories such as severities);
    otherwise all bars share the solid fill (for a time series).
    """
    top = nice_top(max((value for _, value in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - 20, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(values))
    every = max(1, -(-len(values) // 8))  # at most eight axis labels, or they collide
    bars = []
    for i, (label, value) in enumerate(values):
        h = plot_h * value / top
        bars.append(
            Bar(
                label,
                value,
                round(LEFT + i * slot + slot * 0.15, 1),
                round(TOP + plot_h - h, 1),
                round(slot * 0.7, 1),
                round(h, 1),
                PATTERNS[i % len(PATTERNS)] if patterned else "solid",
                f"{value:,.4g}{unit}",
                i % every == 0,
            )
        )
    return BarChart(bars, _ticks(top))


# --- a timeline of windows (the roadmap) ---------------------------------------------------

TL_WIDTH, TL_LABELS, TL_NOTES, TL_ROW, TL_TOP = 960, 250, 170, 24, 22


@dataclass(frozen=True)
class Span:
    """One row to draw: a window from ``start`` to ``end``, ``share`` of it done, or (a
    ``heading``, or a row without a window) only a marker at ``start`` when there is one."""

    label: str
    start: date | None
    end: date | None
    share: float = 0.0
    late: bool = False
    note: str = ""
    heading: bool = False


@dataclass(frozen=True)
class TimelineRow:
    span: Span
    y: float
    x: float | None
    w: float
    done_w: float
    marker_x: float | None


@dataclass(frozen=True)
class Timeline:
    rows: list[TimelineRow]
    ticks: list[tuple[float, str]]
    today_x: float | None
    width: int
    height: int
    left: int = TL_LABELS
    right_edge: int = TL_WIDTH - TL_NOTES
    top: int = TL_TOP


def _months(first: date, last: date) -> list[date]:
    """The first day of each month after ``first`` up to ``last``."""
    out: list[date] = []
    year, month = first.year, first.month
    while True:
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
        if date(year, month, 1) > last:
            return out
        out.append(date(year, month, 1))


def timeline(spans: list[Span], today: date) -> Timeline:
    """Rows of windows on one date axis, from the earliest date to the latest end, with a tick
    at the start of each month (at most eight labelled).

    Today is on the axis when it falls inside the plan or not far after it (a quarter of the
    plan's length); long after, the axis stops at the plan and ``today_x`` is None (the page
    says the date instead), so that old plans stay readable.
    """
    days = [d for s in spans for d in (s.start, s.end) if d is not None]
    first, last = min(days, default=today), max(days, default=today)
    first = min(first, today)
    if today <= last or (today - last) * 4 <= (last - first):
        last = max(last, today)
    length = max(1, (last - first).days)
    left, right = TL_LABELS + 8, TL_WIDTH - TL_NOTES - 8

    def x(day: date) -> float:
        return round(left + (right - left) * (day - first).days / length, 1)

    rows = []
    for index, span in enumerate(spans):
        y = TL_TOP + index * TL_ROW
        if span.start and span.end and not span.heading:
            w = max(2.0, x(span.end) - x(span.start))
            done = round(w * min(1.0, max(0.0, span.share)), 1)
            rows.append(TimelineRow(span, y, x(span.start), w, done, None))
        else:
            marker = x(span.start) if span.start else None
            rows.append(TimelineRow(span, y, None, 0.0, 0.0, marker))
    months = _months(first, last)
    every = max(1, -(-len(months) // 8))
    ticks = [(x(m), m.strftime("%b %Y")) for i, m in enumerate(months) if i % every == 0]
    today_x = x(today) if today <= last else None
    return Timeline(rows, ticks, today_x, TL_WIDTH, TL_TOP + len(spans) * TL_ROW + 24)
