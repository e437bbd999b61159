"""Claims meet scanner findings: real ruff output, a document claiming the fix, and a person
confirming or undoing the link through the web."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from findings.models import Claim, Event, Finding, FindingLink
from findings.services.document_matching import document_identity
from findings.services.ingest import Options, ingest_file
from tests.conftest import run_tool

LOADER = """import json


def load(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except:
        return None


def fetch(url):
    import requests

    return requests.get(url)
"""

FIX_DOCUMENT = """# Loader hardening — handoff

**Date:** 2026-02-10

## Fix #1: Bare Except Clause in the Loader ✅

**File:** `service/loader.py`
**Lines Fixed:** 8-9

### Problem
A bare `except:` hid every error, including KeyboardInterrupt.

### Solution
```python
# BEFORE
except:
    return None

# AFTER
except (OSError, ValueError):
    return None
```
"""


@pytest.fixture
def scanned(tmp_path) -> Path:
    """LOOM with ruff's real findings for service/loader.py, imported with --root."""
    return scan_loader(tmp_path, LOADER)


def scan_loader(tmp_path: Path, text: str) -> Path:
    source = tmp_path / "checkout"
    (source / "service").mkdir(parents=True)
    (source / "service" / "loader.py").write_text(text)
    report = tmp_path / "ruff.json"
    report.write_text(
        run_tool(
            "ruff",
            "check",
            "--no-cache",
            "--output-format",
            "json",
            "--select",
            "E722,S",
            str(source),
            cwd=source,
        )
    )
    ingest_file(report, project_key="LOOM", options=Options(root=str(source)))
    return tmp_path


def claim_the_fix(tmp_path: Path, text: str = FIX_DOCUMENT, name: str = "handoff.md"):
    path = tmp_path / name
    path.write_text(text)
    return ingest_file(path, project_key="LOOM")


@pytest.mark.django_db
def test_a_claimed_bare_except_fix_links_to_ruffs_finding_instead_of_a_new_one(scanned):
    bare = Finding.objects.get(project__key="LOOM", rule_id="E722")
    assert bare.path == "service/loader.py" and bare.start_line == 8
    before = Finding.objects.count()
    result = claim_the_fix(scanned)
    assert result.new == 0 and result.fixed == 1 and result.still_open == 1
    assert Finding.objects.count() == before
    claim = Claim.objects.get()
    assert claim.finding == bare
    link = FindingLink.objects.get()
    assert (link.finding, link.state) == (bare, "suggested")
    assert link.score == 100
    assert "lines 8-9 overlap 8" in link.reason and "bare except ↔ ruff E722" in link.reason
    bare.refresh_from_db()
    assert bare.status == "claimed"
    assert bare.events.filter(action="claim", after="claimed").exists()
    # The timeout finding in the same file is a different kind: not linked.
    assert not FindingLink.objects.filter(finding__rule_id="S113").exists()


@pytest.mark.django_db
def test_the_same_kind_in_the_same_file_links_even_without_line_numbers(scanned):
    claim_the_fix(scanned, FIX_DOCUMENT.replace("**Lines Fixed:** 8-9\n", ""))
    link = FindingLink.objects.get()
    assert link.finding.rule_id == "E722" and link.score == 75
    assert link.reason == "bare except ↔ ruff E722 in the same file"


@pytest.mark.django_db
def test_lines_that_meet_a_finding_of_another_kind_do_not_link_it(scanned):
    # The claim's lines collide with the bare except, but it speaks of a timeout: the lines
    # were written against another version of the file, and the kind decides.
    timeout = FIX_DOCUMENT.replace("Bare Except Clause in the Loader", "Missing timeout on fetch")
    timeout = timeout.replace("A bare `except:` hid every error", "requests.get had no timeout")
    timeout = timeout.replace("except:\n    return None\n\n# AFTER", "return None\n\n# AFTER")
    claim_the_fix(scanned, timeout)

    claim = Claim.objects.get()
    assert claim.finding.rule_id == "S113"
    assert not FindingLink.objects.filter(finding__rule_id="E722").exists()
    assert Finding.objects.get(project__key="LOOM", rule_id="E722").status == "open"


@pytest.mark.django_db
def test_a_wide_claimed_range_suggests_links_but_takes_no_finding(scanned):
    wide = FIX_DOCUMENT.replace("Bare Except Clause in the Loader", "Loader cleanup")
    wide = wide.replace("A bare `except:` hid every error, including KeyboardInterrupt.", "Tidy.")
    wide = wide.replace("except:\n    return None\n\n# AFTER", "return None\n\n# AFTER")
    wide = wide.replace("**Lines Fixed:** 8-9", "**Lines Fixed:** 1-16")
    result = claim_the_fix(scanned, wide)

    assert result.new == 1
    claim = Claim.objects.get()
    assert claim.finding.tool == "document"
    links = FindingLink.objects.filter(claim=claim).order_by("finding__start_line")
    assert [(link.finding.rule_id, link.score, link.state) for link in links] == [
        ("E722", 65, "suggested"),
        ("S113", 65, "suggested"),
    ]
    assert "a wide range" in links[0].reason
    assert set(Finding.objects.exclude(tool="document").values_list("status", flat=True)) == {
        "open"
    }


@pytest.mark.django_db
def test_confirming_a_link_through_the_page_keeps_who_and_when(scanned, owner_client, owner):
    claim_the_fix(scanned)
    link = FindingLink.objects.get()
    response = owner_client.post(f"/links/{link.pk}/confirm/", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Link {link.claim.title} → LOOM-" in page and "confirmed" in page
    link.refresh_from_db()
    assert (link.state, link.decided_by) == ("confirmed", owner)
    event = Event.objects.get(action="link_confirmed")
    assert (event.finding, event.actor, event.before, event.after) == (
        link.finding,
        owner,
        "suggested",
        "confirmed",
    )


@pytest.mark.django_db
def test_undoing_a_link_gives_the_claim_its_own_finding_and_reopens_the_scanners(
    scanned, owner_client, owner
):
    claim_the_fix(scanned)
    link = FindingLink.objects.get()
    bare = link.finding
    response = owner_client.post(f"/links/{link.pk}/undo/", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert f'id="claim-{link.claim_id}"' in page and "Undone by olivia" in page
    claim = Claim.objects.get()
    assert claim.finding != bare and claim.finding.tool == "document"
    assert claim.finding.status == "claimed"
    bare.refresh_from_db()
    assert bare.status == "open"
    assert Event.objects.filter(action="link_undone", finding=bare, actor=owner).exists()
    assert Event.objects.filter(action="claim_moved", finding=claim.finding).exists()
    # An undone pair is never suggested again, even when the same bytes change slightly.
    claim_the_fix(scanned, FIX_DOCUMENT + "\nReviewed by the team.\n", "handoff-v2.md")
    assert FindingLink.objects.count() == 1
    assert Claim.objects.get().finding == claim.finding


@pytest.mark.django_db
def test_an_undone_link_cannot_be_confirmed_and_the_page_says_why(scanned, owner_client):
    claim_the_fix(scanned)
    link = FindingLink.objects.get()
    owner_client.post(f"/links/{link.pk}/undo/")
    response = owner_client.post(f"/links/{link.pk}/confirm/", follow=True)
    assert "this link was undone; it cannot be confirmed again" in response.content.decode()
    link.refresh_from_db()
    assert link.state == "undone"


@pytest.mark.django_db
def test_link_decisions_need_a_signed_in_user_and_a_post(scanned, owner_client):
    claim_the_fix(scanned)
    link = FindingLink.objects.get()
    response = Client().post(f"/links/{link.pk}/confirm/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert owner_client.get(f"/links/{link.pk}/confirm/").status_code == 405
    assert owner_client.post("/links/999999/confirm/").status_code == 404
    link.refresh_from_db()
    assert link.state == "suggested"


@pytest.mark.parametrize(
    ("title", "filename", "identity"),
    [
        ("Critical Fixes Applied to app.py", "x.md", "title:critical fixes applied to app py"),
        (
            "Critical Fixes Applied to app.py (revised)",
            "y.md",
            "title:critical fixes applied to app py",
        ),
        (
            "✅ Critical fixes applied to APP.PY — v2",
            "z.md",
            "title:critical fixes applied to app py",
        ),
        (None, "notes/billing-week_v3.md", "file:billing week"),
        ("", "Handoff.txt", "file:handoff"),
    ],
)
def test_a_revision_keeps_its_document_identity(title, filename, identity):
    assert document_identity(title=title, filename=filename) == identity


@pytest.mark.django_db
def test_the_board_summary_counts_document_findings_and_their_moves(scanned, owner_client):
    from findings.models import StatusCount

    claim_the_fix(scanned)
    link = FindingLink.objects.get()
    owner_client.post(f"/links/{link.pk}/undo/")
    cells = {(c.severity, c.status): c.n for c in StatusCount.objects.filter(project__key="LOOM")}
    actual = {}
    for finding in Finding.objects.filter(project__key="LOOM"):
        actual[(finding.severity, finding.status)] = (
            actual.get((finding.severity, finding.status), 0) + 1
        )
    assert {k: v for k, v in cells.items() if v} == actual
