"""Ingestion rules beyond one tool: every corpus sample end to end, stable paths, scanned scope,
secrets, encodings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from findings.models import Finding, Project, Report, Sighting
from findings.services.ingest import IngestError, Options, ingest_file
from scanners.base import RawFinding
from scanners.files import read_kept
from scanners.registry import HEAD_BYTES, detect, names_no_tool, parser_for
from tests.conftest import CORPUS, run_tool

pytestmark = pytest.mark.django_db

SUPPORTED = {"sarif", "bandit", "semgrep", "pip_audit", "gitleaks", "ruff"}
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md")


def _format_of(path: Path) -> str | None:
    return detect(path.read_bytes()[:HEAD_BYTES])


def _parsed(path: Path, fmt: str) -> list[RawFinding]:
    with path.open("rb") as handle:
        return [
            x for x in parser_for(fmt).parse(handle, source=path.name) if isinstance(x, RawFinding)
        ]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_sample_imports_whole_or_fails_clearly(path):
    fmt = _format_of(path)
    if fmt is None:
        with pytest.raises(IngestError) as caught:
            ingest_file(path, project_key="CORPUS")
        assert path.name in str(caught.value)
        assert "unknown report format" in str(caught.value) or "expected" in str(caught.value)
        assert not Report.objects.exists()
        return
    assert fmt in SUPPORTED
    options = Options()
    if names_no_tool(fmt, path.read_bytes()[:HEAD_BYTES]):
        # null, [] or empty results: refused unless the format is given (it could be any tool)
        with pytest.raises(IngestError, match=f"{path.name}: .*names no tool"):
            ingest_file(path, project_key="CORPUS")
        options = Options(format=fmt)
    expected = _parsed(path, fmt)
    result = ingest_file(path, project_key="CORPUS", options=options)
    report = Report.objects.get(pk=result.report)
    assert report.state == "done" and report.format == fmt
    assert report.total == len(expected)
    assert Sighting.objects.filter(report=report).count() == len(expected)
    assert result.suppressed == sum(1 for f in expected if f.suppressed)
    assert result.new + Finding.objects.filter(status="suppressed").count() == len(expected)
    assert not Finding.objects.filter(path__startswith="file:").exists()


def test_a_malformed_corpus_sample_names_the_file_and_changes_nothing():
    path = CORPUS / "auditjs" / "empty_with_error.json"
    with pytest.raises(IngestError, match="empty_with_error.json: unknown report format"):
        ingest_file(path, project_key="CORPUS")
    assert not Project.objects.exists()


def test_sarif_suppressions_are_recorded_as_suppressed_not_open():
    path = CORPUS / "sarif" / "suppression_test.sarif"
    result = ingest_file(path, project_key="SUP")
    assert result.suppressed == 3
    assert Finding.objects.filter(status="suppressed").count() == 3
    assert Finding.objects.filter(status="open").count() == result.new == 2


def sarif(results: list[dict], *, base: str | None = None, root_uri: str | None = None) -> bytes:
    run = {"tool": {"driver": {"name": "CodeQL", "rules": [{"id": "py/sql"}]}}, "results": results}
    if base:
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": base}}
    if root_uri:
        run["invocations"] = [{"executionSuccessful": True, "workingDirectory": {"uri": root_uri}}]
    return json.dumps(
        {
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [run],
        }
    ).encode()


def result(uri: str, line: int, *, base_id: str | None = None) -> dict:
    location = {
        "artifactLocation": {"uri": uri},
        "region": {"startLine": line, "snippet": {"text": "cursor.execute(q % x)"}},
    }
    if base_id:
        location["artifactLocation"]["uriBaseId"] = base_id
    return {
        "ruleId": "py/sql",
        "message": {"text": "SQL built from input"},
        "locations": [{"physicalLocation": location}],
    }


def test_the_same_file_gets_the_same_path_in_every_report(tmp_path):
    a = tmp_path / "a.sarif"
    a.write_bytes(sarif([result("file:///home/ci/work/lily/src/db.py", 10)]))
    b = tmp_path / "b.sarif"
    b.write_bytes(sarif([result("src/db.py", 12, base_id="SRCROOT")], base="file:///builds/lily/"))
    c = tmp_path / "c.sarif"
    c.write_bytes(
        sarif(
            [result("file:///home/ci/work/lily/src/db.py", 14), result("file:///elsewhere/x.py", 1)]
        )
    )
    ingest_file(a, project_key="LILY", options=Options(root="/home/ci/work/lily"))
    ingest_file(b, project_key="LILY")
    third = ingest_file(c, project_key="LILY")  # no --root: the remembered one
    paths = set(Finding.objects.values_list("path", flat=True))
    assert paths == {"src/db.py", "/elsewhere/x.py"}
    assert Finding.objects.filter(path="src/db.py").count() == 1
    assert "could not be made repo-relative" in third.note


def test_a_scan_of_part_of_the_tree_closes_nothing_outside_it(git_repo, tmp_path):
    git_repo.write("app/server.py", "import subprocess\nsubprocess.call('ls', shell=True)\n")
    git_repo.write("lib/store.py", "import pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n")
    sha = git_repo.commit("both")
    whole = tmp_path / "whole.json"
    whole.write_text(run_tool("bandit", "-q", "-r", ".", "-f", "json", cwd=git_repo.path))
    part = tmp_path / "part.json"
    part.write_text(run_tool("bandit", "-q", "-r", "lib", "-f", "json", cwd=git_repo.path))
    ingest_file(whole, project_key="PART", options=Options(commit=sha))
    second = ingest_file(part, project_key="PART", options=Options(commit=sha))
    assert second.fixed == 0
    assert not Finding.objects.exclude(status="open").exists()


def test_gitleaks_secrets_are_never_stored(tmp_path):
    secret = "AKIAIOSFODNN7EXAMPLE1234"
    report = tmp_path / "leaks.json"
    report.write_text(
        json.dumps(
            [
                {
                    "Description": "AWS Access Key",
                    "StartLine": 3,
                    "EndLine": 3,
                    "StartColumn": 9,
                    "EndColumn": 32,
                    "Match": f"aws_key={secret}",
                    "Secret": secret,
                    "File": "config.py",
                    "SymlinkFile": "",
                    "Commit": "a" * 40,
                    "Entropy": 4.2,
                    "Author": "Dev",
                    "Email": "dev@example.com",
                    "Date": "2024-01-01T00:00:00Z",
                    "Message": "add config",
                    "Tags": [],
                    "RuleID": "aws-access-token",
                    "Fingerprint": f"{'a' * 40}:config.py:aws-access-token:3",
                }
            ]
        )
    )
    result = ingest_file(report, project_key="LEAK")
    stored = read_kept(Path(Report.objects.get(pk=result.report).stored_path)).decode()
    assert secret not in stored
    for finding in Finding.objects.all():
        assert secret not in json.dumps(
            [finding.title, finding.message, finding.snippet, finding.extra]
        )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_reports_in_other_unicode_encodings_are_read(tmp_path, encoding):
    text = (CORPUS / "bandit" / "one_vuln.json").read_text()
    path = tmp_path / "bandit.json"
    path.write_bytes(text.encode(encoding))
    result = ingest_file(path, project_key="ENC")
    assert result.new == 1 and result.format == "bandit"
