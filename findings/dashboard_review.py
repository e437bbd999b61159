"""Evidence levels for cards and the review queue: claimed and verified fixes awaiting sign-off.

A finding's evidence level is the strongest level the git evidence checks gave any live claim
about it (``ClaimEvidence``, through the claim's own finding or a confirmed link);
``unverified`` when none was checked. One query for any number of findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from findings.lifecycle import Status
from findings.models import (
    ClaimEvidence,
    Event,
    EvidenceLevel,
    Finding,
    FindingLink,
    Project,
    Severity,
    StatusCount,
)

REVIEWABLE = (Status.VERIFIED, Status.CLAIMED)
"""What the queue holds, strongest status first (a scan's silence beats a claim)."""


def evidence_levels(finding_ids: Iterable[int]) -> dict[int, str]:
    """The strongest checked evidence level of each finding's live claims (absent: none).

    Two queries, whatever the number of findings.
    """
    ids = list(finding_ids)
    if not ids:
        return {}
    levels: dict[int, str] = {}
    own = ClaimEvidence.objects.filter(claim__finding_id__in=ids, claim__dropped=False)
    linked = FindingLink.objects.filter(
        finding_id__in=ids,
        state=FindingLink.State.CONFIRMED,
        claim__dropped=False,
        claim__verification__isnull=False,
    )
    # Two plain lookups: one OR across the claim and link joins would scan both tables.
    pairs = list(own.values_list("claim__finding_id", "level")) + list(
        linked.values_list("finding_id", "claim__verification__level")
    )
    for finding_id, level in pairs:
        if EvidenceLevel.rank(level) > EvidenceLevel.rank(
            levels.get(finding_id, EvidenceLevel.UNVERIFIED)
        ):
            levels[finding_id] = level
    return levels


@dataclass
class QueueRow:
    finding: dict
    evidence: str
    claimed_by: list[str]

    @property
    def rank(self) -> int:
        return EvidenceLevel.rank(self.evidence)


def review_queue(*, project: Project, severity: str = "", size: int = 30) -> dict:
    """Up to ``size`` fixes awaiting sign-off, strongest evidence first, then worst, newest.

    Checked evidence comes first (it is rare: only documented claims have it), then verified
    findings, then claimed ones, each along the board's column index. Seven queries.
    """
    fields = (
        "pk",
        "number",
        "title",
        "severity",
        "status",
        "path",
        "start_line",
        "status_changed_at",
    )
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
    rows: dict[int, dict] = {
        row["pk"]: row
        for row in base.filter(pk__in=set(own) | set(linked), status__in=REVIEWABLE).values(*fields)
    }
    checked_ids = list(rows)
    for status in REVIEWABLE:
        if len(rows) >= size:
            break
        for row in (
            base.filter(status=status)
            .exclude(pk__in=checked_ids)
            .order_by("severity", "-number")
            .values(*fields)[: size - len(rows)]
        ):
            rows[row["pk"]] = row
    levels = evidence_levels(rows)
    authors: dict[int, set[str]] = defaultdict(set)
    for finding_id, actor, uploader in Event.objects.filter(
        finding_id__in=list(rows), action="claim"
    ).values_list("finding_id", "actor__username", "report__uploaded_by__username"):
        authors[finding_id].update(name for name in (actor, uploader) if name)
    queue = []
    for pk, row in rows.items():
        row["key"] = f"{project.key}-{row['number']}"
        row["severity_name"] = Severity(row["severity"]).label
        queue.append(
            QueueRow(row, levels.get(pk, EvidenceLevel.UNVERIFIED), sorted(authors.get(pk, ())))
        )
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
