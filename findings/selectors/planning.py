"""Sprint planning's reads: the backlog, sprints and their burn-down (the roadmap's are
:mod:`findings.selectors.roadmap`).

Fixed numbers of queries whatever the rows shown; the backlog follows the board's column
index (project, status, severity, -number) one (status, severity) slice at a time. The
arithmetic (progress, burn-down) is :mod:`findings.rules.planning`.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from findings.lifecycle import DONE, OPEN_LIKE
from findings.models import (
    Finding,
    Membership,
    Phase,
    Project,
    Severity,
    Sprint,
)
from findings.rules import planning as plan
from findings.selectors.board import BoardFilter, filtered_findings, resolve
from findings.selectors.cards import CARD_FIELDS, cards


def backlog(*, project: Project, filters: BoardFilter, limit: int = 50) -> list[dict]:
    """Open-like findings in no sprint yet, worst first, then oldest first (lowest number).

    One small query per (status, severity) slice along the column index, merged here:
    fifteen queries at most, each reading at most ``limit`` rows.
    """
    filters = resolve(project, filters)
    base = filtered_findings(project, filters).filter(sprint__isnull=True)
    severities = (
        [Severity.from_name(filters.severity)] if filters.severity else [s.value for s in Severity]
    )
    slices = []
    for severity in severities:
        for status in OPEN_LIKE:
            rows = list(
                base.filter(status=status, severity=severity)
                .order_by("number")
                .values(*CARD_FIELDS)[:limit]
            )
            slices.append(rows)
    merged = heapq.merge(*slices, key=lambda row: (row["severity"], row["number"]))
    return cards(list(itertools.islice(merged, limit)), project)


def sprint_findings(*, sprint: Sprint, limit: int = 200) -> list[dict]:
    """The findings planned into a sprint, worst first, as backlog rows."""
    rows = list(
        Finding.objects.filter(sprint=sprint)
        .order_by("severity", "number")
        .values(*CARD_FIELDS)[:limit]
    )
    return cards(rows, sprint.project)


@dataclass
class SprintSummary:
    sprint: Sprint
    scope: int
    done: int
    burn: list[plan.BurnPoint]

    @property
    def over_capacity(self) -> bool:
        return self.sprint.capacity > 0 and self.scope > self.sprint.capacity

    @property
    def over_by(self) -> int:
        return max(0, self.scope - self.sprint.capacity)

    @property
    def percent(self) -> int:
        return plan.percent(self.done, self.scope)

    @property
    def top(self) -> int:
        """The chart's top value: the scope or the capacity, whichever is larger (at least 1)."""
        return max(1, self.scope, self.sprint.capacity)

    @property
    def remaining_points(self) -> str:
        return plan.chart_points([p.remaining for p in self.burn], 480, 200, self.top)

    @property
    def ideal_points(self) -> str:
        return plan.chart_points([p.ideal for p in self.burn], 480, 200, self.top)


def sprint_summary(*, sprint: Sprint, today: date | None = None) -> SprintSummary:
    """A sprint's scope, what is done and its burn-down (one query over its findings)."""
    today = today or timezone.localdate()
    done_on = []
    scope = 0
    for status, changed, fixed in Finding.objects.filter(sprint=sprint).values_list(
        "status", "status_changed_at", "fixed_at"
    ):
        scope += 1
        if status in DONE:
            done_on.append(timezone.localdate(fixed or changed))
    burn = plan.burndown(
        start=sprint.start, end=sprint.end, today=today, scope=scope, done_on=done_on
    )
    return SprintSummary(sprint=sprint, scope=scope, done=len(done_on), burn=burn)


def current_sprint(*, project: Project, today: date | None = None) -> Sprint | None:
    """The sprint running today, else the next one, else the latest."""
    today = today or timezone.localdate()
    sprints = Sprint.objects.filter(project=project).select_related("project")
    return (
        sprints.filter(start__lte=today, end__gte=today).order_by("start").first()
        or sprints.filter(start__gt=today).order_by("start").first()
        or sprints.order_by("-end").first()
    )


def planning_choices(*, project: Project) -> dict:
    """Sprints, phases and the people a finding of ``project`` may be planned for."""
    members = Membership.objects.filter(project=project).values_list("user_id", flat=True)
    people = (
        get_user_model()
        .objects.filter(Q(pk__in=members) | Q(is_superuser=True), is_active=True)
        .order_by("username")
        .values_list("username", flat=True)
    )
    return {
        "sprints": list(Sprint.objects.filter(project=project).order_by("start", "id")),
        "phases": list(
            Phase.objects.filter(project=project, kind__in=["phase", "sprint"])
            .order_by("order", "id")
            .values("id", "name")
        ),
        "people": list(people),
    }


def project_sprint(*, project: Project, pk: int | str | None) -> Sprint | None:
    """The project's sprint ``pk`` (an id, or its text from a form or URL); None when there
    is none, or ``pk`` is empty or not a number."""
    try:
        pk = int(pk or 0)
    except ValueError:
        return None
    if not pk:
        return None
    return Sprint.objects.filter(project=project, pk=pk).select_related("project").first()


def project_phase(*, project: Project, pk: int | None) -> Phase | None:
    """The project's phase ``pk``; None when there is none or ``pk`` is empty."""
    return Phase.objects.filter(project=project, pk=pk).first() if pk else None


def row_for(*, finding: Finding) -> dict:
    """One finding as a backlog row, after an inline plan changed it."""
    row = Finding.objects.filter(pk=finding.pk).values(*CARD_FIELDS).get()
    return cards([row], finding.project)[0]
