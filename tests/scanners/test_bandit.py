"""Bandit's native JSON: corpus reports, real bandit output, golden samples, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanners.base import ParseError, RawFinding, ReportMeta
from scanners.formats import bandit
from tests.conftest import CORPUS, ROOT, run_tool
from tests.scanners.memory import assert_memory_flat

SAMPLES = ROOT / "tests" / "samples" / "bandit"

# Finding counts as stated in the corpus MANIFEST.md.
CORPUS_COUNTS = {
    "dd.json": 47,
    "dd2.json": 165,
    "many_vulns.json": 214,
    "no_vuln.json": 0,
    "one_vuln.json": 1,
}


def parse_bytes(data: bytes) -> list[RawFinding | ReportMeta]:
    return list(bandit.parse(io.BytesIO(data), source="bandit.json"))


def expected_from(path: Path) -> list[RawFinding | ReportMeta]:
    rows = json.loads(path.read_text())
    return [
        RawFinding(**row) if row.pop("kind") == "finding" else ReportMeta(**row) for row in rows
    ]


def result(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "filename": "app.py",
        "line_number": 3,
        "line_range": [3],
        "test_id": "B101",
        "test_name": "assert_used",
        "issue_severity": "LOW",
        "issue_confidence": "HIGH",
        "issue_text": "Use of assert detected.",
        "code": "2 def f():\n3     assert x\n4 \n",
    }
    base.update(overrides)
    return base


def report(*results: dict[str, object]) -> bytes:
    return json.dumps({"errors": [], "metrics": {}, "results": list(results)}).encode()


@pytest.mark.parametrize("name", sorted(CORPUS_COUNTS))
def test_every_corpus_report_parses_with_the_manifest_count(name: str) -> None:
    path = CORPUS / "bandit" / name
    with path.open("rb") as stream:
        parsed = list(bandit.parse(stream, source=str(path)))
    findings = [item for item in parsed if isinstance(item, RawFinding)]
    metas = [item for item in parsed if isinstance(item, ReportMeta)]
    assert len(findings) == CORPUS_COUNTS[name]
    assert len(metas) == 1
    assert all(f.severity in ("high", "medium", "low", "info") for f in findings)
    assert all(f.snippet and not f.snippet.startswith(f"{f.start_line} ") for f in findings)


def test_a_corpus_report_lists_its_scanned_files_without_the_totals() -> None:
    path = CORPUS / "bandit" / "one_vuln.json"
    meta = parse_bytes(path.read_bytes())[-1]
    assert isinstance(meta, ReportMeta)
    assert meta.scanned_paths == ["one/one.py"]
    assert meta.generated_at == "2020-12-30T10:03:39Z"


def test_real_bandit_output_is_read_with_rule_lines_severities_and_snippets(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.py").write_text(
        "import subprocess\n"
        "\n"
        "\n"
        "def run(cmd):\n"
        "    subprocess.call(cmd, shell=True)\n"
        "    return eval(cmd)\n"
        "\n"
        "\n"
        "def check(x):\n"
        "    try:\n"
        "        return x.ok\n"
        "    except Exception:\n"
        "        pass\n"
    )
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    output = run_tool("bandit", "-f", "json", "-q", "-r", ".", cwd=tmp_path)

    parsed = parse_bytes(output.encode())
    findings = {f.rule_id: f for f in parsed if isinstance(f, RawFinding)}
    meta = parsed[-1]

    assert set(findings) == {"B404", "B602", "B307", "B110"}
    assert (findings["B602"].start_line, findings["B602"].severity) == (5, "high")
    assert findings["B602"].snippet == "    subprocess.call(cmd, shell=True)"
    assert findings["B602"].cwe == "CWE-78"
    assert (findings["B307"].start_line, findings["B307"].severity) == (6, "medium")
    assert findings["B307"].snippet == "    return eval(cmd)"
    assert findings["B307"].title.startswith("Use of possibly insecure function")
    assert (findings["B110"].start_line, findings["B110"].end_line) == (12, 13)
    assert findings["B110"].snippet == "    except Exception:\n        pass"
    assert findings["B110"].severity == "low"
    assert findings["B404"].start_column == 1
    assert isinstance(meta, ReportMeta)
    assert meta.scanned_paths == ["./app.py"]
    assert meta.errors == ["./broken.py: syntax error while parsing AST from file"]


@pytest.mark.parametrize("name", ["context_and_errors", "before_cwe_fields"], ids=lambda name: name)
def test_golden_sample_parses_exactly_as_expected(name: str) -> None:
    data = (SAMPLES / f"{name}.json").read_bytes()
    assert parse_bytes(data) == expected_from(SAMPLES / f"{name}.expected.json")


@pytest.mark.parametrize(
    ("severity", "confidence", "expected"),
    [
        ("HIGH", "HIGH", "high"),
        ("HIGH", "MEDIUM", "high"),
        ("HIGH", "LOW", "medium"),
        ("MEDIUM", "HIGH", "medium"),
        ("MEDIUM", "MEDIUM", "medium"),
        ("MEDIUM", "LOW", "low"),
        ("LOW", "HIGH", "low"),
        ("LOW", "MEDIUM", "low"),
        ("LOW", "LOW", "info"),
        ("UNDEFINED", "HIGH", "low"),
    ],
)
def test_severity_weighs_bandit_severity_by_confidence(
    severity: str, confidence: str, expected: str
) -> None:
    data = report(result(issue_severity=severity, issue_confidence=confidence))
    assert parse_bytes(data)[0].severity == expected


def test_snippet_keeps_only_flagged_lines_even_past_line_nine() -> None:
    code = "8 a = 1\n9 b = (\n10     2)\n11 c = 3\n"
    finding = parse_bytes(report(result(line_number=9, line_range=[9, 10], code=code)))[0]
    assert finding.snippet == "b = (\n    2)"


def test_generic_blacklist_name_is_replaced_by_the_issue_text_as_title() -> None:
    data = report(result(test_id="B311", test_name="blacklist", issue_text="Weak random."))
    assert parse_bytes(data)[0].title == "Weak random."


def test_head_made_only_of_metrics_is_recognised() -> None:
    head = (CORPUS / "bandit" / "dd.json").read_bytes()[: 64 * 1024]
    assert b'"results"' not in head
    assert bandit.sniff(head)


def test_head_with_a_bom_and_cut_mid_token_is_recognised() -> None:
    data = (CORPUS / "bandit" / "one_vuln.json").read_bytes()
    assert bandit.sniff(b"\xef\xbb\xbf" + data[:900])


def test_a_semgrep_report_is_not_taken_for_bandit() -> None:
    assert not bandit.sniff((CORPUS / "semgrep" / "many_vulns.json").read_bytes())


def test_report_with_a_bom_parses() -> None:
    assert len(parse_bytes(b"\xef\xbb\xbf" + report(result()))) == 2


def test_truncated_report_names_the_result_it_stops_in() -> None:
    data = report(*[result(line_number=n, line_range=[n]) for n in range(1, 20)])
    cut = data[: data.index(b'"line_number": 14')]
    with pytest.raises(ParseError) as caught:
        parse_bytes(cut)
    assert "the file ends early, inside results[13]" in str(caught.value)
    assert caught.value.source == "bandit.json"


def test_invalid_utf8_names_the_byte() -> None:
    data = report(result(issue_text="cafe")).replace(b"cafe", b"caf\xe9")
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    offset = data.index(b"\xe9")
    assert caught.value.where == f"byte {offset}"
    assert "invalid UTF-8" in caught.value.message


def test_wrong_top_level_type_says_what_was_expected() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(b"[]")
    assert "expected a bandit JSON report" in caught.value.message
    assert "found a list" in caught.value.message


def test_result_missing_a_required_key_names_the_key() -> None:
    bad = result()
    del bad["issue_confidence"]
    with pytest.raises(ParseError) as caught:
        parse_bytes(report(result(), bad))
    assert caught.value.where == "results[1]"
    assert "`issue_confidence`" in caught.value.message


def test_line_number_written_as_text_is_refused_with_its_place() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(report(result(line_number="ten")))
    assert caught.value.where == "results[0].line_number"
    assert 'should be a whole number, found text "ten"' in caught.value.message


def test_unknown_severity_word_is_refused() -> None:
    with pytest.raises(ParseError, match="HIGH, MEDIUM, LOW or UNDEFINED"):
        parse_bytes(report(result(issue_severity="SEVERE")))


def test_object_without_results_is_refused() -> None:
    with pytest.raises(ParseError, match="no `results` list"):
        parse_bytes(b'{"errors": [], "metrics": {}}')


def test_memory_stays_flat_as_the_report_grows(tmp_path: Path) -> None:
    def write(path: Path, count: int) -> None:
        with path.open("w") as out:
            out.write('{"errors": [], "metrics": {}, "results": [')
            out.write(",".join(json.dumps(result(line_number=n)) for n in range(1, count + 1)))
            out.write("]}")

    assert_memory_flat(bandit, write, tmp_path)
