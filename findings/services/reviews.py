"""Reviews: a reviewer's sign-off of a fix, with separation of duties.

A verdict is only worth something if the person who made or claimed the fix cannot give it,
so :func:`review_record` refuses an approval from anyone who authored the current fix. The
authors of the current fix are everyone who claimed it since the finding was last open (the
person on each ``claim`` Event and the uploader of the document that carried the claim), and
the users whose e-mail address authored a commit the current claim cites as the fix, when
that commit has been read from the linked repository.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from findings import access, lifecycle
from findings.lifecycle import REVIEWABLE, Status
from findings.models import (
    Claim,
    ClaimEvidence,
    Commit,
    Event,
    EvidenceLevel,
    Finding,
    FindingLink,
    Review,
    Role,
)
from findings.services.findings import finding_evidence, finding_transition


class ReviewError(ValueError):
    """A review that cannot be recorded; the message says why, for the reviewer to read."""


class SeparationOfDutiesError(ReviewError):
    """The reviewer claimed or authored the fix they were about to approve."""


_VERDICT_EVENTS = {
    Review.Verdict.APPROVE: lifecycle.Event.SIGN_OFF,
    Review.Verdict.REJECT: lifecycle.Event.REJECT,
}

# Status changes after which earlier claims belong to an earlier, failed fix.
_REOPENED = frozenset({Status.OPEN, Status.REGRESSED})


def fix_authors(*, finding: Finding, action: str = lifecycle.Event.CLAIM) -> set[int]:
    """Ids of the users who claimed the finding's current fix (since it was last open); with
    ``action``, who applied that event to it instead (and uploaded the report that did)."""
    events = list(
        finding.events.select_related("report")
        .order_by("created_at", "id")
        .values("action", "before", "after", "actor_id", "report__uploaded_by_id")
    )
    authors: set[int] = set()
    for event in events:
        if event["after"] in _REOPENED and event["before"] not in _REOPENED:
            authors.clear()
        if event["action"] == action:
            authors.update(
                user_id
                for user_id in (event["actor_id"], event["report__uploaded_by_id"])
                if user_id is not None
            )
    return authors


def commit_authors(*, finding: Finding, claim: Claim | None) -> set[int]:
    """Ids of active users whose e-mail authored a commit that ``claim`` cites as the fix."""
    if claim is None:
        return set()
    shas = {str(sha) for sha in claim.commits or [] if sha}
    verification = ClaimEvidence.objects.filter(claim=claim).first()
    if verification is not None and verification.commit:
        shas.add(verification.commit)
    # Documents cite short hashes; a prefix of at least 7 is how git itself abbreviates.
    prefixes = [sha.lower() for sha in shas if len(sha) >= 7]
    if not prefixes:
        return set()
    match = Q()
    for prefix in prefixes:
        match |= Q(sha__startswith=prefix)
    emails = {
        email.lower()
        for email in Commit.objects.filter(match, project_id=finding.project_id).values_list(
            "author_email", flat=True
        )
        if email
    }
    if not emails:
        return set()
    by_email = Q()
    for email in emails:
        by_email |= Q(email__iexact=email)
    return set(get_user_model().objects.filter(by_email).values_list("pk", flat=True))


def evidence_level(*, finding: Finding, claim: Claim | None) -> str:
    """What backs the fix right now: the current claim's verified evidence level when it has
    been checked, ``scan-confirmed`` when a scan stopped reporting the finding, else
    ``unverified``."""
    if claim is not None:
        verification = ClaimEvidence.objects.filter(claim=claim).first()
        if verification is not None:
            return verification.level
    if finding.status == Status.VERIFIED and finding.fixed_in_report_id:
        return EvidenceLevel.SCAN_CONFIRMED
    return EvidenceLevel.UNVERIFIED


def review_record(*, finding: Finding, reviewer, verdict: str, comment: str = "") -> Review:
    """Record a reviewer's verdict on a finding's fix and apply it.

    ``approve`` moves a claimed or verified finding to signed_off (a ``sign_off`` Event),
    ``reject`` sends it back to open (a ``reject`` Event), ``needs_work`` leaves it where it
    is (a ``needs_work`` Event); each also writes a Review row that is never changed.

    Raises PermissionDenied when the reviewer's role in the project is below reviewer,
    SeparationOfDutiesError when they claimed the fix they approve, and ReviewError when the
    verdict is unknown, the finding has no fix to review, or a reject / needs-work verdict
    comes without a comment.
    """
    try:
        verdict = Review.Verdict(verdict)
    except ValueError:
        choices = ", ".join(Review.Verdict.values)
        raise ReviewError(f"unknown verdict {verdict!r}: use one of {choices}") from None
    comment = comment.strip()
    if verdict != Review.Verdict.APPROVE and not comment:
        raise ReviewError(f"a '{verdict.label.lower()}' verdict needs a comment saying why")
    access.require(reviewer, finding.project, Role.REVIEWER)
    with transaction.atomic():
        locked = Finding.objects.select_for_update().select_related("project").get(pk=finding.pk)
        if locked.status not in REVIEWABLE:
            raise ReviewError(
                f"{locked.key} is {Status(locked.status).label.lower()}: only a claimed or "
                "verified fix can be reviewed"
            )
        claim = _current_claim(locked)
        if verdict == Review.Verdict.APPROVE:
            if reviewer.pk in fix_authors(finding=locked):
                raise SeparationOfDutiesError(
                    f"you claimed the fix of {locked.key}, so someone else must approve it"
                )
            if reviewer.pk in commit_authors(finding=locked, claim=claim):
                raise SeparationOfDutiesError(
                    f"you authored the commit that fixes {locked.key}, so someone else must "
                    "approve it"
                )
            if reviewer.pk in fix_authors(
                finding=locked, action=lifecycle.Event.VERIFY_BY_DECISION
            ):
                raise SeparationOfDutiesError(
                    f"you verified {locked.key} by decision, without evidence, so someone else "
                    "must approve it"
                )
        before = locked.status
        level = evidence_level(finding=locked, claim=claim)
        event = _VERDICT_EVENTS.get(verdict)
        if event is not None:
            locked = finding_transition(finding=locked, event=event, actor=reviewer, reason=comment)
        else:
            Event.objects.create(
                project_id=locked.project_id,
                finding=locked,
                actor=reviewer,
                action="needs_work",
                before=before,
                after=before,
                note=comment[:2000],
                created_at=timezone.now(),
            )
        return Review.objects.create(
            project_id=locked.project_id,
            finding=locked,
            claim=claim,
            reviewer=reviewer,
            verdict=verdict,
            comment=comment,
            status_before=before,
            status_after=locked.status,
            evidence_level=level,
            created_at=timezone.now(),
        )


def decision_check(*, finding: Finding, reviewer) -> None:
    """Refuse a reviewer's decision that ``finding`` is verified, with the reason, unless it
    may be made: only a claimed fix that no evidence proves, and only by someone who neither
    claimed it nor authored the commit the claim cites.

    Raises ReviewError, or SeparationOfDutiesError when the reviewer is an author of the fix.
    """
    if finding.status != Status.CLAIMED:
        label = Status(finding.status).label.lower()
        raise ReviewError(
            f"{finding.key} is {label}: only a claimed fix can be verified by decision"
        )
    if EvidenceLevel.proves_fix(finding_evidence(finding)):
        raise ReviewError(f"{finding.key}: evidence supports the fix; mark it verified by evidence")
    if reviewer.pk in fix_authors(finding=finding):
        raise SeparationOfDutiesError(
            f"you claimed the fix of {finding.key}, so someone else must verify it"
        )
    if reviewer.pk in commit_authors(finding=finding, claim=_current_claim(finding)):
        raise SeparationOfDutiesError(
            f"you authored the commit that fixes {finding.key}, so someone else must verify it"
        )


def may_decide(*, finding: Finding, reviewer) -> bool:
    """Whether ``reviewer`` may verify ``finding`` by decision (role aside): the question the
    finding page asks before offering the choice."""
    try:
        decision_check(finding=finding, reviewer=reviewer)
    except ReviewError:
        return False
    return True


def review_verify(*, finding: Finding, reviewer, reason: str) -> Finding:
    """A reviewer's decision that a claimed fix is verified although no evidence proves it.

    Recorded as the lifecycle event ``verify_by_decision`` (never ``verify``, which means
    evidence), with the reviewer as actor and their reason as its note. Raises
    PermissionDenied below the reviewer role, ReviewError without a reason, and the errors
    of :func:`decision_check`.
    """
    reason = reason.strip()
    if not reason:
        raise ReviewError("verifying without evidence needs a reason saying why the fix holds")
    access.require(reviewer, finding.project, Role.REVIEWER)
    with transaction.atomic():
        locked = Finding.objects.select_for_update().select_related("project").get(pk=finding.pk)
        decision_check(finding=locked, reviewer=reviewer)
        return finding_transition(
            finding=locked,
            event=lifecycle.Event.VERIFY_BY_DECISION,
            actor=reviewer,
            reason=reason,
        )


def _current_claim(finding: Finding) -> Claim | None:
    """The newest live claim that says the finding is fixed, if a document claimed it."""
    linked = Q(links__finding=finding, links__state=FindingLink.State.CONFIRMED)
    return (
        Claim.objects.filter(Q(finding=finding) | linked)
        .filter(dropped=False, status__in=[Claim.Status.FIXED, Claim.Status.PARTIALLY_FIXED])
        .order_by("-updated_at", "-id")
        .first()
    )
