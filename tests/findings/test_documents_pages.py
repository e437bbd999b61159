"""The document page and the Claims section of a finding, as a signed-in user sees them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from findings.models import Claim, Report
from findings.services.ingest import Options, ingest_file
from tests.conftest import SEEDS, run_tool

pytestmark = pytest.mark.django_db

HOSTILE = """# Payment fixes handoff

**Date:** 2026-03-01

Intro with <script>alert(1)</script> inline, an image <img src=x onerror=alert(1)> and a
[harmless looking link](javascript:alert(1)) next to a [real one](https://example.com/pr/7).

## Fix #1: Bare Except in Refunds ✅

**File:** `pay/refunds.py`
**Lines Fixed:** 10-12

### Problem
A bare `except:` hid failed refunds.

```python
# BEFORE
except:
    pass  # <b>not bold</b>

# AFTER
except RefundError as error:
    log.warning("refund failed: %s", error)
```

Some musing the extractor cannot place anywhere at all, about the weather.
"""


def import_text(tmp_path, text: str, name: str = "handoff.md", project: str = "PAY") -> Report:
    path = tmp_path / name
    path.write_text(text)
    return Report.objects.get(pk=ingest_file(path, project_key=project).report)


def test_the_document_page_renders_sanitised_html_next_to_the_extraction(tmp_path, owner_client):
    report = import_text(tmp_path, HOSTILE)
    page = owner_client.get(f"/imports/{report.pk}/document/").content.decode()
    rendered = page.split('<article class="doc-render card">', 1)[1].split("</article>", 1)[0]
    assert "<script" not in rendered and "<img" not in rendered
    assert not re.search(r"<[^>]*\bonerror=", rendered)
    assert not re.search(r"<a[^>]*javascript:", rendered) and 'href="javascript' not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert '<a href="https://example.com/pr/7" rel="noopener noreferrer">real one</a>' in rendered
    assert "<b>not bold</b>" not in page
    assert "Bare Except in Refunds" in page and "pay/refunds.py" in page
    assert "lines 10-12" in page


def test_unparsed_lines_are_listed_and_marked_in_the_rendered_text(tmp_path, owner_client):
    report = import_text(tmp_path, HOSTILE)
    unparsed = report.document.unparsed
    musing = next(u for u in unparsed if u["text"].startswith("Intro with"))
    page = owner_client.get(f"/imports/{report.pk}/document/").content.decode()
    last = musing["line"] + musing["text"].count("\n")
    assert f'<a href="#doc-L{musing["line"]}">line {musing["line"]}-{last}</a>' in page
    marked = re.search(rf'<p[^>]*id="doc-L{musing["line"]}"[^>]*>', page).group(0)
    assert 'class="unparsed"' in marked
    assert f'data-line="{musing["line"]}"' in marked


def test_a_document_with_nothing_placed_says_it_claims_nothing(tmp_path, owner_client):
    report = import_text(tmp_path, "Just a few words.\n\nAnd a second thought.\n", "notes.md")
    page = owner_client.get(f"/imports/{report.pk}/document/").content.decode()
    assert "No findings were found in this document: it claims nothing." in page
    assert page.count('class="unparsed"') == 2


def test_the_seed_page_shows_findings_planning_and_declared_health(owner_client):
    report = Report.objects.get(
        pk=ingest_file(next(SEEDS.glob("seed_001_*.txt")), project_key="LILY").report
    )
    page = owner_client.get(f"/imports/{report.pk}/document/").content.decode()
    assert "Database Session Leak in Celery Tasks" in page
    assert "66, 115-125, 249-250" in page and "<code>e4121ef</code>" in page
    assert "Phase 1: Quick Wins" in page and "1-2 weeks" in page
    assert '<span class="health health-at_risk">at risk</span>' in page
    assert "mojibake repaired" in page and "cp1252" in page
    assert page.count('class="sev sev-unstated"') == 3


def test_the_finding_page_lists_its_claims_with_before_and_after_code(tmp_path, owner_client):
    import_text(tmp_path, HOSTILE)
    claim = Claim.objects.get()
    finding = claim.finding
    page = owner_client.get(f"/p/PAY/findings/{finding.number}/").content.decode()
    claims = page.split('<h2 id="claims">Claims</h2>', 1)[1].split("<h2>Sightings</h2>", 1)[0]
    assert f'href="/imports/{claim.report_id}/document/#claim-{claim.pk}"' in claims
    assert "Payment fixes handoff" in claims and "Fixed" in claims
    assert "this finding was created from the claim" in claims
    before, after = claims.split('<span class="label">After</span>', 1)
    assert "except:" in before and "# &lt;b&gt;not bold&lt;/b&gt;" in before
    assert "except RefundError as error:" in after


def test_a_scan_finding_no_document_mentions_says_so(tmp_path, owner_client):
    (tmp_path / "app.py").write_text(
        "def f():\n    try:\n        pass\n    except:\n        pass\n"
    )
    report = tmp_path / "ruff.json"
    report.write_text(
        run_tool(
            "ruff",
            "check",
            "--no-cache",
            "--output-format",
            "json",
            "--select",
            "E722",
            ".",
            cwd=tmp_path,
        )
    )
    ingest_file(report, project_key="PAY", options=Options(root=str(tmp_path)))
    page = owner_client.get("/p/PAY/findings/1/").content.decode()
    assert "No document says anything about this finding." in page


@pytest.mark.parametrize("url", ["/imports/1/document/", "/links/1/confirm/", "/links/1/undo/"])
def test_every_document_page_asks_an_anonymous_visitor_to_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_scan_report_has_no_document_page(tmp_path, owner_client):
    path = tmp_path / "ruff.json"
    path.write_text("[]")
    report = ingest_file(path, project_key="PAY", options=Options(format="ruff")).report
    assert owner_client.get(f"/imports/{report}/document/").status_code == 404
