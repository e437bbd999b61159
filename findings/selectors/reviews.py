"""The review queue's reads: claimed and verified fixes awaiting sign-off, strongest evidence
first, and the reviews already given on one finding."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet

from findings.lifecycle import REVIEWABLE, Status
from findings.lifecycle import Event as LifecycleEvent
from findings.models import (
    ClaimEvidence,
    Event,
    EvidenceLevel,
    Finding,
    FindingLink,
    Project,
    Review,
    Severity,
    StatusCount,
)
from findings.selectors.cards import CARD_FIELDS, cards, fix_evidence


@dataclass
class QueueRow:
    finding: dict
    evidence: str
    claimed_by: list[str]
    decided_by: str = ""
    """For a fix verified by a reviewer's decision rather than evidence: who decided."""

    @property
    def rank(self) -> int:
        return EvidenceLevel.rank(self.evidence)


def review_queue(*, project: Project, severity: str = "", size: int = 30) -> dict:
    """Up to ``size`` fixes awaiting sign-off, strongest evidence first, then worst, newest.

    Checked evidence comes first (it is rare: only documented claims have it), then verified
    findings, then claimed ones, each along the board's column index. Seven queries (eight
    when some are assigned).
    """
    base = Finding.objects.filter(project=project)
    if severity:
        base = base.filter(severity=Severity.from_name(severity))
    # Checked evidence is rare (documented claims only): start from it, not from the findings.
    own = ClaimEvidence.objects.filter(claim__project=project, claim__dropped=False).values_list(
        "claim__finding_id", flat=True
    )
    linked = FindingLink.objects.filter(
        claim__project=project,
        claim__dropped=False,
        claim__verification__isnull=False,
        state=FindingLink.State.CONFIRMED,
    ).values_list("finding_id", flat=True)
    checked = base.filter(pk__in=set(own) | set(linked), status__in=REVIEWABLE)
    rows: dict[int, dict] = {row["pk"]: row for row in checked.values(*CARD_FIELDS)}
    checked_ids = list(rows)
    for status in REVIEWABLE:
        if len(rows) >= size:
            break
        for row in (
            base.filter(status=status)
            .exclude(pk__in=checked_ids)
            .order_by("severity", "-number")
            .values(*CARD_FIELDS)[: size - len(rows)]
        ):
            rows[row["pk"]] = row
    levels = fix_evidence(rows.values())
    authors: dict[int, set[str]] = defaultdict(set)
    for finding_id, actor, uploader in Event.objects.filter(
        finding_id__in=list(rows), action="claim"
    ).values_list("finding_id", "actor__username", "report__uploaded_by__username"):
        authors[finding_id].update(name for name in (actor, uploader) if name)
    queue = [
        QueueRow(row, levels[row["pk"]], sorted(authors.get(row["pk"], ())))
        for row in cards(list(rows.values()), project)
    ]
    _add_deciders(queue)
    queue.sort(
        key=lambda item: (
            -item.rank,
            REVIEWABLE.index(item.finding["status"]),
            item.finding["severity"],
            -item.finding["number"],
        )
    )
    summary = StatusCount.objects.filter(project=project, status__in=REVIEWABLE)
    if severity:
        summary = summary.filter(severity=Severity.from_name(severity))
    waiting = sum(summary.values_list("n", flat=True))
    return {"queue": queue, "waiting": waiting}


def _add_deciders(queue: list[QueueRow]) -> None:
    """Who decided each verified fix that no evidence proves (one query for a queue)."""
    if not queue:
        return
    decided = {
        item.finding["pk"]: item
        for item in queue
        if item.finding["status"] == Status.VERIFIED and not EvidenceLevel.proves_fix(item.evidence)
    }
    queued = [item.finding["pk"] for item in queue]
    for finding_id, name in (
        Event.objects.filter(finding_id__in=queued, action=LifecycleEvent.VERIFY_BY_DECISION)
        .order_by("created_at", "id")
        .values_list("finding_id", "actor__username")
    ):
        if finding_id in decided:
            decided[finding_id].decided_by = name or "a reviewer"


def finding_reviews(*, finding: Finding, limit: int = 100) -> QuerySet[Review]:
    """The reviews given on one finding, newest first, with their reviewer and claim."""
    return finding.reviews.select_related("reviewer", "claim").order_by("-created_at", "-id")[
        :limit
    ]
