"""A remediation document uploaded in a real browser, then read on its document page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from findings.models import FindingLink, Report
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.conftest import SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def upload(page, live_server, path, project: str = "LILY") -> Report:
    page.goto(f"{live_server.url}/imports/")
    page.fill("#id_project", project)
    page.set_input_files("#id_files", str(path))
    page.click("form.upload button[type=submit]")
    report = Report.objects.filter(project__key=project).order_by("-pk").first()
    row = page.locator(f"#report-{report.pk}")
    expect(row.locator(".state")).to_have_text(re.compile("Done"), timeout=60_000)
    report.refresh_from_db()
    return report


def test_an_uploaded_handoff_opens_as_text_next_to_what_was_extracted(page, live_server):
    seed = next(SEEDS.glob("seed_001_*.txt"))
    report = upload(page, live_server, seed)
    assert (report.kind, report.new, report.fixed) == ("document", 16, 5)
    page.click(f"#report-{report.pk} a:has-text('{seed.name}')")
    expect(page).to_have_url(re.compile(rf"/imports/{report.pk}/document/$"))
    expect(page.locator("main > h1")).to_have_text(
        "Complete Technical Handoff - CodeX Review Document"
    )
    rendered = page.locator(".doc-render")
    expect(rendered.locator("h3")).to_have_text(
        "Complete Technical Handoff - CodeX Review Document"
    )
    expect(rendered.locator("h4").first).to_contain_text("Executive Summary")
    # The repaired text shows real emoji, not mojibake.
    expect(rendered).to_contain_text("✅")
    expect(rendered).not_to_contain_text("âœ")
    expect(page.locator("article.claim")).to_have_count(16)
    first = page.locator("article.claim").first
    expect(first.locator("h4")).to_have_text("Database Session Leak in Celery Tasks")
    expect(first.locator(".sev")).to_have_text("high")
    expect(first.locator(".claimed")).to_have_text("Fixed")
    expect(first.locator(".status")).to_have_text("Claimed fixed")
    expect(first).to_contain_text("lines 66, 115-125, 249-250")
    first.locator("summary").click()
    expect(first.locator(".pair pre").first).to_contain_text("db = next(get_db())")
    expect(page.locator(".phase").first).to_contain_text("Phase 1: Quick Wins")
    expect(page.locator(".health-at_risk")).to_have_count(2)
    unparsed = page.locator(".unparsed-list li")
    expect(unparsed).to_have_count(len(report.document.unparsed))
    expect(rendered.locator(".unparsed").first).to_be_visible()
    screenshot(page, "document-page")
    # The first screen as a reader sees it, without the full page's stretched scroll box.
    page.screenshot(path=str(ARTIFACTS / "document-page-top.png"))
    unparsed.first.locator("a").click()
    expect(page).to_have_url(re.compile(r"#doc-L\d+$"))


def test_confirming_a_suggested_link_updates_the_claim_in_place(page, live_server, tmp_path):
    upload(page, live_server, next(SEEDS.glob("seed_002_*.txt")), "APP")
    review = tmp_path / "review.md"
    review.write_text(
        "# Reviewer notes on app.py\n\n**Date:** 2025-11-02\n\n"
        "### 1. Bare Except Clauses ✅\n\n**File:** `app.py`\n\nChecked: the bare excepts are gone.\n"
    )
    report = upload(page, live_server, review, "APP")
    page.goto(f"{live_server.url}/imports/{report.pk}/document/")
    card = page.locator("article.claim")
    expect(card.locator("table.links .score")).to_have_text("90")
    expect(card.locator("table.links")).to_contain_text("same title as APP-3")
    card.locator("button", has_text="Confirm").click()
    expect(card.locator(".decision")).to_contain_text("confirmed")
    expect(card.locator(".link-state")).to_have_text(re.compile("Confirmed by rita"))
    expect(card.locator("button", has_text="Confirm")).to_have_count(0)
    assert FindingLink.objects.get().state == "confirmed"
    screenshot(page, "document-link-confirmed")
