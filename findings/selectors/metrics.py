"""The numbers of the metrics page (open by severity over time, fixes per week, time to fix,
SLA aging and the evidence levels of claimed fixes) and of the overview (open by severity,
the week's changes, SLA breaches, per project).

History comes from the findings' own dates: a finding is open at a moment when it was first
seen before it and not closed by then: a finding that is no longer open-like closed when a
scan stopped reporting it (``fixed_at``), else when its status last changed (a code check, a
sign-off, a triage). A finding open now counts as open since first seen, even if it was
fixed for a while in between, which makes the history slightly pessimistic; the current
week always matches the status summary and the overview.

The aggregates read every finding of the project once, so the result is cached until the
project changes (a new import or audit-log entry changes the cache key).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Sum,
    When,
)
from django.db.models import Value as V
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from findings.lifecycle import FIX_WORDS, OPEN_LIKE, SIGNED_OFF, VERIFIED
from findings.models import (
    ClaimEvidence,
    Event,
    EvidenceLevel,
    Finding,
    FindingLink,
    Project,
    Report,
    Severity,
    StatusCount,
)
from findings.selectors import fixes
from findings.selectors.cards import strongest

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
    # Per hour, as the overview's counts (``fixes.fix_summary``): their "last 7 days" agree.
    key = f"auditdash:metrics:{project.pk}:{_version(project)}:{now:%Y%m%d%H}"
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
    # Closed: no longer open-like (the status summary's "open"), since a scan stopped
    # reporting it or, for the rest (a code check, a sign-off, a triage), since its status
    # changed. A claim stays open.
    fixed: dict[tuple[int, object], int] = defaultdict(int)
    for row in (
        findings.exclude(status__in=OPEN_LIKE)
        .annotate(closed_at=Coalesce("fixed_at", "status_changed_at"))
        .annotate(week=bucket("closed_at"))
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
    # Fixes per week by word (claimed fixed, verified, signed off): when each reached its
    # status here, as the overview's "last 7 days" counts them.
    fix_weeks, recent = fixes.weekly(project=project, weeks=weeks, now=now)
    totals = fixes.status_totals(projects=[project.pk])
    summary = {
        "now": {
            word.key: fixes.word_counts(word, projects=[project.pk], totals=totals).get(
                project.pk, 0
            )
            for word in FIX_WORDS
        },
        "recent": recent,
    }
    fixed_words = {VERIFIED.label, SIGNED_OFF.label}
    fixed_per_week = [
        (label, sum(values[i] for name, values in fix_weeks if name in fixed_words))
        for i, label in enumerate(labels)
    ]
    mttf = _mean_days_to_fix(findings)
    return {
        "labels": labels,
        "open_series": open_series,
        "fixed_per_week": fixed_per_week,
        "fix_weeks": [
            (label, [values[i] for _, values in fix_weeks]) for i, label in enumerate(labels)
        ],
        "fix_words": [word.label for word in FIX_WORDS],
        "mttf": [(s.label, round(mttf.get(s.label, 0), 1)) for s in Severity],
        "mttf_known": set(mttf),
        "aging": _aging(findings, now),
        "evidence": _evidence(project, summary["now"]),
        "fixes": summary,
    }


def _mean_days_to_fix(findings) -> dict[str, float]:
    """Mean days from first seen to fixed, per severity label (severities never fixed absent)."""
    duration = ExpressionWrapper(F("fixed_at") - F("first_seen_at"), output_field=DurationField())
    return {
        Severity(row["severity"]).label: row["avg"].total_seconds() / 86400
        for row in findings.filter(fixed_at__isnull=False)
        .values("severity")
        .annotate(avg=Avg(duration))
        .order_by()
        if row["avg"] is not None
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


def _evidence(project: Project, now_counts: dict[str, int]) -> list[tuple[str, int]]:
    """Every claimed fixed, verified or signed-off finding by its evidence level (the level
    its card shows, ``cards.fix_evidence``): unchecked claims count as unverified, so the
    levels add up to the three words' total (``now_counts``). Checked claims are few
    (documents only), so their levels are read as rows; re-scans are counted."""
    fixed = Finding.objects.filter(
        project=project, status__in=[s for word in FIX_WORDS for s in word.statuses]
    )
    counts: dict[str, int] = defaultdict(int)
    counts[EvidenceLevel.SCAN_CONFIRMED] = fixed.filter(fixed_in_report__isnull=False).count()
    unscanned = fixed.filter(fixed_in_report__isnull=True).values("pk")
    own = ClaimEvidence.objects.filter(claim__dropped=False, claim__finding__in=unscanned)
    linked = FindingLink.objects.filter(
        finding__in=unscanned,
        state=FindingLink.State.CONFIRMED,
        claim__dropped=False,
        claim__verification__isnull=False,
    )
    levels: dict[int, str] = {}
    for finding_id, level in list(own.values_list("claim__finding_id", "level")) + list(
        linked.values_list("finding_id", "claim__verification__level")
    ):
        levels[finding_id] = strongest(level, levels.get(finding_id, EvidenceLevel.UNVERIFIED))
    for level in levels.values():
        counts[level] += 1
    proven = sum(n for level, n in counts.items() if level != EvidenceLevel.UNVERIFIED)
    counts[EvidenceLevel.UNVERIFIED] = sum(now_counts.values()) - proven
    return [(level.label, counts[level.value]) for level in EvidenceLevel]


# --- overview -------------------------------------------------------------------------------


def project_overview(*, projects: Iterable[Project], summary: dict | None = None) -> list[dict]:
    """Per project: open findings by severity, from the status summary (claimed fixes count
    as open: a claim is not proof), and ``fixes``: how many each word of
    ``lifecycle.FIX_WORDS`` holds now (``fixes.fix_summary``)."""
    projects = list(projects)
    if summary is None:
        summary = fixes.fix_summary(projects=[project.pk for project in projects])
    counts: dict[tuple[int, int], int] = {}
    for row in StatusCount.objects.filter(project__in=projects, status__in=OPEN_LIKE).values(
        "project_id", "severity", "n"
    ):
        key = (row["project_id"], row["severity"])
        counts[key] = counts.get(key, 0) + row["n"]
    rows = []
    for project in projects:
        open_counts = [(sev.label, counts.get((project.pk, sev.value), 0)) for sev in Severity]
        rows.append(
            {
                "project": project,
                "open": open_counts,
                "open_total": sum(n for _, n in open_counts),
                "fixes": summary.get(project.pk, {}).get("now", {}),
            }
        )
    return rows


DEFAULT_SLA_DAYS = "critical=7,high=30,medium=90,low=180"


def sla_days() -> dict[int, int]:
    """Days an open finding may stay open, per severity, from ``AUDITDASH_SLA_DAYS``.

    The setting reads ``"critical=7,high=30,medium=90,low=180"``; a severity it leaves out has
    no SLA. Raises ImproperlyConfigured naming the setting and the bad part otherwise.
    """
    raw = str(getattr(settings, "AUDITDASH_SLA_DAYS", DEFAULT_SLA_DAYS) or "")
    days: dict[int, int] = {}
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        name, _, value = part.partition("=")
        try:
            days[Severity.from_name(name.strip().lower())] = int(value)
        except (KeyError, ValueError):
            raise ImproperlyConfigured(
                f"AUDITDASH_SLA_DAYS: {part!r} is not <severity>=<days> "
                f"(severities: {', '.join(Severity.labels)})"
            ) from None
        if days[Severity.from_name(name.strip().lower())] < 0:
            raise ImproperlyConfigured(f"AUDITDASH_SLA_DAYS: {part!r} has negative days")
    return days


def sla_breaches(*, projects, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """Per project id, open-like findings older than their severity's SLA, by severity.

    Counting them reads every open finding (a second at a million), so the answer is cached
    per hour until the projects change: a new import or audit-log entry changes the key.
    """
    now = now or timezone.now()
    ids = sorted(Project.objects.filter(pk__in=projects).values_list("pk", flat=True))
    latest_event = Event.objects.filter(project__in=ids).order_by("-id").values("id")[:1]
    latest_report = Report.objects.filter(project__in=ids).order_by("-id").values("id")[:1]
    key = "auditdash:sla:{}:{}:{}:{}:{}".format(
        hash(tuple(ids)),
        latest_event[0]["id"] if latest_event else 0,
        latest_report[0]["id"] if latest_report else 0,
        now.strftime("%Y%m%d%H"),
        getattr(settings, "AUDITDASH_SLA_DAYS", DEFAULT_SLA_DAYS),
    )
    cached = cache.get(key)
    if cached is None:
        cached = _sla_breaches(ids, now)
        cache.set(key, cached, 3600)
    return cached


def _sla_breaches(ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    limits = sla_days()
    if not limits:
        return {}
    late = Q()
    for severity, days in limits.items():
        late |= Q(severity=severity, first_seen_at__lt=now - timedelta(days=days))
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Finding.objects.filter(project__in=ids, status__in=OPEN_LIKE)
        .filter(late)
        .values("project_id", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        result[row["project_id"]][Severity(row["severity"]).label] = row["n"]
    return dict(result)


def recent_changes(
    *, projects, now: datetime | None = None, summary: dict | None = None
) -> dict[int, dict]:
    """Per project id, the last :data:`fixes.RECENT_DAYS` days: new and regressed findings
    (from the counts finished scans recorded) and, per word of ``lifecycle.FIX_WORDS``, the
    findings that reached it (``fixes.fix_summary``), keyed by the word's key."""
    now = now or timezone.now()
    since = now - timedelta(days=fixes.RECENT_DAYS)
    if summary is None:  # the caller may have read it for the same projects already
        summary = fixes.fix_summary(projects=projects, now=now)
    result: dict[int, dict] = {
        pk: {"new": 0, "regressed": 0, **counts["recent"]} for pk, counts in summary.items()
    }
    for row in (
        Report.objects.filter(project__in=projects, state=Report.State.DONE, finished_at__gte=since)
        .values("project_id")
        .annotate(new=Sum("new"), regressed=Sum("regressed"))
        .order_by()
    ):
        result[row["project_id"]].update(new=row["new"] or 0, regressed=row["regressed"] or 0)
    return result
