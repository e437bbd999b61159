"""Hand-made lifecycle transitions of one finding, validated by the lifecycle table."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from findings import lifecycle
from findings.models import Event, EvidenceLevel, Finding, Report
from findings.selectors.cards import fix_evidence
from findings.services.projects import status_count_move


class TransitionError(ValueError):
    pass


def finding_transition(
    *, finding: Finding, event: str, actor, reason: str = "", report: Report | None = None
) -> Finding:
    """Apply a lifecycle event to one finding by hand, validated by the lifecycle table.

    ``verify`` (verified by evidence) is refused unless a passing code check or a re-scan
    supports it (:func:`verify_refusal`); without evidence, verifying is a reviewer's
    decision (``services.review_verify``).
    """
    if event in lifecycle.REQUIRES_REASON and not reason.strip():
        raise TransitionError(f"'{event}' needs a reason")
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        try:
            after = lifecycle.next_state(locked.status, event)
        except lifecycle.IllegalTransition as error:
            raise TransitionError(str(error)) from error
        if event == lifecycle.Event.VERIFY and (refusal := verify_refusal(locked)):
            raise TransitionError(refusal)
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


def finding_evidence(finding: Finding) -> str:
    """The finding's evidence level, as every page shows it (``selectors.cards.fix_evidence``)."""
    row = {"pk": finding.pk, "fixed_in_report_id": finding.fixed_in_report_id}
    return fix_evidence([row])[finding.pk]


def verify_refusal(finding: Finding) -> str:
    """Why ``finding`` may not be marked verified by evidence, or "" when evidence supports it."""
    level = finding_evidence(finding)
    if EvidenceLevel.proves_fix(level):
        return ""
    return (
        f"{finding.key}: no evidence supports 'verified' (evidence: "
        f"{level}); it needs a passing code check or a re-scan that no longer reports it. "
        "Without one, a reviewer who neither claimed nor committed the fix may verify it by "
        "decision, with a reason."
    )
