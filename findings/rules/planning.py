"""Planning rules, pure: phase windows and due dates, progress, and a sprint's burn-down.

No ORM here; the selectors pass plain values.

**When a phase is due.** A document's phases run one after another from the document's date,
each lasting the upper bound of its window ("1-2 weeks" lasts 2 weeks, "3 days" 3 days,
"Month 2" one month of 30 days). A phase without a window, or after one, has no due date.
A phase is **late** when its due date has passed and its work is not done: some linked
finding is still open-like, or (with no findings linked) some checklist item is unchecked.

**Done** for a finding means the problem no longer needs work: ``lifecycle.DONE`` (verified,
signed off, or triaged away). A claim is not done.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "sprint": 14}
_WINDOW = re.compile(
    r"(?:(\d+)\s*(?:-|–|to)\s*)?(\d+)\s*(days?|weeks?|months?|sprints?)\b|\b(day|week|month)\s+(\d+)",
    re.IGNORECASE,
)


def window_days(window: str) -> int | None:
    """How many days a window lasts (its upper bound), or None when it names no duration.

    "1-2 weeks" -> 14, "3 days" -> 3, "2 to 4 weeks" -> 28, "Week 3" -> 7 (one week),
    "ongoing" -> None.
    """
    match = _WINDOW.search(window or "")
    if match is None:
        return None
    if match.group(4):
        return _UNITS[match.group(4).lower()]
    unit = match.group(3).lower().rstrip("s")
    return int(match.group(2)) * _UNITS[unit]


def due_dates(start: date | None, windows: Iterable[str]) -> list[date | None]:
    """Each phase's due date when phases run one after another from ``start``."""
    result: list[date | None] = []
    cursor = start
    for window in windows:
        days = window_days(window)
        if cursor is None or days is None:
            cursor = None
            result.append(None)
            continue
        cursor = cursor + timedelta(days=days)
        result.append(cursor)
    return result


def percent(done: int, total: int) -> int:
    """``done`` of ``total`` as a whole percentage; 0 of 0 is 0."""
    return round(100 * done / total) if total else 0


def is_late(due: date | None, today: date, *, open_findings: int, open_items: int) -> bool:
    """Whether a phase is past its due date with work left (see the module's rule)."""
    return due is not None and due < today and (open_findings > 0 or open_items > 0)


@dataclass(frozen=True)
class BurnPoint:
    day: date
    remaining: int | None
    ideal: float


def burndown(
    *, start: date, end: date, today: date, scope: int, done_on: Iterable[date]
) -> list[BurnPoint]:
    """One point per sprint day: findings still to do at the day's end, and the ideal line.

    ``scope`` is the findings in the sprint now and ``done_on`` the days those done were
    done (on or before ``start`` counts as done from the start). Days after ``today`` have no
    remaining count yet; the ideal line falls straight from ``scope`` to 0 at ``end``.
    """
    if end < start:
        raise ValueError(f"a sprint cannot end ({end}) before it starts ({start})")
    finished = sorted(done_on)
    length = (end - start).days
    points = []
    index = 0
    for offset in range(length + 1):
        day = start + timedelta(days=offset)
        while index < len(finished) and finished[index] <= day:
            index += 1
        ideal = scope * (1 - offset / length) if length else 0.0
        points.append(BurnPoint(day, scope - index if day <= today else None, round(ideal, 2)))
    return points


def chart_points(values: list[float | None], width: int, height: int, top: float) -> str:
    """SVG polyline points for ``values`` (None ends the line) on a ``width`` x ``height`` box.

    Values run from 0 at the bottom to ``top`` at the top; the box keeps a 30-pixel margin on
    the left for the axis labels and 20 at the bottom.
    """
    left, bottom = 30, 20
    usable_w, usable_h = width - left - 10, height - bottom - 10
    step = usable_w / max(1, len(values) - 1)
    scale = usable_h / top if top else 0
    points = []
    for i, value in enumerate(values):
        if value is None:
            break
        points.append(f"{left + i * step:.1f},{10 + usable_h - value * scale:.1f}")
    return " ".join(points)
