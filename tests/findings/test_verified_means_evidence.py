"""Verified means evidence: "verified by evidence" needs a passing code check or a re-scan;
without one, verifying is a reviewer's decision (not the claimer's, not the commit author's),
with a reason, recorded as such. Through the service, the finding page, the board, the
review queue and the API."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from findings.models import Claim, ClaimEvidence, Commit, Event, Finding, Report
from findings.services import (
    ReviewError,
    SeparationOfDutiesError,
    TransitionError,
    finding_transition,
    review_record,
    review_verify,
)
from tests.conftest import make_document, make_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(acme, developer):
    """A fix the developer claimed by hand: no check, no scan supports it."""
    return finding_transition(finding=make_finding(acme), event="claim", actor=developer)


def document_claim(acme, finding, *, commits=(), level: str | None = None) -> Claim:
    document = make_document(acme)
    claim = Claim.objects.create(
        project=acme,
        report=document,
        first_report=document,
        finding=finding,
        document_identity="handoff",
        claim_key="eval removed",
        key="F1",
        title="Eval removed",
        status=Claim.Status.FIXED,
        commits=list(commits),
    )
    if level:
        ClaimEvidence.objects.create(
            claim=claim, level=level, run=uuid.uuid4(), checked_at=timezone.now()
        )
    return claim


def status_of(finding: Finding) -> str:
    finding.refresh_from_db()
    return finding.status


# --- the service ------------------------------------------------------------------------------


def test_verified_by_evidence_is_refused_without_a_check_or_a_scan(claimed, reviewer):
    with pytest.raises(TransitionError, match=r"no evidence supports 'verified' \(evidence: unv"):
        finding_transition(finding=claimed, event="verify", actor=reviewer)
    assert status_of(claimed) == "claimed"
    assert not Event.objects.filter(finding=claimed, action="verify").exists()


def test_a_claim_that_is_only_commit_linked_does_not_verify_either(acme, claimed, reviewer):
    document_claim(acme, claimed, level="commit-linked")
    with pytest.raises(TransitionError, match="evidence: commit-linked"):
        finding_transition(finding=claimed, event="verify", actor=reviewer)


def test_a_passing_code_check_lets_the_fix_be_verified_by_evidence(acme, claimed, reviewer):
    document_claim(acme, claimed, level="code-checked")
    finding_transition(finding=claimed, event="verify", actor=reviewer)
    assert status_of(claimed) == "verified"


def test_a_re_scan_is_evidence_too(acme, claimed, reviewer):
    scan = Report.objects.create(project=acme, sha256="d" * 64, filename="later.json")
    Finding.objects.filter(pk=claimed.pk).update(fixed_in_report=scan)
    finding_transition(finding=claimed, event="verify", actor=reviewer)
    assert status_of(claimed) == "verified"


def test_a_reviewer_decides_with_a_reason_and_the_log_says_it_was_a_decision(claimed, reviewer):
    review_verify(finding=claimed, reviewer=reviewer, reason="Read the diff: eval is gone.")
    assert status_of(claimed) == "verified"
    event = Event.objects.get(finding=claimed, after="verified")
    assert event.action == "verify_by_decision" and event.actor == reviewer
    assert event.note == "Read the diff: eval is gone."


def test_who_verified_by_decision_cannot_also_sign_the_fix_off(claimed, reviewer, second_reviewer):
    review_verify(finding=claimed, reviewer=reviewer, reason="Read the diff")
    with pytest.raises(SeparationOfDutiesError, match="you verified ACME-1 by decision"):
        review_record(finding=claimed, reviewer=reviewer, verdict="approve")
    review_record(finding=claimed, reviewer=second_reviewer, verdict="approve")
    assert status_of(claimed) == "signed_off"


def test_a_decision_needs_a_reason(claimed, reviewer):
    with pytest.raises(ReviewError, match="needs a reason"):
        review_verify(finding=claimed, reviewer=reviewer, reason="  ")
    assert status_of(claimed) == "claimed"


def test_the_claimer_cannot_decide_their_own_fix(acme, reviewer):
    mine = finding_transition(finding=make_finding(acme), event="claim", actor=reviewer)
    with pytest.raises(SeparationOfDutiesError, match="you claimed the fix"):
        review_verify(finding=mine, reviewer=reviewer, reason="I am sure")
    assert status_of(mine) == "claimed"


def test_the_uploader_of_the_claiming_document_cannot_decide_either(acme, reviewer):
    document = make_document(acme, uploader=reviewer, text="# Fixes\n")
    finding = make_finding(acme)
    finding_transition(finding=finding, event="claim", actor=None, report=document)
    with pytest.raises(SeparationOfDutiesError, match="you claimed the fix"):
        review_verify(finding=finding, reviewer=reviewer, reason="the document says so")


def test_the_author_of_the_fixing_commit_cannot_decide(acme, claimed, second_reviewer):
    document_claim(acme, claimed, commits=["4f2a9c1"])
    Commit.objects.create(
        project=acme,
        sha="4f2a9c1" + "0" * 33,
        short_sha="4f2a9c1",
        author_email="Rafa@Example.com",
        authored_at=timezone.now(),
        committed_at=timezone.now(),
    )
    with pytest.raises(SeparationOfDutiesError, match="you authored the commit"):
        review_verify(finding=claimed, reviewer=second_reviewer, reason="looks fine")
    assert status_of(claimed) == "claimed"


def test_a_developer_cannot_decide(claimed, developer):
    with pytest.raises(PermissionDenied):
        review_verify(finding=claimed, reviewer=developer, reason="trust me")


def test_only_a_claimed_fix_is_decided_and_evidence_is_not_overruled(acme, claimed, reviewer):
    with pytest.raises(ReviewError, match="only a claimed fix"):
        review_verify(finding=make_finding(acme), reviewer=reviewer, reason="why not")
    document_claim(acme, claimed, level="code-checked")
    with pytest.raises(ReviewError, match="evidence supports the fix"):
        review_verify(finding=claimed, reviewer=reviewer, reason="why not")


# --- the finding page -------------------------------------------------------------------------


def test_the_page_offers_a_decision_not_evidence_and_chooses_nothing(claimed, reviewer, client_for):
    page = client_for(reviewer).get(f"/p/ACME/findings/{claimed.number}/").content.decode()
    form = page[page.index('class="transition-form"') :].split("</form>", 1)[0]
    options = form[form.index("<select") : form.index("</select>")]
    assert options.index('<option value="">Choose an action…</option>') < options.index(
        'value="verify_by_decision"'
    )
    assert 'value="verify"' not in options and "selected" not in options
    assert "verifying it is your decision as a reviewer" in form


def test_the_page_offers_verified_by_evidence_when_a_check_passed(
    acme, claimed, reviewer, client_for
):
    document_claim(acme, claimed, level="code-checked")
    page = client_for(reviewer).get(f"/p/ACME/findings/{claimed.number}/").content.decode()
    form = page[page.index('class="transition-form"') :].split("</form>", 1)[0]
    assert 'value="verify"' in form and 'value="verify_by_decision"' not in form


def test_the_claimer_is_told_why_they_cannot_verify(acme, reviewer, client_for):
    mine = finding_transition(finding=make_finding(acme), event="claim", actor=reviewer)
    client = client_for(reviewer)
    page = client.get(f"/p/ACME/findings/{mine.number}/").content.decode()
    assert 'value="verify_by_decision"' not in page
    assert "you claimed the fix of ACME-1, so someone else must verify it" in page
    response = client.post(
        f"/p/ACME/findings/{mine.number}/transition/",
        {"event": "verify_by_decision", "reason": "sure"},
        HTTP_HX_REQUEST="true",
    )
    assert 'role="alert"' in response.content.decode()
    assert "someone else must verify it" in response.content.decode()
    assert status_of(mine) == "claimed"


def test_posting_verified_by_evidence_without_evidence_says_why(claimed, reviewer, client_for):
    response = client_for(reviewer).post(
        f"/p/ACME/findings/{claimed.number}/transition/",
        {"event": "verify", "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert 'role="alert"' in page and "no evidence supports &#x27;verified&#x27;" in page
    assert status_of(claimed) == "claimed"


def test_a_decision_without_a_reason_is_refused_on_the_page(claimed, reviewer, client_for):
    response = client_for(reviewer).post(
        f"/p/ACME/findings/{claimed.number}/transition/",
        {"event": "verify_by_decision", "reason": " "},
        HTTP_HX_REQUEST="true",
    )
    assert "needs a reason" in response.content.decode()
    assert status_of(claimed) == "claimed"


def test_no_action_chosen_is_refused_with_a_message(claimed, reviewer, client_for):
    response = client_for(reviewer).post(
        f"/p/ACME/findings/{claimed.number}/transition/", {"event": ""}, HTTP_HX_REQUEST="true"
    )
    assert "choose an action first." in response.content.decode()
    assert status_of(claimed) == "claimed"


def test_a_decision_on_the_page_updates_the_header_badge_out_of_band(claimed, reviewer, client_for):
    response = client_for(reviewer).post(
        f"/p/ACME/findings/{claimed.number}/transition/",
        {"event": "verify_by_decision", "reason": "Reviewed the diff"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert '<dd id="finding-status" hx-swap-oob="true">' in page
    badge = page[page.index('id="finding-status"') :].split("</dd>", 1)[0]
    assert "Verified" in badge and "Reviewed the diff" in badge
    assert status_of(claimed) == "verified"
    detail = client_for(reviewer).get(f"/p/ACME/findings/{claimed.number}/").content.decode()
    assert "Verified by a reviewer&#x27;s decision" in detail  # the timeline says how
    assert "hx-swap-oob" not in detail  # the full page has one badge, swapped in place


# --- the board, the review queue and the API --------------------------------------------------


def test_the_board_offers_mark_verified_only_where_evidence_proves_it(
    acme, claimed, reviewer, client_for
):
    proven = finding_transition(finding=make_finding(acme), event="claim", actor=None)
    document_claim(acme, proven, level="code-checked")
    page = client_for(reviewer).get("/p/ACME/").content.decode()
    card = page[page.index(f'id="card-{claimed.number}"') :].split("</li>", 1)[0]
    assert "Mark verified" not in card and "Claim fixed" not in card
    card = page[page.index(f'id="card-{proven.number}"') :].split("</li>", 1)[0]
    assert "Mark verified" in card


def test_a_board_move_to_verified_without_evidence_is_refused(claimed, reviewer, client_for):
    response = client_for(reviewer).post(
        f"/p/ACME/findings/{claimed.number}/move/", {"event": "verify"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert 'role="alert"' in page and "no evidence supports" in page
    assert status_of(claimed) == "claimed"


def test_the_queue_says_a_verification_was_a_reviewers_decision(claimed, reviewer, client_for):
    review_verify(finding=claimed, reviewer=reviewer, reason="Read the diff")
    page = client_for(reviewer).get("/p/ACME/reviews/").content.decode()
    item = page[page.index(f'id="review-{claimed.number}"') :].split("</li>", 1)[0]
    assert "verified by remy's decision" in item and "evidence: unverified" in item


def test_the_queue_shows_a_re_scan_as_evidence(acme, reviewer, client_for):
    finding = make_finding(acme, status="verified")
    scan = Report.objects.create(project=acme, sha256="e" * 64, filename="later.json")
    Finding.objects.filter(pk=finding.pk).update(fixed_in_report=scan)
    page = client_for(reviewer).get("/p/ACME/reviews/").content.decode()
    item = page[page.index(f'id="review-{finding.number}"') :].split("</li>", 1)[0]
    assert "evidence: scan-confirmed" in item and "decision" not in item


def test_the_api_refuses_verified_without_evidence_and_decisions(claimed, reviewer, client_for):
    client = client_for(reviewer)
    url = f"/api/v1/projects/ACME/findings/{claimed.number}/transition"
    response = client.post(url, {"event": "verify"}, content_type="application/json")
    assert response.status_code == 409 and "no evidence supports" in response.json()["detail"]
    response = client.post(
        url, {"event": "verify_by_decision", "reason": "x"}, content_type="application/json"
    )
    assert response.status_code == 400 and "is a review" in response.json()["detail"]
    assert status_of(claimed) == "claimed"
    detail = client.get(f"/api/v1/projects/ACME/findings/{claimed.number}").json()
    assert "verify" not in detail["allowed_events"]
