"""Golden files: each sample document's full extraction equals the expected JSON beside it.

The expected JSON was checked field by field against the document itself; the targeted
tests below restate what a reviewer would check first in each of the four real seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanners.documents import Extraction, extract
from scanners.documents.text import decode

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "documents"
DOCUMENTS = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".md", ".txt"))


def _read(name: str) -> Extraction:
    path = SAMPLES / name
    return extract(path.read_bytes(), source=path.name)


def test_there_are_four_seeds_and_at_least_eight_own_documents() -> None:
    names = [p.name for p in DOCUMENTS]
    assert len([n for n in names if n.startswith("seed_")]) == 4
    assert len([n for n in names if n.startswith("own_")]) >= 8


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_extraction_matches_the_expected_json(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    result = extract(path.read_bytes(), source=path.name).to_dict()
    assert result == expected


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_non_empty_line_is_placed_or_listed_as_unparsed(path: Path) -> None:
    result = extract(path.read_bytes(), source=path.name)
    text = decode(path.read_bytes(), source=path.name).text
    unparsed_lines = set()
    for passage in result.unparsed:
        count = passage.text.count("\n") + 1
        unparsed_lines.update(range(passage.line, passage.line + count))
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            assert number in result.accounted or number in unparsed_lines, (number, line)
    # Every unparsed passage quotes the document's own lines.
    lines = text.split("\n")
    for passage in result.unparsed:
        for offset, quoted in enumerate(passage.text.split("\n")):
            assert quoted == lines[passage.line - 1 + offset].rstrip()


def test_seed_one_has_five_fixed_high_findings_with_files_lines_and_commit() -> None:
    result = _read("seed_001_handoff.txt")
    part_one = [f for f in result.findings if "Part I: Completed Functionality Fixes" in f.section]
    assert [f.ref for f in part_one] == ["1", "2", "3", "4", "5"]
    assert all(f.status == "fixed" and f.severity == "high" for f in part_one)
    assert all(f.commits == ["e4121ef"] for f in part_one)
    first = part_one[0]
    assert first.title == "Database Session Leak in Celery Tasks"
    assert [(fr.path, fr.lines) for fr in first.files] == [
        ("backend/tasks/publish_tasks.py", [[66, 66], [115, 125], [249, 250]])
    ]
    assert first.before == ["db = next(get_db())"]
    assert first.after[0].startswith("db = SessionLocal()")
    assert [fr.path for fr in part_one[3].files] == [
        "backend/auth/auth0.py",
        "backend/integrations/instagram_client.py",
    ]


def test_seed_one_has_eight_performance_issues_in_three_bands() -> None:
    result = _read("seed_001_handoff.txt")
    perf = [f for f in result.findings if "Critical Performance Issues Identified" in f.section]
    assert len(perf) == 8
    assert [f.severity_raw for f in perf] == ["HIGH SEVERITY"] * 3 + [
        "MEDIUM-HIGH SEVERITY"
    ] * 2 + ["MEDIUM SEVERITY"] * 3
    # A range of two levels is its lower bound (the labels' convention).
    assert [f.severity for f in perf] == ["high"] * 3 + ["medium"] * 5
    assert {f.status for f in perf} == {"identified", "partially_fixed"}
    partial = [f for f in perf if f.status == "partially_fixed"]
    assert [f.title for f in partial] == ["External HTTP Without Timeouts/Retries"]
    assert perf[2].files[0].lines == [[406, 406], [447, 447]]


def test_seed_one_frontend_issues_have_no_stated_severity() -> None:
    result = _read("seed_001_handoff.txt")
    frontend = [f for f in result.findings if "Frontend Performance Issues" in f.section]
    assert [f.ref for f in frontend] == ["9", "10", "11"]
    assert all(f.severity is None and f.severity_source is None for f in frontend)


def test_seed_one_roadmap_has_three_phases_and_four_health_areas() -> None:
    result = _read("seed_001_handoff.txt")
    phases = [p for p in result.phases if p.kind == "phase"]
    assert [(p.name, p.window, len(p.items)) for p in phases] == [
        ("Phase 1: Quick Wins", "1-2 weeks", 4),
        ("Phase 2: Scalability", "2-4 weeks", 4),
        ("Phase 3: Long-term", "1-2 months", 3),
    ]
    assert phases[0].items[0].done is True
    assert phases[0].items[0].text == "Add HTTP timeouts to integration clients"
    assert [(h.area, h.status) for h in result.health] == [
        ("Server Performance", "at_risk"),
        ("Task Performance", "at_risk"),
        ("Frontend Performance", "healthy"),
        ("Integration Stability", "improved"),
    ]
    assert {h.date for h in result.health} == {"2025-09-02"}
    assert result.document.repaired and result.document.encoding_repair == "cp1252"
    sprints = [p.name for p in result.phases if p.kind == "sprint"]
    assert sprints == ["Immediate Actions", "Next Sprint Priorities"]


def test_seed_two_has_five_fixes_in_app_py_with_their_line_ranges() -> None:
    result = _read("seed_002_critical_fixes.txt")
    assert result.document.status == "All 5 Critical Issues Fixed"
    assert "All 5 Critical Issues Fixed" in result.document.headline_claims
    assert [f.ref for f in result.findings] == ["Fix #1", "Fix #2", "Fix #3", "Fix #4", "Fix #5"]
    assert [f.severity for f in result.findings] == ["critical"] * 3 + ["high"] * 2
    assert all(f.severity_source == "field" and f.status == "fixed" for f in result.findings)
    assert all(len(f.before) == 1 and len(f.after) == 1 for f in result.findings)
    assert result.findings[2].files[0].path == "app.py"
    assert result.findings[2].files[0].lines == [
        [730, 733],
        [1238, 1248],
        [1353, 1370],
        [1374, 1381],
    ]
    tests = next(p for p in result.phases if p.name == "Testing Recommendations")
    assert tests.kind == "checklist"
    assert [i.text for i in tests.items][:2] == ["Event Loop Test", "Database Session Test"]
    assert tests.items[0].finding_refs == ["F1"]


def test_seed_three_is_repaired_from_mac_roman_and_every_fix_compiles() -> None:
    result = _read("seed_003_tier1_macroman.txt")
    assert result.document.encoding_repair == "mac_roman"
    assert result.document.title == "Phase 2 - Tier 1 (Critical) Fixes Applied"
    assert [f.ref for f in result.findings] == [f"Issue #{n}" for n in range(1, 7)]
    assert all(f.severity == "critical" and f.severity_source == "section" for f in result.findings)
    assert all(f.evidence == ["compiles"] for f in result.findings)
    assert result.findings[0].files[0].lines == [[145, 145], [275, 275], [299, 299]]
    assert len(result.findings[2].files) == 2
    checklist = next(p for p in result.phases if p.kind == "checklist")
    assert [i.done for i in checklist.items] == [False] * 6
    assert len(result.document.files) == 7


def test_seed_four_links_give_files_and_anchor_lines() -> None:
    result = _read("seed_004_sprint6.txt")
    assert len(result.findings) == 5
    assert all(f.status == "fixed" and f.severity == "critical" for f in result.findings)
    audit = result.findings[2]
    assert [(fr.path, fr.lines) for fr in audit.files] == [("src/audit_trail.py", [[314, 337]])]
    sqlalchemy = result.findings[4]
    assert [fr.path for fr in sqlalchemy.files] == [
        "src/models/task.py",
        "src/models/auto_approval.py",
    ]
    assert len(sqlalchemy.before) == 2 and len(sqlalchemy.after) == 2
    assert "PRODUCTION CODE 100% FUNCTIONAL" in result.document.headline_claims
    task = next(f for f in result.document.files if f.path == "src/models/task.py")
    assert task.lines == [[6, 6], [28, 28]]


def test_table_document_reads_rows_as_findings_and_health() -> None:
    result = _read("own_01_tables.md")
    assert [(f.ref, f.severity, f.status) for f in result.findings] == [
        ("SEC-01", "critical", "fixed"),
        ("SEC-02", "high", "fixed"),
        ("SEC-03", "medium", "partially_fixed"),
        ("SEC-04", "low", "identified"),
    ]
    assert result.findings[0].commits == ["9f3c2ab"]
    assert result.document.author == "Priya Raman"
    assert [(h.area, h.status) for h in result.health] == [
        ("Checkout", "stable"),
        ("Refunds", "at_risk"),
    ]


def test_nothing_recognisable_lands_entirely_in_unparsed() -> None:
    result = _read("own_08_nothing.md")
    assert result.findings == [] and result.phases == [] and result.health == []
    assert result.accounted == frozenset()
    assert "".join(u.text for u in result.unparsed).count("HDMI") == 1


def test_crlf_document_reads_like_its_lf_twin() -> None:
    path = SAMPLES / "own_07_crlf.md"
    crlf = extract(path.read_bytes(), source="crlf").to_dict()
    lf = extract(path.read_bytes().replace(b"\r\n", b"\n"), source="lf").to_dict()
    assert crlf == lf
    assert crlf["findings"][0]["before"] == ['response.set_cookie("sid", sid)']


def test_german_and_french_headings_and_fields_are_understood() -> None:
    result = _read("own_05_de_fr.md")
    assert [(f.severity, f.status) for f in result.findings] == [
        ("high", "fixed"),
        ("medium", "identified"),
        ("critical", "fixed"),
    ]
    assert result.findings[0].evidence == ["tested", "deployed"]
    assert result.phases[0].items[0].finding_refs == ["F2"]
    assert [h.status for h in result.health] == ["stable", "at_risk"]
