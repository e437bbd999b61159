"""Reports out: a project's or a sprint's status as Markdown and CSV, with the evidence."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import pytest
from django.core.cache import cache
from django.utils import timezone

from findings.models import ClaimEvidence, Finding, Severity, Sprint
from findings.services import review_record
from tests.findings.test_dashboard_board import make_findings
from tests.findings.test_dashboard_health import claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixes(acme, reviewer):
    cache.clear()
    make_findings(acme, 3, severity=Severity.CRITICAL)  # ACME-1..3 open
    claimed, verified = make_findings(acme, 2, severity=Severity.HIGH, status="claimed")
    documented = claim(acme, claimed, "Parameterised the orders query")
    documented.commits = ["a1b2c3d4e5f6a7b8"]
    documented.save()
    ClaimEvidence.objects.create(
        claim=documented, level="code-checked", run=uuid.uuid4(), checked_at=timezone.now()
    )
    review_record(finding=verified, reviewer=reviewer, verdict="needs_work", comment="add a test")
    return claimed, verified


def test_the_markdown_report_gives_counts_and_the_evidence_for_each_fix(owner_client, fixes):
    response = owner_client.get("/p/ACME/report.md")
    assert response["Content-Disposition"] == 'attachment; filename="ACME-status.md"'
    text = response.content.decode()
    assert text.startswith("# ACME status report\n")
    assert "**Status:** 5 open findings" in text
    assert "| critical | 3 | 0 | 0 | 0 | 0 |" in text
    assert "| high | 0 | 2 | 0 | 0 | 0 |" in text
    first = text[text.index("- **ACME-4**") :].split("\n- ", 1)[0]
    assert "evidence: code-checked" in first and "claimed in fixes.md" in first
    assert "`a1b2c3d4e5f6`" in first
    second = text[text.index("- **ACME-5**") :]
    assert "evidence: unverified" in second and "last review: needs work by remy" in second


def test_the_csv_report_has_one_row_per_fix_with_its_evidence_then_the_open_ones(
    owner_client, fixes
):
    response = owner_client.get("/p/ACME/report.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["section"], row["key"]) for row in rows] == [
        ("fix", "ACME-4"),
        ("fix", "ACME-5"),
        ("open", "ACME-1"),
        ("open", "ACME-2"),
        ("open", "ACME-3"),
    ]
    assert rows[0]["evidence_level"] == "code-checked"
    assert rows[0]["commits"] == "a1b2c3d4e5f6a7b8"
    assert rows[1]["evidence_level"] == "unverified"
    assert rows[1]["last_review"] == "needs work" and rows[1]["reviewer"] == "remy"
    assert {row["severity"] for row in rows[2:]} == {"critical"}


def test_the_markdown_report_lists_the_open_findings_by_severity_worst_first(owner_client, acme):
    cache.clear()
    make_findings(acme, 1, severity=Severity.LOW, title="Verbose logging")  # ACME-1
    make_findings(acme, 2, severity=Severity.CRITICAL, title="SQL built from input")
    make_findings(acme, 1, severity=Severity.HIGH, status="regressed", title="Timeout gone")
    make_findings(acme, 1, severity=Severity.HIGH, status="verified", title="Fixed already")

    text = owner_client.get("/p/ACME/report.md").content.decode()

    section = text[text.index("## Open findings by severity") :]
    assert section.index("### Critical") < section.index("### High") < section.index("### Low")
    critical = section[section.index("### Critical") : section.index("### High")]
    assert critical.count("- **ACME-") == 2 and "SQL built from input" in critical
    assert "- **ACME-4**, regressed Timeout gone" in section
    assert "Fixed already" not in section  # a fix is listed with its evidence, not as open


def test_a_sprint_report_covers_only_the_sprints_findings(owner_client, acme, fixes):
    sprint = Sprint.objects.create(
        project=acme, name="S1", start=date(2026, 1, 1), end=date(2026, 1, 14), capacity=4
    )
    Finding.objects.filter(project=acme, number__in=[1, 4]).update(sprint=sprint)
    text = owner_client.get(f"/p/ACME/report.md?sprint={sprint.pk}").content.decode()
    assert text.startswith("# ACME status report: S1 (2026-01-01 to 2026-01-14)\n")
    assert "- Planned: 2 of capacity 4" in text
    assert "**ACME-1**" in text and "**ACME-4**" in text and "**ACME-5**" not in text
    assert owner_client.get("/p/ACME/report.md?sprint=x").status_code == 404
    assert owner_client.get("/p/ACME/report.pdf").status_code == 404


def test_an_outsider_gets_no_report(client_for, acme, outsider):
    assert client_for(outsider).get("/p/ACME/report.csv").status_code == 404


def test_the_markdown_lists_the_first_fixes_in_report_order_across_statuses(owner_client, acme):
    from findings.selectors.reports import MARKDOWN_FIXES

    cache.clear()
    make_findings(acme, 120, severity=Severity.HIGH, status="verified")
    make_findings(acme, 60, severity=Severity.CRITICAL, status="signed_off")
    make_findings(acme, 40, severity=Severity.HIGH, status="claimed")
    make_findings(acme, 30, severity=Severity.CRITICAL, status="open")
    fixed_like = Finding.objects.filter(project=acme).exclude(status="open")
    expected = [
        f"ACME-{n}"
        for n in fixed_like.order_by("severity", "number").values_list("number", flat=True)[
            :MARKDOWN_FIXES
        ]
    ]

    text = owner_client.get("/p/ACME/report.md").content.decode()

    fixes_part = text[: text.index("## Open findings by severity")]
    listed = [
        line.split("**")[1] for line in fixes_part.splitlines() if line.startswith("- **ACME-")
    ]
    assert listed == expected
    assert f"The first {MARKDOWN_FIXES} fixes are listed; the CSV has all of them." in text
    csv_text = b"".join(owner_client.get("/p/ACME/report.csv").streaming_content).decode()
    sections = [row["section"] for row in csv.DictReader(io.StringIO(csv_text))]
    assert sections == ["fix"] * 220 + ["open"] * 30
