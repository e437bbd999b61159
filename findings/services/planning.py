"""Planning made in auditdash: sprints, and which sprint, phase and person a finding is for."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Final, Literal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

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
