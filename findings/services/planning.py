"""Planning made in auditdash: sprints (new, or adopted from a document's section), and
which sprint, phase and person a finding is for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Final, Literal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from findings.lifecycle import OPEN_LIKE
from findings.models import Event, Finding, Phase, Project, Sprint


class PlanningError(ValueError):
    """A plan that cannot be recorded; the message says why, for the planner to read."""


def sprint_create(
    *, project: Project, name: str, start: date, end: date, capacity: int, actor
) -> Sprint:
    """A new sprint of ``project``; PlanningError for a taken name or an end before the start."""
    name = name.strip()
    if not name:
        raise PlanningError("a sprint needs a name")
    if end < start:
        raise PlanningError(f"sprint {name!r} ends ({end}) before it starts ({start})")
    if capacity < 0:
        raise PlanningError(f"sprint {name!r} has a negative capacity ({capacity})")
    try:
        with transaction.atomic():
            sprint = Sprint.objects.create(
                project=project, name=name, start=start, end=end, capacity=capacity
            )
            Event.objects.create(
                project=project,
                actor=actor,
                action="sprint_created",
                after=name[:200],
                note=f"{start} to {end}, capacity {capacity}",
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise PlanningError(f"{project.key} already has a sprint called {name!r}") from None
    return sprint


@dataclass(frozen=True)
class Adoption:
    """What adopting a document's section did: its sprint, how many findings were planned
    into it, and whether the sprint is new (False: the section was adopted before)."""

    sprint: Sprint
    planned: int
    created: bool


def sprint_adopt(*, phase: Phase, start: date, end: date, actor) -> Adoption:
    """A sprint made from a document's sprint or next-steps section ``phase``, holding the
    findings its items name that are still open-like and in no sprint (others stay where
    they are). Idempotent: a section adopted before gives its sprint back, unchanged.

    The sprint is named after the section; when that name is taken, the document's title is
    added, then a number. PlanningError for an end before the start.
    """
    if end < start:
        raise PlanningError(f"sprint {phase.name!r} ends ({end}) before it starts ({start})")
    try:
        with transaction.atomic():
            # The section's row lock makes two adoptions at once take turns.
            locked = Phase.objects.select_for_update().select_related("project").get(pk=phase.pk)
            existing = Sprint.objects.filter(phase=locked).first()
            if existing is not None:
                return Adoption(existing, 0, created=False)
            findings = list(
                Finding.objects.filter(
                    roadmap_items__phase=locked, status__in=OPEN_LIKE, sprint__isnull=True
                )
                .distinct()
                .order_by("number")
            )
            sprint = Sprint.objects.create(
                project=locked.project,
                name=_free_name(locked),
                start=start,
                end=end,
                capacity=len(findings),
                phase=locked,
            )
            Event.objects.create(
                project=locked.project,
                actor=actor,
                action="sprint_adopted",
                after=sprint.name[:200],
                note=f"from {locked.name!r}: {start} to {end}, {len(findings)} findings",
                created_at=timezone.now(),
            )
            for finding in findings:
                finding_plan(finding=finding, actor=actor, sprint=sprint)
    except IntegrityError:
        # Adopted, or its name taken, at the same moment elsewhere.
        existing = Sprint.objects.filter(phase_id=phase.pk).first()
        if existing is None:
            raise PlanningError(
                f"a sprint was created at the same time; adopt {phase.name!r} again"
            ) from None
        return Adoption(existing, 0, created=False)
    return Adoption(sprint, len(findings), created=True)


def _free_name(phase: Phase) -> str:
    """The section's name, else with its document's title, else numbered: one not taken."""
    document = getattr(phase.report, "document", None)
    base = phase.name.strip()[:200] or "Adopted sprint"
    names = [base, f"{base} ({document.title})"[:200] if document and document.title else base]
    taken = set(
        Sprint.objects.filter(project_id=phase.project_id, name__startswith=base).values_list(
            "name", flat=True
        )
    )
    for name in names:
        if name not in taken:
            return name
    number = 2
    while f"{names[-1][:190]} {number}" in taken:
        number += 1
    return f"{names[-1][:190]} {number}"


class _Unset(Enum):
    """The type of ``_UNSET``: an argument left out, as distinct from None (clear it)."""

    UNSET = "unset"


_UNSET: Final = _Unset.UNSET


def finding_plan(
    *,
    finding: Finding,
    actor,
    sprint: Sprint | None | Literal[_Unset.UNSET] = _UNSET,
    phase: Phase | None | Literal[_Unset.UNSET] = _UNSET,
    assignee_username: str | None | Literal[_Unset.UNSET] = _UNSET,
) -> Finding:
    """Set (or clear, with None) a finding's sprint, phase and assignee; one Event per change.

    Arguments left out keep their value. The sprint and phase must belong to the finding's
    project and the assignee must be an active user; PlanningError says which is wrong.
    """
    changes: list[tuple[str, str, str]] = []
    with transaction.atomic():
        locked = (
            # Lock the finding row only: PostgreSQL cannot lock the nullable side of the joins.
            Finding.objects.select_for_update(of=("self",))
            .select_related("sprint", "phase", "assignee", "project")
            .get(pk=finding.pk)
        )
        if sprint is not _UNSET:
            if sprint is not None and sprint.project_id != locked.project_id:
                raise PlanningError(f"sprint {sprint} is not a sprint of {locked.project.key}")
            if locked.sprint_id != (sprint.pk if sprint else None):
                changes.append(("sprint", str(locked.sprint or ""), str(sprint or "")))
                locked.sprint = sprint
        if phase is not _UNSET:
            if phase is not None and phase.project_id != locked.project_id:
                raise PlanningError(f"phase {phase} is not a phase of {locked.project.key}")
            if locked.phase_id != (phase.pk if phase else None):
                changes.append(("phase", str(locked.phase or ""), str(phase or "")))
                locked.phase = phase
        if assignee_username is not _UNSET:
            user = None
            if assignee_username:
                user = (
                    get_user_model()
                    .objects.filter(username=assignee_username, is_active=True)
                    .first()
                )
                if user is None:
                    raise PlanningError(f"there is no active user {assignee_username!r}")
            if locked.assignee_id != (user.pk if user else None):
                before = locked.assignee.get_username() if locked.assignee else ""
                changes.append(("assignee", before, user.get_username() if user else ""))
                locked.assignee = user
        if not changes:
            return locked
        locked.save(update_fields=[name for name, _, _ in changes])
        now = timezone.now()
        for name, before, after in changes:
            Event.objects.create(
                project_id=locked.project_id,
                finding=locked,
                actor=actor,
                action=f"plan_{name}",
                before=before[:200],
                after=after[:200],
                created_at=now,
            )
    return locked
