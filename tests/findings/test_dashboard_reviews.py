"""The review queue: fixes awaiting sign-off, strongest evidence first, verdicts inline."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from findings.models import ClaimEvidence, Finding, Review, Severity
from findings.services import finding_transition
from tests.findings.test_dashboard_board import make_findings
from tests.findings.test_dashboard_health import claim

pytestmark = pytest.mark.django_db


def checked(project, finding, level: str) -> None:
    """A documented claim about ``finding`` whose evidence checks reached ``level``."""
    ClaimEvidence.objects.create(
        claim=claim(project, finding, f"Fix {finding.number}"),
        level=level,
        run=uuid.uuid4(),
        checked_at=timezone.now(),
    )


def test_the_queue_puts_checked_evidence_first_then_verified_then_claims(
    client_for, acme, reviewer
):
    claimed_only, claimed_checked = make_findings(acme, 2, status="claimed")  # ACME-1, 2
    (verified,) = make_findings(acme, 1, status="verified", severity=Severity.LOW)  # ACME-3
    make_findings(acme, 1, status="open")  # ACME-4 is not awaiting review
    checked(acme, claimed_checked, "code-checked")
    page = client_for(reviewer).get("/p/ACME/reviews/").content.decode()
    order = [page.index(f'id="review-{n}"') for n in (2, 3, 1)]
    assert order == sorted(order) and 'id="review-4"' not in page
    assert "3 fixes awaiting sign-off" in page
    assert "evidence: code-checked" in page
    board = client_for(reviewer).get("/p/ACME/").content.decode()
    card = board[board.index('id="card-2"') :].split("</li>", 1)[0]
    assert "code-checked" in card


def test_a_reviewer_approves_and_rejects_from_the_queue(client_for, acme, reviewer):
    make_findings(acme, 2, status="claimed")
    client = client_for(reviewer)
    page = client.post(
        "/p/ACME/reviews/1/", {"verdict": "approve"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "ACME-1: approve recorded. Now signed off." in page
    page = client.post(
        "/p/ACME/reviews/2/", {"verdict": "reject"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "needs a comment saying why" in page
    client.post("/p/ACME/reviews/2/", {"verdict": "reject", "comment": "still injectable"})
    assert Finding.objects.get(number=1).status == "signed_off"
    assert Finding.objects.get(number=2).status == "open"
    assert Review.objects.get(finding__number=2).comment == "still injectable"
    assert "Nothing awaits review." in client.get("/p/ACME/reviews/").content.decode()


def test_the_author_of_a_fix_is_not_offered_approve_and_cannot_approve(
    client_for, acme, django_user_model
):
    from findings.models import Role
    from findings.services import membership_set

    author = django_user_model.objects.create_user("rory", password="rory-pass-123")
    membership_set(project=acme, user=author, role=Role.REVIEWER)
    (finding,) = make_findings(acme, 1)
    finding_transition(finding=finding, event="claim", actor=author)
    client = client_for(author)
    page = client.get("/p/ACME/reviews/").content.decode()
    assert "claimed by rory" in page and "You claimed this fix" in page
    assert 'value="approve"' not in page
    page = client.post(
        "/p/ACME/reviews/1/", {"verdict": "approve"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "someone else must approve it" in page
    assert Finding.objects.get(number=1).status == "claimed"


def test_viewers_see_the_queue_but_cannot_decide(client_for, acme, viewer, developer):
    make_findings(acme, 1, status="claimed")
    page = client_for(viewer).get("/p/ACME/reviews/").content.decode()
    assert 'id="review-1"' in page and 'name="verdict"' not in page
    assert (
        client_for(developer).post("/p/ACME/reviews/1/", {"verdict": "approve"}).status_code == 403
    )


def test_the_queue_issues_a_fixed_number_of_queries(
    client_for, acme, reviewer, django_assert_max_num_queries
):
    first, _ = make_findings(acme, 2, status="claimed")
    checked(acme, first, "commit-linked")
    client = client_for(reviewer)
    with django_assert_max_num_queries(20) as few:
        client.get("/p/ACME/reviews/")
    for finding in make_findings(acme, 20, status="verified")[:5]:
        checked(acme, finding, "commit-linked")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/p/ACME/reviews/")
