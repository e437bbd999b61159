"""The metrics page's numbers: open by severity over time, fixes per week, time to fix, SLA
aging and the evidence levels of claimed fixes.

History comes from the findings' own dates: a finding is open at a moment when it was first
seen before it and not fixed (``fixed_at``, set when a scan stops reporting it) by then.
Triaged findings count as open until now (their triage date is not on the row), which makes
the history slightly pessimistic; the current week always matches the status summary.

The aggregates read every finding of the project once, so the result is cached until the
project changes (a new import or audit-log entry changes the cache key).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    When,
)
from django.db.models import Value as V
from django.db.models.functions import TruncWeek
from django.utils import timezone

from findings.dashboard_selectors import sla_days
from findings.lifecycle import OPEN_LIKE
from findings.models import ClaimEvidence, Event, EvidenceLevel, Finding, Project, Report, Severity

WEEKS = 12
AGING_BUCKETS = ["within SLA", "up to 30 days late", "31-90 days late", "over 90 days late"]


def _version(project: Project) -> str:
    """A cache key part that changes whenever the project's findings may have changed."""
    event = Event.objects.filter(project=project).order_by("-created_at", "-id").values("id")[:1]
    report = Report.objects.filter(project=project).order_by("-created_at", "-id").values("id")[:1]
    return f"{event[0]['id'] if event else 0}-{report[0]['id'] if report else 0}"


def project_metrics(*, project: Project, now: datetime | None = None) -> dict:
    """Every series the metrics page charts, cached per project version (see the module)."""
    now = now or timezone.now()
    key = f"auditdash:metrics:{project.pk}:{_version(project)}:{now.date().isoformat()}"
    cached = cache.get(key)
    if cached is None:
        cached = _compute(project, now)
        cache.set(key, cached, 3600)
    return cached


def _week_start(moment: datetime) -> datetime:
    start = moment - timedelta(days=moment.weekday())
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


def _compute(project: Project, now: datetime) -> dict:
    findings = Finding.objects.filter(project=project)
    this_week = _week_start(now)
    weeks = [this_week - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    first = weeks[0]

    def bucket(field: str):
        # Everything before the window lands in one "earlier" bucket: the starting level.
        return Case(
            When(**{f"{field}__lt": first}, then=V(None)),
            default=TruncWeek(field),
        )

    seen: dict[tuple[int, object], int] = defaultdict(int)
    for row in (
        findings.annotate(week=bucket("first_seen_at"))
        .values("severity", "week")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        seen[(row["severity"], _week_key(row["week"]))] += row["n"]
    fixed: dict[tuple[int, object], int] = defaultdict(int)
    for row in (
        findings.filter(fixed_at__isnull=False)
        .annotate(week=bucket("fixed_at"))
        .values("severity", "week")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        fixed[(row["severity"], _week_key(row["week"]))] += row["n"]
    labels = [week.strftime("%b %-d") for week in weeks]
    open_series: dict[str, list[int]] = {}
    for severity in Severity:
        level = seen[(severity.value, None)] - fixed[(severity.value, None)]
        values = []
        for week in weeks:
            level += seen[(severity.value, week.date())] - fixed[(severity.value, week.date())]
            values.append(level)
        open_series[severity.label] = values
    fixed_per_week = [
        (label, sum(fixed[(s.value, week.date())] for s in Severity))
        for label, week in zip(labels, weeks, strict=True)
    ]
    duration = ExpressionWrapper(F("fixed_at") - F("first_seen_at"), output_field=DurationField())
    mttf = {
        Severity(row["severity"]).label: row["avg"].total_seconds() / 86400
        for row in findings.filter(fixed_at__isnull=False)
        .values("severity")
        .annotate(avg=Avg(duration))
        .order_by()
        if row["avg"] is not None
    }
    return {
        "labels": labels,
        "open_series": open_series,
        "fixed_per_week": fixed_per_week,
        "mttf": [(s.label, round(mttf.get(s.label, 0), 1)) for s in Severity],
        "mttf_known": set(mttf),
        "aging": _aging(findings, now),
        "evidence": _evidence(project),
    }


def _week_key(week):
    return week.date() if week is not None else None


def _aging(findings, now: datetime) -> list[dict]:
    """Open-like findings per severity by how far past their SLA they are (one query)."""
    limits = sla_days()
    whens = []
    for severity, days in limits.items():
        due = now - timedelta(days=days)
        whens += [
            When(severity=severity, first_seen_at__gte=due, then=V(0)),
            When(severity=severity, first_seen_at__gte=due - timedelta(days=30), then=V(1)),
            When(severity=severity, first_seen_at__gte=due - timedelta(days=90), then=V(2)),
            When(severity=severity, then=V(3)),
        ]
    counts: dict[tuple[int, int], int] = defaultdict(int)
    if whens:
        for row in (
            findings.filter(status__in=OPEN_LIKE, severity__in=list(limits))
            .annotate(bucket=Case(*whens, default=V(0), output_field=IntegerField()))
            .values("severity", "bucket")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts[(row["severity"], row["bucket"])] = row["n"]
    return [
        {
            "severity": Severity(severity).label,
            "sla_days": days,
            "buckets": [counts[(severity, i)] for i in range(len(AGING_BUCKETS))],
        }
        for severity, days in limits.items()
    ]


def _evidence(project: Project) -> list[tuple[str, int]]:
    """How many live, checked claims reached each evidence level."""
    counts = dict(
        ClaimEvidence.objects.filter(claim__project=project, claim__dropped=False)
        .values("level")
        .annotate(n=Count("pk"))
        .values_list("level", "n")
    )
    return [(level.label, counts.get(level.value, 0)) for level in EvidenceLevel]
