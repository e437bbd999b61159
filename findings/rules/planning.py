"""Planning rules, pure: phase windows and due dates, progress, and a sprint's burn-down.

No ORM here; the selectors pass plain values.

**When a phase runs.** Dates the document gives in a phase's heading or window ("Phase 1
(2026-02-02 to 2026-02-16)") are its window; one date alone is its end. Otherwise a
document's phases run one after another from the document's date, each lasting the upper
bound of its window ("1-2 weeks" lasts 2 weeks, "3 days" 3 days, "Month 2" one month of 30
days); its sprints do the same on their own track, two weeks each unless the window says
otherwise ("This Sprint", then "Next Sprint"). A phase without a duration, or after one, has
no window; checklists and next steps have none.

**How far an item is** (:func:`item_level`): ``signed_off`` or ``verified`` when every
finding linked to it is (evidence beats what the document says), ``claimed`` when the
document marks it done or, saying nothing, every linked finding is claimed fixed, else
``open``. Findings triaged away (accepted risk, false positive, won't fix, suppressed) need
no fix and count neither way. A phase is **late** when its window has ended and some item
(or finding planned into it) is still ``open``.

**Done** for a sprint's burn-down means the problem no longer needs work:
``lifecycle.DONE`` (verified, signed off, or triaged away). A claim is not done.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from findings.lifecycle import CLAIMED_FIXED, SIGNED_OFF, TRIAGED, VERIFIED
from scanners.documents.words import dates_in

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


SPRINT_DAYS = 14
"""How long a sprint lasts when its document does not say."""


@dataclass(frozen=True)
class Window:
    """When a phase runs: ``end`` is its due date; ``given`` when the document wrote the dates."""

    start: date
    end: date
    given: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _given_window(text: str, start: date | None) -> Window | None:
    """The window that dates written in ``text`` give: two dates, or one end after ``start``."""
    found = [date.fromisoformat(day) for day in dates_in(text)]
    if len(found) >= 2 and found[0] <= found[1]:
        return Window(found[0], found[1], given=True)
    if found and start is not None and start <= found[-1]:
        return Window(start, found[-1], given=True)
    return None


def phase_windows(
    start: date | None, phases: Sequence[tuple[str, str, str]]
) -> list[Window | None]:
    """Each phase's window, for a document dated ``start`` whose phases are
    ``(kind, name, window text)`` in the document's order (see the module's rule)."""
    cursors: dict[str, date | None] = {"phase": start, "sprint": start}
    result: list[Window | None] = []
    for kind, name, window in phases:
        track = kind if kind in cursors else None
        cursor = cursors[track] if track else start
        found = _given_window(f"{name} {window}", cursor)
        if found is None and track is not None and cursor is not None:
            days = window_days(window) or (SPRINT_DAYS if kind == "sprint" else None)
            found = Window(cursor, cursor + timedelta(days=days)) if days else None
        if track is not None:
            cursors[track] = found.end if found else None
        result.append(found)
    return result


def offer_dates(window: Window | None, first: date | None, today: date) -> tuple[date, date]:
    """The dates to suggest when a document's sprint is adopted today.

    Its own window while that has not ended; after, the same window moved so that the
    document's first sprint (starting on ``first``) starts today, keeping "next sprint"
    after "this sprint"; without a window, two weeks from today. The end is the last day.
    """
    if window is None:
        return today, today + timedelta(days=SPRINT_DAYS - 1)
    shift = timedelta(0) if window.end >= today else today - (first or window.start)
    start = window.start + shift
    return start, start + timedelta(days=max(1, window.days) - 1)


LEVELS = ("open", "claimed", "verified", "signed_off")
"""How far an item or finding is, weakest first."""


def fix_level(status: str) -> str | None:
    """What a finding's status says of its fix, in the words ``findings.lifecycle`` defines
    once: ``signed_off``, ``verified``, ``claimed`` (claimed fixed) or ``open``; None for
    one triaged away, which needs no fix."""
    if status in TRIAGED:
        return None
    for word, level in (
        (SIGNED_OFF, "signed_off"),
        (VERIFIED, "verified"),
        (CLAIMED_FIXED, "claimed"),
    ):
        if status in word.statuses:
            return level
    return "open"


def item_level(done: bool | None, statuses: Iterable[str]) -> str:
    """How far a roadmap item is, from its own mark and its findings (the module's rule)."""
    levels = [level for status in statuses if (level := fix_level(status))]
    weakest = min(levels, key=LEVELS.index) if levels else None
    if weakest in ("verified", "signed_off"):
        return weakest
    if done or (done is None and weakest == "claimed"):
        return "claimed"
    return "open"


@dataclass(frozen=True)
class Tally:
    """How many items (or findings) are at each level."""

    open: int = 0
    claimed: int = 0
    verified: int = 0
    signed_off: int = 0

    @classmethod
    def of(cls, levels: Iterable[str | None]) -> Tally:
        counts = Counter(level for level in levels if level)
        return cls(**{level: counts[level] for level in LEVELS})

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, lv) + getattr(other, lv) for lv in LEVELS))

    @property
    def total(self) -> int:
        return self.open + self.claimed + self.verified + self.signed_off

    @property
    def claimed_or_better(self) -> int:
        """Done by someone's word at least: claimed, verified or signed off."""
        return self.claimed + self.verified + self.signed_off

    @property
    def verified_or_better(self) -> int:
        return self.verified + self.signed_off

    @property
    def percent(self) -> int:
        """The share claimed done or better, whole percent."""
        return percent(self.claimed_or_better, self.total)

    def segments(self, width: float) -> list[tuple[str, int, float, float]]:
        """A stacked bar ``width`` wide, strongest first: ``(level, count, x, w)`` for each
        level with a count."""
        out, x = [], 0.0
        for level in reversed(LEVELS):
            count = getattr(self, level)
            if count:
                w = round(width * count / self.total, 1)
                out.append((level, count, round(x, 1), w))
                x += w
        return out


def percent(done: int, total: int) -> int:
    """``done`` of ``total`` as a whole percentage; 0 of 0 is 0."""
    return round(100 * done / total) if total else 0


def is_late(due: date | None, today: date, *, work_left: int) -> bool:
    """Whether a phase is past its due date with ``work_left`` items or findings still open."""
    return due is not None and due < today and work_left > 0


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
