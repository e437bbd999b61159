"""Sign-off with separation of duties: who claimed a fix cannot approve it."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from findings.models import Claim, ClaimEvidence, Commit, Event, Finding, Report, Review
from findings.services import (
    ReviewError,
    SeparationOfDutiesError,
    finding_transition,
    review_record,
)
from tests.conftest import make_document, make_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed_by_remy(acme, reviewer):
    """A finding that the reviewer ``remy`` claimed fixed himself."""
    finding = make_finding(acme)
    return finding_transition(finding=finding, event="claim", actor=reviewer)


def test_the_person_who_claimed_a_fix_cannot_approve_it(claimed_by_remy, reviewer):
    with pytest.raises(SeparationOfDutiesError, match="someone else must approve"):
        review_record(finding=claimed_by_remy, reviewer=reviewer, verdict="approve", comment="")
    claimed_by_remy.refresh_from_db()
    assert claimed_by_remy.status == "claimed"
    assert not Review.objects.exists()
    assert not Event.objects.filter(action="sign_off").exists()


def test_another_reviewer_approves_and_who_when_evidence_and_comment_are_kept(
    claimed_by_remy, second_reviewer
):
    before = timezone.now()
    review = review_record(
        finding=claimed_by_remy,
        reviewer=second_reviewer,
        verdict="approve",
        comment="Diff removes eval; tests cover it.",
    )
    claimed_by_remy.refresh_from_db()
    assert claimed_by_remy.status == "signed_off"
    assert review.reviewer == second_reviewer and review.created_at >= before
    assert review.evidence_level == "unverified"
    assert review.comment == "Diff removes eval; tests cover it."
    assert (review.status_before, review.status_after) == ("claimed", "signed_off")
    event = Event.objects.get(finding=claimed_by_remy, action="sign_off")
    assert event.actor == second_reviewer and event.note == review.comment


def test_the_uploader_of_the_claiming_document_cannot_approve_either(acme, reviewer, manager):
    document = make_document(acme, uploader=reviewer)
    finding = make_finding(acme)
    # A document import records the claim with the document as its report and no actor.
    finding_transition(finding=finding, event="claim", actor=None, report=document)
    with pytest.raises(SeparationOfDutiesError):
        review_record(finding=finding, reviewer=reviewer, verdict="approve")
    review_record(finding=finding, reviewer=manager, verdict="approve")
    finding.refresh_from_db()
    assert finding.status == "signed_off"


def test_a_rejected_fix_goes_back_to_open_with_the_reason(claimed_by_remy, second_reviewer):
    review = review_record(
        finding=claimed_by_remy,
        reviewer=second_reviewer,
        verdict="reject",
        comment="The eval is still reachable from /calc.",
    )
    claimed_by_remy.refresh_from_db()
    assert claimed_by_remy.status == "open"
    assert claimed_by_remy.status_reason == "The eval is still reachable from /calc."
    assert review.verdict == "reject"
    assert Event.objects.filter(finding=claimed_by_remy, action="reject").exists()


def test_needs_work_keeps_the_status_and_logs_the_comment(claimed_by_remy, reviewer):
    # The claimer may ask for more work on their own fix: only approving is barred.
    review_record(
        finding=claimed_by_remy, reviewer=reviewer, verdict="needs_work", comment="Add a test."
    )
    claimed_by_remy.refresh_from_db()
    assert claimed_by_remy.status == "claimed"
    event = Event.objects.get(finding=claimed_by_remy, action="needs_work")
    assert event.note == "Add a test." and event.actor == reviewer


def test_reject_and_needs_work_need_a_comment(claimed_by_remy, second_reviewer):
    for verdict in ("reject", "needs_work"):
        with pytest.raises(ReviewError, match="needs a comment"):
            review_record(
                finding=claimed_by_remy, reviewer=second_reviewer, verdict=verdict, comment=" "
            )


def test_a_claim_from_an_earlier_failed_fix_does_not_bar_the_reviewer(
    claimed_by_remy, second_reviewer, reviewer, developer
):
    review_record(
        finding=claimed_by_remy, reviewer=second_reviewer, verdict="reject", comment="Still there."
    )
    finding_transition(finding=claimed_by_remy, event="claim", actor=developer)
    review_record(finding=claimed_by_remy, reviewer=reviewer, verdict="approve", comment="Now ok.")
    claimed_by_remy.refresh_from_db()
    assert claimed_by_remy.status == "signed_off"


def test_a_fix_a_scan_confirmed_records_that_evidence_level(acme, reviewer):
    finding = make_finding(acme, status="verified")
    scan = Report.objects.create(project=acme, sha256="c" * 64, filename="later.json")
    Finding.objects.filter(pk=finding.pk).update(fixed_in_report=scan)
    review = review_record(finding=finding, reviewer=reviewer, verdict="approve")
    assert review.evidence_level == "scan-confirmed"


def _document_claim(acme, finding, *, commits):
    document = make_document(acme)
    return Claim.objects.create(
        project=acme,
        report=document,
        first_report=document,
        finding=finding,
        document_identity="handoff",
        claim_key="eval removed",
        key="F1",
        title="Eval removed",
        status=Claim.Status.FIXED,
        commits=commits,
    )


def test_the_claims_checked_evidence_level_is_kept_with_the_approval(
    claimed_by_remy, second_reviewer, acme
):
    claim = _document_claim(acme, claimed_by_remy, commits=[])
    ClaimEvidence.objects.create(
        claim=claim, level="code-checked", run=uuid.uuid4(), checked_at=timezone.now()
    )
    review = review_record(finding=claimed_by_remy, reviewer=second_reviewer, verdict="approve")
    assert (review.evidence_level, review.claim) == ("code-checked", claim)


def test_the_author_of_the_fixing_commit_cannot_approve_it(acme, developer, second_reviewer):
    second_reviewer.email = "Rafa@Example.com"
    second_reviewer.save()
    finding = finding_transition(finding=make_finding(acme), event="claim", actor=developer)
    _document_claim(acme, finding, commits=["4f2a9c1"])
    Commit.objects.create(
        project=acme,
        sha="4f2a9c1" + "0" * 33,
        short_sha="4f2a9c1",
        author_email="rafa@example.com",
        authored_at=timezone.now(),
        committed_at=timezone.now(),
    )
    with pytest.raises(SeparationOfDutiesError, match="you authored the commit"):
        review_record(finding=finding, reviewer=second_reviewer, verdict="approve")
    finding.refresh_from_db()
    assert finding.status == "claimed"


def test_only_a_claimed_or_verified_fix_can_be_reviewed(acme, reviewer):
    finding = make_finding(acme)
    with pytest.raises(ReviewError, match="only a claimed or verified fix"):
        review_record(finding=finding, reviewer=reviewer, verdict="approve")


def test_a_developer_cannot_review_at_all(claimed_by_remy, developer):
    with pytest.raises(PermissionDenied):
        review_record(finding=claimed_by_remy, reviewer=developer, verdict="approve")


def test_the_page_tells_a_claimer_why_their_approval_was_refused(
    claimed_by_remy, reviewer, client_for
):
    client = client_for(reviewer)
    url = f"/p/ACME/findings/{claimed_by_remy.number}/"
    assert "You claimed this fix" in client.get(url).content.decode()
    response = client.post(f"{url}review/", {"verdict": "approve"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in page
    assert "someone else must approve" in page
    claimed_by_remy.refresh_from_db()
    assert claimed_by_remy.status == "claimed"


def test_an_approval_through_the_page_is_listed_with_its_reviewer(
    claimed_by_remy, second_reviewer, client_for
):
    client = client_for(second_reviewer)
    url = f"/p/ACME/findings/{claimed_by_remy.number}/"
    client.post(f"{url}review/", {"verdict": "approve", "comment": "Looks right."})
    page = client.get(url).content.decode()
    assert "Approve</strong> by rafa" in page and "Looks right." in page
    assert "evidence unverified" in page
