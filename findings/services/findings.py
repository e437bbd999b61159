"""Hand-made lifecycle transitions of one finding, validated by the lifecycle table."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from findings import lifecycle
from findings.models import Event, Finding, Report
from findings.services.projects import status_count_move


class TransitionError(ValueError):
    pass


def finding_transition(
    *, finding: Finding, event: str, actor, reason: str = "", report: Report | None = None
) -> Finding:
    """Apply a lifecycle event to one finding by hand, validated by the lifecycle table."""
    if event in lifecycle.REQUIRES_REASON and not reason.strip():
        raise TransitionError(f"'{event}' needs a reason")
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        try:
            after = lifecycle.next_state(locked.status, event)
        except lifecycle.IllegalTransition as error:
            raise TransitionError(str(error)) from error
        before = locked.status
        locked.status = after
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "status_changed_at"])
        status_count_move(
            project_id=locked.project_id, severity=locked.severity, before=before, after=after
        )
        Event.objects.create(
            project_id=locked.project_id,
            finding=locked,
            report=report,
            actor=actor,
            action=str(event),
            before=before,
            after=after,
            note=reason[:2000],
            created_at=timezone.now(),
        )
    return locked
