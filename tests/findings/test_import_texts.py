"""Texts a report hands the database: a NUL anywhere is stored as U+FFFD, and a text longer
than its column is cut to fit (identities stay distinct) with a note on the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from findings.models import Finding, Report, ReportScope, Rule
from findings.services.ingest import Options, ingest_file
from scanners.normalise import LIMITS

pytestmark = pytest.mark.django_db

NUL = "\x00"


def sarif(
    *,
    tool: str = "probe",
    version: str = "1.0",
    rule: str = "R1",
    category: str = "",
    uri: str = "src/app.py",
    message: str = "a problem",
    branch: str = "main",
    commit: str = "a" * 40,
    error: str = "",
    results: int = 1,
) -> bytes:
    run: dict = {
        "tool": {
            "driver": {
                "name": tool,
                "version": version,
                "rules": [{"id": rule, "name": f"rule {rule}", "properties": {"tags": [rule]}}],
            }
        },
        "versionControlProvenance": [
            {"repositoryUri": "https://example.com/r", "revisionId": commit, "branch": branch}
        ],
        "results": [
            {
                "ruleId": rule,
                "level": "error",
                "message": {"text": message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f"{uri}{n}" if n else uri},
                            "region": {"startLine": 3, "snippet": {"text": f"eval(x{n})"}},
                        }
                    }
                ],
            }
            for n in range(results)
        ],
    }
    if category:
        run["automationDetails"] = {"id": f"{category}/1"}
    if error:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": error}}],
            }
        ]
    return json.dumps({"version": "2.1.0", "runs": [run]}).encode()


def ingest(
    tmp_path: Path, data: bytes, name: str = "r.sarif", filename: str = "", **options
) -> Report:
    path = tmp_path / name
    path.write_bytes(data)
    result = ingest_file(path, project_key="TXT", filename=filename, options=Options(**options))
    return Report.objects.get(pk=result.report)


def test_a_nul_in_any_text_of_a_report_is_stored_as_the_replacement_character(tmp_path):
    report = ingest(
        tmp_path,
        sarif(
            tool=f"pro{NUL}be",
            version=f"1{NUL}0",
            rule=f"R{NUL}1",
            category=f"cat{NUL}egory",
            uri=f"src/a{NUL}pp.py",
            message=f"bad{NUL}thing",
            branch=f"ma{NUL}in",
            commit=f"abc{NUL}def",
            error=f"crash{NUL}ed",
        ),
        filename=f"nul{NUL}.sarif",
    )

    assert report.state == Report.State.DONE
    assert (report.tool, report.tool_version) == ("pro\ufffdbe", "1\ufffd0")
    assert (report.branch, report.commit) == ("ma\ufffdin", "abc\ufffddef")
    assert report.filename == "nul\ufffd.sarif"
    assert "crash\ufffded" in report.note
    finding = Finding.objects.get()
    assert (finding.tool, finding.rule_id, finding.category) == (
        "pro\ufffdbe",
        "R\ufffd1",
        "cat\ufffdegory",
    )
    assert (finding.path, finding.branch) == ("src/a\ufffdpp.py", "ma\ufffdin")
    assert finding.message == "bad\ufffdthing"
    assert ReportScope.objects.get(report=report).tool == "pro\ufffdbe"
    assert Rule.objects.get().rule_id == "R\ufffd1"


def test_a_nul_in_the_branch_given_on_the_command_line_is_stored_as_the_replacement(tmp_path):
    report = ingest(tmp_path, sarif(), branch=f"fe{NUL}ature")

    assert report.branch == "fe\ufffdature" == Finding.objects.get().branch


def test_a_nul_quoted_in_an_error_message_is_stored_with_the_failed_report(tmp_path):
    from findings.services.ingest import IngestError

    path = tmp_path / "v.sarif"
    path.write_bytes(json.dumps({"version": f"2.1{NUL}", "runs": []}).encode())

    with pytest.raises(IngestError) as caught:
        ingest_file(path, project_key="TXT", options=Options(format="sarif"))

    assert NUL not in str(caught.value) and "2.1\ufffd" in str(caught.value)


LONG = {
    "tool": ("tool", 201),
    "tool_5mb": ("tool", 5_000_000),
    "version": ("version", 101),
    "rule": ("rule", 301),
    "category": ("category", 201),
    "uri": ("uri", 1001),
    "branch": ("branch", 201),
    "commit": ("commit", 64),
}


@pytest.mark.parametrize("case", LONG)
def test_every_bounded_text_is_cut_to_its_column_with_a_note(tmp_path, case):
    argument, length = LONG[case]
    report = ingest(tmp_path, sarif(**{argument: "x" * length}))

    assert report.state == Report.State.DONE
    finding = Finding.objects.get()
    stored = {
        "tool": (report.tool, finding.tool),
        "version": (report.tool_version,),
        "rule": (finding.rule_id, Rule.objects.get().rule_id),
        "category": (finding.category, ReportScope.objects.get(report=report).category),
        "uri": (finding.path, finding.sightings.get().path),
        "branch": (report.branch, finding.branch),
        "commit": (report.commit,),
    }[argument]
    field = {"version": "tool_version", "rule": "rule_id", "uri": "path"}.get(argument, argument)
    assert all(len(value) == LIMITS[field] for value in stored), [len(v) for v in stored]
    words = field.replace("_", " ")
    if field in ("tool_version", "branch", "commit"):  # the report's own
        assert f"the report's {words} (cut to {LIMITS[field]:,} characters)" in report.note
    else:
        assert f"{words} (1 cut to {LIMITS[field]:,} characters)" in report.note


def test_a_branch_too_long_given_on_the_command_line_is_cut_with_a_note(tmp_path):
    report = ingest(tmp_path, sarif(), branch="b" * 300)

    assert len(report.branch) == 200 and "the report's branch (cut to 200" in report.note


def test_long_paths_and_rules_that_share_their_start_stay_distinct_findings(tmp_path):
    long = "d/" * 600
    report = ingest(tmp_path, sarif(uri=long, rule="r" * 400, results=3))

    paths = set(Finding.objects.values_list("path", flat=True))
    assert len(paths) == 3 and all(len(p) == 1000 for p in paths)
    assert "path (3 cut" in report.note and "rule id" in report.note
    # The same report again (other bytes) finds the same findings.
    again = ingest(tmp_path, sarif(uri=long, rule="r" * 400, results=3) + b" ", name="b.sarif")
    assert (again.new, again.still_open) == (0, 3)


def test_long_texts_of_a_native_report_are_cut_with_a_note(tmp_path):
    bandit = {
        "results": [
            {
                "test_id": "B" * 400,
                "test_name": "t" * 600,
                "issue_severity": "HIGH",
                "issue_confidence": "HIGH",
                "issue_text": "x" * 30_000,
                "filename": "f/" * 700 + "a.py",
                "line_number": 1,
                "code": "1 eval(x)\n",
                "issue_cwe": {"id": 78, "link": ""},
            }
        ],
        "errors": [],
    }
    report = ingest(tmp_path, json.dumps(bandit).encode(), name="b.json")

    finding = Finding.objects.get()
    assert (len(finding.rule_id), len(finding.path), len(finding.message)) == (300, 1000, 20000)
    for words in ("rule id (1 cut", "path (1 cut", "message (1 cut"):
        assert words in report.note
