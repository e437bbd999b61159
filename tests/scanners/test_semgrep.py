"""Semgrep's native JSON: corpus reports, golden samples, placeholders, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanners.base import ParseError, RawFinding, ReportMeta
from scanners.formats import semgrep
from tests.conftest import CORPUS, ROOT, run_tool
from tests.scanners.memory import assert_memory_flat

SAMPLES = ROOT / "tests" / "samples" / "semgrep"

# Finding counts as stated in the corpus MANIFEST.md.
CORPUS_COUNTS = {
    "close_old_findings_report_line31.json": 1,
    "close_old_findings_report_second_run_line24.json": 1,
    "close_old_findings_report_third_run_different_unique_id.json": 1,
    "cwe_list.json": 1,
    "empty.json": 0,
    "fingerprint_test.json": 2,
    "high-medium-low-severities.json": 3,
    "issue_8435.json": 1,
    "many_findings.json": 3,
    "many_vulns.json": 48,
    "multiple_cwes_fabricated.json": 1,
    "one_finding.json": 1,
    "repeated_findings.json": 2,
    "semgrep_version_1_30_0_line_26.json": 5,
    "semgrep_version_1_30_0_line_27.json": 5,
}
# Not semgrep CLI output: other Semgrep products' API responses.
NOT_CLI = [
    CORPUS / "semgrep" / "sca-deployments-vulns.json",
    CORPUS / "semgrep_pro" / "multiple_cwes_fabricated.json",
    CORPUS / "semgrep_pro" / "no_vuln.json",
    CORPUS / "semgrep_pro" / "one_vuln.json",
]


def parse_bytes(data: bytes) -> list[RawFinding | ReportMeta]:
    return list(semgrep.parse(io.BytesIO(data), source="semgrep.json"))


def parse_corpus(name: str) -> list[RawFinding | ReportMeta]:
    return parse_bytes((CORPUS / "semgrep" / name).read_bytes())


def expected_from(path: Path) -> list[RawFinding | ReportMeta]:
    rows = json.loads(path.read_text())
    return [
        RawFinding(**row) if row.pop("kind") == "finding" else ReportMeta(**row) for row in rows
    ]


def result(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "check_id": "rules.no-eval",
        "path": "app.py",
        "start": {"line": 4, "col": 5, "offset": 40},
        "end": {"line": 4, "col": 15, "offset": 50},
        "extra": {"message": "no eval", "severity": "ERROR", "metadata": {}, "lines": "eval(x)"},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize("name", sorted(CORPUS_COUNTS))
def test_every_corpus_cli_report_parses_with_the_manifest_count(name: str) -> None:
    parsed = parse_corpus(name)
    findings = [item for item in parsed if isinstance(item, RawFinding)]
    assert len(findings) == CORPUS_COUNTS[name]
    assert sum(isinstance(item, ReportMeta) for item in parsed) == 1
    assert semgrep.sniff((CORPUS / "semgrep" / name).read_bytes()[: 64 * 1024])


def test_real_semgrep_output_with_local_rules_is_read(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(
        "rules:\n"
        "  - id: no-eval\n"
        "    pattern: eval(...)\n"
        "    message: Do not eval untrusted input\n"
        "    languages: [python]\n"
        "    severity: ERROR\n"
        "    metadata:\n"
        "      cwe: 'CWE-95: Eval Injection'\n"
        "  - id: shell-true\n"
        "    pattern: subprocess.call(..., shell=True)\n"
        "    message: Avoid shell=True\n"
        "    languages: [python]\n"
        "    severity: WARNING\n"
    )
    (tmp_path / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n"
        "    subprocess.call(cmd, shell=True)\n    return eval(cmd)\n"
    )
    (tmp_path / "clean.py").write_text("VALUE = 1\n")
    output = run_tool(
        "semgrep",
        "scan",
        "--config",
        "rules.yaml",
        "--json",
        "--metrics=off",
        "--disable-version-check",
        "app.py",
        "clean.py",
        cwd=tmp_path,
    )

    parsed = parse_bytes(output.encode())
    findings = [f for f in parsed if isinstance(f, RawFinding)]
    meta = parsed[-1]

    assert sorted((f.rule_id, f.start_line, f.severity) for f in findings) == [
        ("no-eval", 6, "high"),
        ("shell-true", 5, "medium"),
    ]
    assert next(f.cwe for f in findings if f.rule_id == "no-eval") == "CWE-95"
    assert isinstance(meta, ReportMeta)
    assert sorted(meta.scanned_paths or []) == ["app.py", "clean.py"]
    assert meta.tool_version


@pytest.mark.parametrize("path", NOT_CLI, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_other_semgrep_products_are_refused_by_sniff(path: Path) -> None:
    assert not semgrep.sniff(path.read_bytes()[: 64 * 1024])


def test_supply_chain_page_forced_as_semgrep_says_what_it_is() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes((CORPUS / "semgrep" / "sca-deployments-vulns.json").read_bytes())
    assert "Semgrep Supply Chain API page, not `semgrep --json` output" in caught.value.message


def test_login_placeholders_give_no_snippet_and_no_fingerprint() -> None:
    findings = [f for f in parse_corpus("fingerprint_test.json") if isinstance(f, RawFinding)]
    assert [(f.snippet, f.fingerprint) for f in findings] == [("", ""), ("", "")]


def test_the_same_finding_keeps_its_fingerprint_when_it_moves() -> None:
    first = parse_corpus("close_old_findings_report_line31.json")[0]
    moved = parse_corpus("close_old_findings_report_second_run_line24.json")[0]
    changed = parse_corpus("close_old_findings_report_third_run_different_unique_id.json")[0]
    assert (first.start_line, moved.start_line) == (31, 24)
    assert first.fingerprint == moved.fingerprint != ""
    assert changed.fingerprint != first.fingerprint


def test_cwe_is_read_from_a_string_and_from_a_list() -> None:
    assert parse_corpus("one_finding.json")[0].cwe == "CWE-696"
    several = parse_corpus("multiple_cwes_fabricated.json")[0]
    assert several.cwe == "CWE-327"
    assert several.extra["cwes"] == ["CWE-327", "CWE-696"]


def test_new_severity_names_are_mapped() -> None:
    findings = parse_corpus("high-medium-low-severities.json")
    assert {f.severity for f in findings if isinstance(f, RawFinding)} == {"low"}
    assert semgrep.severity_for("CRITICAL") == "critical"
    assert semgrep.severity_for("HIGH") == "high"
    assert semgrep.severity_for("MEDIUM") == "medium"
    assert semgrep.severity_for("INVENTORY") == "info"


def test_scanned_paths_include_every_file_with_a_result() -> None:
    meta = parse_corpus("high-medium-low-severities.json")[-1]
    assert isinstance(meta, ReportMeta)
    # paths.scanned is [] in this report, yet three results name one file
    assert meta.scanned_paths == [
        "/Users/user.example/git/company/full-codebase/company/lead-magnet/src/templates/"
        "base.html.twig"
    ]
    assert meta.tool_version == "1.84.1"


def test_older_report_without_paths_has_unknown_scope() -> None:
    meta = parse_corpus("one_finding.json")[-1]
    assert isinstance(meta, ReportMeta)
    assert meta.scanned_paths is None


@pytest.mark.parametrize(
    "name", ["login_placeholders", "ignored_and_legacy"], ids=lambda name: name
)
def test_golden_sample_parses_exactly_as_expected(name: str) -> None:
    data = (SAMPLES / f"{name}.json").read_bytes()
    assert parse_bytes(data) == expected_from(SAMPLES / f"{name}.expected.json")


def test_head_cut_before_the_results_is_recognised_by_its_paths() -> None:
    scanned = [f"src/module_{n}.py" for n in range(5_000)]
    data = json.dumps({"errors": [], "paths": {"scanned": scanned}, "results": []}).encode()
    assert semgrep.sniff(data[: 64 * 1024])


def test_bandit_report_is_not_taken_for_semgrep() -> None:
    assert not semgrep.sniff((CORPUS / "bandit" / "no_vuln.json").read_bytes())


def test_truncated_report_names_the_result_it_stops_in() -> None:
    data = json.dumps({"results": [result() for _ in range(6)], "errors": []}).encode()
    cut = data[: data.index(b'"check_id"', 600) + 5]
    with pytest.raises(ParseError) as caught:
        parse_bytes(cut)
    index = data[:600].count(b'"check_id"')
    assert f"the file ends early, inside results[{index}]" in caught.value.message


def test_wrong_top_level_type_says_what_was_expected() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(b'"results"')
    assert "expected a semgrep JSON report" in caught.value.message
    assert "found text" in caught.value.message


def test_result_missing_extra_names_the_key() -> None:
    bad = result()
    del bad["extra"]
    with pytest.raises(ParseError) as caught:
        parse_bytes(json.dumps({"results": [bad], "errors": []}).encode())
    assert caught.value.where == "results[0]"
    assert "`extra`" in caught.value.message


def test_line_written_as_text_is_refused_with_its_place() -> None:
    bad = result(start={"line": "ten", "col": 1})
    with pytest.raises(ParseError) as caught:
        parse_bytes(json.dumps({"results": [result(), bad], "errors": []}).encode())
    assert caught.value.where == "results[1].start.line"
    assert 'should be a whole number, found text "ten"' in caught.value.message


def test_unknown_severity_is_refused_with_the_accepted_names() -> None:
    bad = result(extra={"message": "m", "severity": "SEVERE"})
    with pytest.raises(ParseError) as caught:
        parse_bytes(json.dumps({"results": [bad]}).encode())
    assert caught.value.where == "results[0].extra.severity"
    assert "ERROR, WARNING, INFO" in caught.value.message


def test_invalid_utf8_names_the_byte() -> None:
    data = json.dumps({"results": [result()]}).encode().replace(b"no eval", b"no \xc3(val")
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    offset = data.index(b"\xc3")
    assert caught.value.where == f"byte {offset}"


def test_two_documents_in_one_file_are_refused() -> None:
    with pytest.raises(ParseError, match="expected one JSON document"):
        parse_bytes(b'{"results": [], "errors": []}\n{"results": []}')


def test_memory_stays_flat_as_the_report_grows(tmp_path: Path) -> None:
    def write(path: Path, count: int) -> None:
        item = json.dumps(result())
        path.write_text('{"results": [' + ",".join([item] * count) + '], "errors": []}')

    assert_memory_flat(semgrep, write, tmp_path)
