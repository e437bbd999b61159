"""Remediation documents through `manage.py ingest` and the upload page: the four seeds become
claims, findings, phases, roadmap items and health readings; bad input changes nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from findings.models import (
    Claim,
    Document,
    Event,
    Finding,
    HealthReading,
    Phase,
    Project,
    Report,
    RoadmapItem,
)
from findings.services.ingest import IngestError, ingest_file
from scanners.documents import MAX_BYTES
from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.django_db

SAMPLES = ROOT / "tests" / "samples" / "documents"
SEED_FILES = {
    "001": "seed_001_handoff",
    "002": "seed_002_critical_fixes",
    "003": "seed_003_tier1_macroman",
    "004": "seed_004_sprint6",
}


def expected(stem: str) -> dict:
    return json.loads((SAMPLES / f"{stem}.json").read_text())


def ingest(path: Path, project: str = "LILY", *extra: str) -> dict:
    out = StringIO()
    call_command("ingest", str(path), "--project", project, "--json", *extra, stdout=out)
    return json.loads(out.getvalue())


def seed_path(number: str) -> Path:
    return next(SEEDS.glob(f"seed_{number}_*.txt"))


@pytest.mark.parametrize("number", sorted(SEED_FILES))
def test_each_seed_becomes_claims_findings_planning_and_health(number):
    want = expected(SEED_FILES[number])
    result = ingest(seed_path(number))
    report = Report.objects.get(pk=result["report"])
    assert (report.kind, report.format, report.tool, report.state) == (
        "document",
        "markdown",
        "document",
        "done",
    )
    assert report.total == len(want["findings"])
    # On an empty project every claim creates its finding; fixed claims become "claimed".
    assert result["new"] == len(want["findings"]) == Finding.objects.count()
    fixed = [f for f in want["findings"] if f["status"] == "fixed"]
    assert result["fixed"] == len(fixed)
    assert Finding.objects.filter(status="claimed").count() == len(fixed)
    assert Finding.objects.filter(tool="document").count() == len(want["findings"])
    claims = list(Claim.objects.filter(report=report).order_by("line"))
    assert [c.title for c in claims] == [f["title"] for f in want["findings"]]
    assert [c.status for c in claims] == [f["status"] for f in want["findings"]]
    assert [c.commits for c in claims] == [f["commits"] for f in want["findings"]]
    assert Phase.objects.count() == len(want["phases"])
    assert RoadmapItem.objects.count() == sum(len(p["items"]) for p in want["phases"])
    # One stored reading per area and moment: now, and before/projected for an area read now.
    current = {h["area"] for h in want["health"] if h.get("when", "current") == "current"}
    assert HealthReading.objects.filter(when="current").count() == len(current)
    moments = {
        (h["area"], h["when"])
        for h in want["health"]
        if h.get("when", "current") != "current" and h["area"] in current
    }
    assert HealthReading.objects.exclude(when="current").count() == len(moments)
    document = Document.objects.get(report=report)
    assert document.title == want["document"]["title"]
    assert len(document.unparsed) == len(want["unparsed"])
    assert f"{len(want['unparsed'])} passages could not be placed" in report.note


def test_the_first_seed_keeps_lines_commits_severities_phases_and_health():
    ingest(seed_path("001"))
    leak = Claim.objects.get(title="Database Session Leak in Celery Tasks")
    assert leak.files == [
        {"path": "backend/tasks/publish_tasks.py", "lines": [[66, 66], [115, 125], [249, 250]]}
    ]
    assert leak.commits == ["e4121ef"] and leak.severity_name == "high"
    assert leak.before == ["db = next(get_db())"] and "SessionLocal()" in leak.after[0]
    finding = leak.finding
    assert (finding.status, finding.severity_name, finding.path, finding.start_line) == (
        "claimed",
        "high",
        "backend/tasks/publish_tasks.py",
        66,
    )
    assert finding.first_seen_at.date().isoformat() == "2025-09-02"
    # Frontend issues state no severity: none is guessed, and the page says so.
    frontend = Claim.objects.get(title="Fetch Without Timeouts")
    assert frontend.severity is None and frontend.status == "identified"
    assert frontend.finding.status == "open"
    assert frontend.finding.extra["severity_stated"] is False
    quick = Phase.objects.get(name="Phase 1: Quick Wins")
    assert (quick.window, quick.kind) == ("1-2 weeks", "phase")
    timeouts = quick.items.get(text="Add HTTP timeouts to integration clients")
    assert timeouts.done is True
    assert {f.title for f in timeouts.findings.all()} == {
        "HTTP Timeout Protection",
        "External HTTP Without Timeouts/Retries",
    }
    readings = {r.area.name: (r.status, r.date.isoformat()) for r in HealthReading.objects.all()}
    assert readings == {
        "Server Performance": ("at_risk", "2025-09-02"),
        "Task Performance": ("at_risk", "2025-09-02"),
        "Frontend Performance": ("healthy", "2025-09-02"),
        "Integration Stability": ("improved", "2025-09-02"),
    }


@pytest.mark.parametrize(("number", "codepage"), [("001", "cp1252"), ("003", "mac_roman")])
def test_mojibake_repair_is_recorded_on_the_report(number, codepage):
    result = ingest(seed_path(number))
    report = Report.objects.get(pk=result["report"])
    assert f"mojibake repaired (UTF-8 that was read as {codepage})" in report.note
    document = report.document
    assert document.encoding_repair == codepage
    assert "âœ" not in document.text and "‚Ä" not in document.text


def test_the_same_bytes_twice_are_one_report_and_change_nothing():
    first = ingest(seed_path("002"))
    events = Event.objects.count()
    second = ingest(seed_path("002"))
    assert second["duplicate"] is True and second["report"] == first["report"]
    assert Claim.objects.count() == 5 and Event.objects.count() == events


REVISION_STATUS = (
    "## Fix #5: Transaction Boundaries in User Deletion ✅",
    "## Fix #5: Transaction Boundaries in User Deletion\n\n**Status:** Identified, not fixed yet",
)
REVISION_NEW = (
    "## Testing Recommendations",
    "## Fix #6: Bare Except in Export Handler ✅\n\n**Lines Fixed:** 2801-2805\n\n"
    "### Problem\nA bare `except:` swallowed export errors.\n\n## Testing Recommendations",
)


def test_a_revised_version_updates_its_claims_instead_of_duplicating_them(tmp_path):
    ingest(seed_path("002"))
    deletion = Claim.objects.get(title="Transaction Boundaries in User Deletion")
    assert deletion.finding.status == "claimed"
    revised = seed_path("002").read_text().replace(*REVISION_STATUS).replace(*REVISION_NEW, 1)
    path = tmp_path / "critical-fixes-v2.md"
    path.write_text(revised)
    result = ingest(path)
    assert result["duplicate"] is False
    assert Claim.objects.count() == 6 and Finding.objects.count() == 6
    deletion.refresh_from_db()
    assert deletion.report_id == result["report"] and deletion.status == "identified"
    # The only fix claim is gone, so the finding is no longer claimed fixed.
    assert deletion.finding.status == "open"
    assert deletion.finding.events.filter(action="reject").exists()
    new = Claim.objects.get(title="Bare Except in Export Handler")
    assert new.files == [{"path": "app.py", "lines": [[2801, 2805]]}]
    report = Report.objects.get(pk=result["report"])
    assert "revision of report #" in report.note and "1 claim updated" in report.note
    assert Event.objects.filter(action="claim_updated", report=report).count() == 1
    assert Phase.objects.count() == len(expected("seed_002_critical_fixes")["phases"])


def test_a_different_document_claiming_the_same_fix_adds_a_second_claim(tmp_path):
    ingest(seed_path("002"))
    other = tmp_path / "review.md"
    other.write_text(
        "# Reviewer notes on the app.py hardening\n\n**Date:** 2025-11-02\n\n"
        "### 1. Bare Except Clauses ✅\n\n**File:** `app.py`\n\n"
        "Checked again: the bare excepts are gone.\n"
    )
    result = ingest(other)
    assert result["new"] == 0 and result["still_open"] == 1
    finding = Finding.objects.get(title="Bare Except Clauses")
    assert finding.claims.count() == 2
    link = finding.links.get()
    assert link.score >= 80 and "same title" in link.reason
    assert Finding.objects.count() == 5


def test_a_document_with_nothing_to_place_imports_with_zero_findings_and_says_so():
    result = ingest(SAMPLES / "own_08_nothing.md", "NOTES")
    report = Report.objects.get(pk=result["report"])
    assert report.state == "done" and report.total == 0 and result["new"] == 0
    assert "no findings found in this document" in report.note
    assert "3 passages could not be placed" in report.note
    assert not Finding.objects.exists() and len(report.document.unparsed) == 3


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def nothing_changed() -> bool:
    return not (Report.objects.exists() or Finding.objects.exists() or Claim.objects.exists())


def test_a_binary_file_is_refused_with_a_clear_message(tmp_path):
    path = write(tmp_path, "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    with pytest.raises(IngestError, match=r"photo.png: binary data \(PNG image\), not a report"):
        ingest_file(path, project_key="BIN")
    assert nothing_changed() and not Project.objects.exists()


def test_text_that_turns_binary_after_its_first_page_is_refused_by_the_extractor(tmp_path):
    head = ("# Handoff\n\n" + "Plain words about the fixes.\n" * 4000).encode()
    path = write(tmp_path, "handoff.md", head + b"\x00\x01\x02 rest")
    with pytest.raises(IngestError) as caught:
        ingest_file(path, project_key="BIN")
    message = str(caught.value)
    assert message.startswith("handoff.md: byte ") and "a NUL character (byte 0x00)" in message
    assert nothing_changed()


def test_an_oversized_document_is_refused_and_names_the_limit(tmp_path):
    body = b"# Big handoff\n\n" + b"All fixed, see above.\n" * (MAX_BYTES // 20)
    path = write(tmp_path, "big.md", body)
    with pytest.raises(IngestError) as caught:
        ingest_file(path, project_key="BIG")
    assert str(caught.value) == (
        f"big.md: document is {len(body)} bytes, over the {MAX_BYTES} byte limit"
    )
    assert nothing_changed()


def test_the_ingest_command_reports_a_bad_document_and_exits_non_zero(tmp_path):
    path = write(tmp_path, "broken.md", b"# Notes\n\nCaf\xe9 fixed.\n")
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 reports failed"):
        call_command("ingest", str(path), "--project", "LILY", stderr=err)
    # Not UTF-8, so the content sniff does not take it for a document either.
    assert "broken.md: unknown report format" in err.getvalue()
    assert "or a Markdown remediation document" in err.getvalue()
    assert nothing_changed()


def test_the_upload_page_accepts_a_document_and_imports_it(
    owner_client, django_capture_on_commit_callbacks
):
    data = seed_path("004").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            "/imports/",
            {"project": "lily", "files": SimpleUploadedFile("sprint6-handoff.txt", data)},
            follow=True,
        )
    assert response.status_code == 200
    report = Report.objects.get(project__key="LILY")
    assert report.state == "done" and report.kind == "document"
    assert report.new == 5 and report.fixed == 5
    assert "queued as report" in response.content.decode()
    history = owner_client.get("/imports/").content.decode()
    assert f'href="/imports/{report.pk}/document/"' in history


def test_text_in_a_file_named_json_is_a_broken_report_not_a_document(tmp_path):
    path = write(tmp_path, "audit.json", b"AuditJS version: 4.0.25\nTotal dependencies: 58\n")
    with pytest.raises(IngestError, match="audit.json: unknown report format"):
        ingest_file(path, project_key="LOGS")
    assert nothing_changed()


UNLABELLED = (
    "# Handoff\n\n## Fix 1: Timeout on the market feed ✅ FIXED\n\n**File:** `feed.py`\n\n"
    "```python\nresponse = session.get(url, timeout=10)\n```\n\n"
    "## Fix #2: Retry storm\n\n**Status:** Identified, not fixed yet\n\n**File:** `feed.py`\n\n"
    "```python\nwhile True:\n    fetch()\n```\n"
)


def test_code_a_finished_fix_quotes_without_a_side_is_kept_as_its_after_code(tmp_path):
    path = tmp_path / "handoff.md"
    path.write_text(UNLABELLED)
    ingest(path)
    fixed = Claim.objects.get(status=Claim.Status.FIXED)
    assert fixed.before == [] and fixed.after == ["response = session.get(url, timeout=10)"]
    # An open claim's code is the problem as it stands, never AFTER code.
    assert Claim.objects.get(status=Claim.Status.IDENTIFIED).after == []
