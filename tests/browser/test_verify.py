"""Verified means evidence, in a real browser: a claimed fix without evidence is verified only
by a reviewer's decision with a reason, and the page's header badge follows at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from findings.models import Event, Finding, Project
from findings.services.ingest import ingest_file
from tests.browser.conftest import screenshot
from tests.conftest import SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def claimed() -> Finding:
    """A fix claimed by a seed document (uploaded by no one here) that nothing has checked."""
    ingest_file(next(SEEDS.glob("seed_001_*.txt")), project_key="LILY")
    project = Project.objects.get(key="LILY")
    return Finding.objects.filter(project=project, status="claimed").order_by("number").first()


def test_a_reviewer_verifies_a_claim_without_evidence_by_decision(page, live_server, claimed):
    page.goto(f"{live_server.url}/p/LILY/findings/{claimed.number}/")
    header = page.locator("#finding-status")
    expect(header).to_contain_text("Claimed fixed")
    expect(page.locator(".claim").first).to_contain_text("not checked yet")
    action = page.locator("#id_transition_event")
    expect(action).to_have_value("")  # nothing is chosen for the user
    expect(action.locator("option")).not_to_contain_text(["Verified by evidence"])
    expect(page.locator(".verify-hint")).to_contain_text("your decision as a reviewer")

    action.select_option("verify_by_decision")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#finding-actions [role=alert]")).to_contain_text("needs a reason")
    expect(header).to_contain_text("Claimed fixed")

    page.fill("#id_transition_event ~ #id_transition_reason", "Read the diff: the fix holds.")
    page.locator("#id_transition_event").select_option("verify_by_decision")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#finding-actions [role=status]")).to_contain_text(
        "verified by a reviewer's decision."
    )
    # The header badge changes with the panel, without a reload.
    expect(header).to_contain_text("Verified")
    expect(header).to_contain_text("Read the diff: the fix holds.")
    screenshot(page, "finding-verified-by-decision")
    event = Event.objects.get(finding=claimed, after="verified")
    assert event.action == "verify_by_decision" and event.actor.username == "rita"

    page.goto(f"{live_server.url}/p/LILY/reviews/")
    item = page.locator(f"#review-{claimed.number}")
    expect(item.locator(".status")).to_have_text("verified by rita's decision")
    expect(item.locator(".evidence")).to_have_text("evidence: unverified")


def test_the_board_offers_no_mark_verified_without_evidence(page, live_server, claimed):
    page.goto(f"{live_server.url}/p/LILY/")
    column = page.locator('[data-status="claimed"]')
    expect(column.locator(".fcard").first).to_be_visible()
    expect(column.get_by_role("button", name="Mark verified")).to_have_count(0)
    expect(column.locator(".evidence").first).to_have_text("unverified")
