"""Pages speak to people: a document finding's details in words, a document's Markdown links as
safe links, and a report page that links the document page it mentions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from findings.models import Claim, Report
from findings.services.ingest import ingest_file
from tests.browser.conftest import screenshot
from tests.conftest import SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HANDOFF = """# Payments handoff

## Fix #1: Timeouts on outgoing calls

**File**: `billing/client.py:40-44`

### Problem
Calls to the card processor had no timeout; see
[the requests guide](https://requests.readthedocs.io/en/latest/user/advanced/#timeouts)
and [this](javascript:alert(document.domain)).

### Solution
Every call now passes `timeout=10`, as the [team's notes](https://example.com/notes) say.
<img src=x onerror=alert(1)>
"""


def test_a_document_finding_shows_its_details_in_words_and_its_links_as_safe_links(
    page, live_server, tmp_path: Path
):
    source = tmp_path / "handoff.md"
    source.write_text(HANDOFF)
    ingest_file(source, project_key="PAY")
    finding = Claim.objects.get().finding

    page.goto(f"{live_server.url}/p/PAY/findings/{finding.number}/")

    details = page.locator("#finding-details")
    expect(details).to_contain_text("not stated by the document (shown as info)")
    for internal in ("Severity stated", "Claim key", "True", "title:"):
        expect(details).not_to_contain_text(internal)
    guide = page.get_by_role("link", name="the requests guide").first
    expect(guide).to_have_attribute("href", re.compile(r"^https://requests\.readthedocs\.io/"))
    expect(guide).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(page.get_by_role("link", name="team's notes")).to_have_count(1)  # the claim's fix
    body = page.inner_text("body")
    assert "](http" not in body and "[the requests guide]" not in body
    expect(page.locator("a[href^='javascript:']")).to_have_count(0)
    expect(page.locator("img[src='x']")).to_have_count(0)
    screenshot(page, "finding-document-words")


def test_a_report_page_links_the_document_page_its_note_mentions(page, live_server):
    seed = sorted(SEEDS.glob("seed_00*_*.txt"))[0]
    ingest_file(seed, project_key="LILY")
    report = Report.objects.get()
    assert "see the document page" in report.note

    page.goto(f"{live_server.url}/imports/{report.pk}/")
    screenshot(page, "report-document-link")
    page.locator("dd", has_text="could not be placed").get_by_role(
        "link", name="the document page"
    ).click()

    expect(page).to_have_url(re.compile(rf"/imports/{report.pk}/document/$"))
