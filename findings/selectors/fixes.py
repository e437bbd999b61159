"""The words for "fixed", counted: one selector per word of ``findings.lifecycle.FIX_WORDS``.

*Claimed fixed* (a person or a document says so), *verified* (evidence says so) and *signed
off* (a reviewer approved) are each one status, so a finding counts under one word at most
and a claim is never counted as fixed. Every page, report and the API that counts fixes
reads them here: the overview, the board, the metrics page, the status report and the API
summary therefore agree.

Counts "now" come from the status summary (``StatusCount``). Counts of a recent window
(``since``) are the findings that hold the word now and reached it since then
(``status_changed_at``): a fix claimed on Monday and verified on Tuesday counts once, as
verified. Windowed counts read the findings, so they are cached until the projects change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Case, Count, Sum, When
from django.db.models import Value as V
from django.db.models.functions import TruncWeek
from django.utils import timezone

from findings.lifecycle import CLAIMED_FIXED, FIX_WORDS, SIGNED_OFF, VERIFIED, FixWord
from findings.models import Event, Finding, Project, Report, StatusCount

RECENT_DAYS = 7
"""The window of "last 7 days" wherever a page shows recent fixes."""


def projects_version(ids: Iterable[int]) -> str:
    """A cache key part that changes whenever any of the projects' findings may change:
    their newest audit-log entry and newest report."""
    ids = sorted(ids)
    event = Event.objects.filter(project__in=ids).order_by("-id").values("id")[:1]
    report = Report.objects.filter(project__in=ids).order_by("-id").values("id")[:1]
    return "{}:{}:{}".format(
        hash(tuple(ids)), event[0]["id"] if event else 0, report[0]["id"] if report else 0
    )


def status_totals(*, projects, since: datetime | None = None) -> dict[tuple[int, str], int]:
    """Per (project id, status), the findings of the fix words' statuses now (``since``: that
    reached their status since then). One query."""
    statuses = [status for word in FIX_WORDS for status in word.statuses]
    if since is None:
        rows = StatusCount.objects.filter(project__in=projects, status__in=statuses)
        summed = rows.values("project_id", "status").annotate(n=Sum("n")).order_by()
        return {(row["project_id"], row["status"]): row["n"] or 0 for row in summed}
    found = Finding.objects.filter(
        project__in=projects, status__in=statuses, status_changed_at__gte=since
    )
    counted = found.values("project_id", "status").annotate(n=Count("pk")).order_by()
    return {(row["project_id"], row["status"]): row["n"] for row in counted}


def word_counts(
    word: FixWord,
    *,
    projects,
    since: datetime | None = None,
    totals: dict[tuple[int, str], int] | None = None,
) -> dict[int, int]:
    """Per project id, the findings ``word`` holds now (``since``: that reached it since);
    from ``totals`` (:func:`status_totals`) when the caller read them already."""
    if totals is None:
        totals = status_totals(projects=projects, since=since)
    counts: dict[int, int] = defaultdict(int)
    for (project_id, status), n in totals.items():
        if status in word.statuses:
            counts[project_id] += n
    return dict(counts)


def claimed_fixed(*, projects, since: datetime | None = None, totals=None) -> dict[int, int]:
    """Per project id, the findings claimed fixed (by a person or a document), not yet proven."""
    return word_counts(CLAIMED_FIXED, projects=projects, since=since, totals=totals)


def verified(*, projects, since: datetime | None = None, totals=None) -> dict[int, int]:
    """Per project id, the findings verified: a re-scan or a passing code check says fixed."""
    return word_counts(VERIFIED, projects=projects, since=since, totals=totals)


def signed_off(*, projects, since: datetime | None = None, totals=None) -> dict[int, int]:
    """Per project id, the findings whose fix a reviewer approved."""
    return word_counts(SIGNED_OFF, projects=projects, since=since, totals=totals)


_SELECTORS = {
    CLAIMED_FIXED.key: claimed_fixed,
    VERIFIED.key: verified,
    SIGNED_OFF.key: signed_off,
}


def summarise(ids: list[int], now: datetime) -> dict[int, dict[str, dict[str, int]]]:
    """Per project id: ``{"now": {word: n}, "recent": {word: n}}`` for every word, the recent
    counts over the :data:`RECENT_DAYS` days before ``now``. Two queries, not cached."""
    now_totals = status_totals(projects=ids)
    recent_totals = status_totals(projects=ids, since=now - timedelta(days=RECENT_DAYS))
    result: dict[int, dict[str, dict[str, int]]] = {pk: {"now": {}, "recent": {}} for pk in ids}
    for word_key, selector in _SELECTORS.items():
        now_counts = selector(projects=ids, totals=now_totals)
        recent_counts = selector(projects=ids, totals=recent_totals)
        for pk in ids:
            result[pk]["now"][word_key] = now_counts.get(pk, 0)
            result[pk]["recent"][word_key] = recent_counts.get(pk, 0)
    return result


def fix_summary(*, projects, now: datetime | None = None) -> dict[int, dict[str, dict[str, int]]]:
    """:func:`summarise` for ``projects``, cached per hour until the projects change."""
    now = now or timezone.now()
    ids = sorted(_ids(projects))
    key = f"auditdash:fixes:{projects_version(ids)}:{now:%Y%m%d%H}"
    cached = cache.get(key)
    if cached is None:
        cached = summarise(ids, now)
        cache.set(key, cached, 3600)
    return cached


def _ids(projects) -> list[int]:
    """The ids of ``projects``: given as ids, or read from a queryset of projects."""
    if isinstance(projects, list | tuple | set) and all(isinstance(p, int) for p in projects):
        return list(projects)
    return list(Project.objects.filter(pk__in=projects).values_list("pk", flat=True))


def weekly(
    *, project: Project, weeks: list[datetime], now: datetime
) -> tuple[list[tuple[str, list[int]]], dict[str, int]]:
    """Per word, how many of the project's findings that hold it now reached it in each of
    ``weeks`` (Monday starts, oldest first; earlier ones are left out), and per word key the
    recent counts of :func:`summarise` for ``now``: one read of the findings for both."""
    since = now - timedelta(days=RECENT_DAYS)
    counts: dict[tuple[str, object], int] = defaultdict(int)
    recent: dict[str, int] = defaultdict(int)
    for row in (
        Finding.objects.filter(
            project=project,
            status__in=[status for word in FIX_WORDS for status in word.statuses],
            status_changed_at__gte=min(weeks[0], since),
        )
        .annotate(
            week=TruncWeek("status_changed_at"),
            recent=Case(When(status_changed_at__gte=since, then=V(1)), default=V(0)),
        )
        .values("status", "week", "recent")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[(row["status"], row["week"].date())] += row["n"]
        recent[row["status"]] += row["n"] * row["recent"]
    series = [
        (word.label, [sum(counts[(s, week.date())] for s in word.statuses) for week in weeks])
        for word in FIX_WORDS
    ]
    return series, {word.key: sum(recent[s] for s in word.statuses) for word in FIX_WORDS}
