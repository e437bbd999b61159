"""The SARIF 2.1.0 parser: the public corpus, golden samples, bad input and detection."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

from scanners.base import ParseError, RawFinding, ReportMeta
from scanners.formats import sarif
from tests.conftest import CORPUS

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "sarif"
HEAD = 64 * 1024

# Findings per corpus file, and how many of them are suppressed. The manifest counts every
# result; ours differ only where the parser deliberately skips a result:
# - flawfinder.sarif: 54 results, one of kind "pass" (a check that passed) -> 53 findings.
# No corpus file has results with kind "notApplicable" or baselineState "absent".
EXPECTED = {
    "sarif/DefectDojo_django-DefectDojo__2020-12-11_13 42 10__export.sarif": (510, 0),
    "sarif/SuppressionTestCurrent.sarif": (4, 3),
    "sarif/appendix_k.sarif": (1, 1),
    "sarif/appendix_k1.sarif": (0, 0),
    "sarif/appendix_k1_double.sarif": (0, 0),
    "sarif/appendix_k2.sarif": (1, 0),
    "sarif/appendix_k3.sarif": (1, 0),
    "sarif/appendix_k4.sarif": (1, 1),
    "sarif/bash-report-fabricated-no-internal-dupes-subset.sarif": (4, 0),
    "sarif/bash-report-fabricated-no-internal-dupes.sarif": (5, 0),
    "sarif/bash-report-subset-same-hash-code-same-unique-id.sarif": (4, 0),
    "sarif/bash-report.sarif": (27, 0),
    "sarif/blackduck_nested_fingerprints.sarif": (5, 0),
    "sarif/codeQL-output.sarif": (72, 0),
    "sarif/cxf-3.4.6.sarif": (22, 0),
    "sarif/dependency_check.sarif": (13, 0),
    "sarif/dockle_0_3_15.sarif": (4, 0),
    "sarif/flawfinder.sarif": (53, 0),
    "sarif/gitleaks_7.5.0.sarif": (8, 0),
    "sarif/issue_10191.json": (77, 0),
    "sarif/mobsfscan.json": (9, 0),
    "sarif/njsscan.sarif": (2, 0),
    "sarif/no_runs.sarif": (0, 0),
    "sarif/semgrepowasp-benchmark-sample.sarif": (1768, 0),
    "sarif/spotbugs.sarif": (56, 0),
    "sarif/suppression_test.sarif": (5, 3),
    "sarif/taint-python-report.sarif": (11, 0),
    # Snyk Code writes SARIF; the corpus files it under snyk/ and snyk_code/.
    "snyk/snykcode_issue_9270.json": (39, 0),
    "snyk_code/single_project_many_vulns.json": (206, 0),
    "snyk_code/snykcode_issue_9270.json": (39, 0),
}
SKIPPED_BY_DESIGN = {"sarif/flawfinder.sarif": 1}


def _manifest() -> dict[str, tuple[str, int]]:
    """file -> (format column, findings column) from the corpus manifest."""
    rows = {}
    for line in (CORPUS / "MANIFEST.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 5 and cells[1].startswith("`") and "/" in cells[1]:
            rows[cells[1].strip("`")] = (cells[3], int(cells[4]))
    return rows


MANIFEST = _manifest()
SARIF_FILES = sorted(name for name, (fmt, _) in MANIFEST.items() if fmt.startswith("SARIF"))
OTHER_FILES = sorted(
    str(path.relative_to(CORPUS))
    for path in CORPUS.rglob("*")
    if path.is_file() and path.parent != CORPUS
    if str(path.relative_to(CORPUS)) not in SARIF_FILES
)


def _parse_bytes(data: bytes, source: str = "upload.sarif") -> list[RawFinding | ReportMeta]:
    return list(sarif.parse(io.BytesIO(data), source=source))


def _parse_file(path: Path) -> tuple[ReportMeta, list[RawFinding]]:
    with path.open("rb") as stream:
        items = list(sarif.parse(stream, source=path.name))
    metas = [item for item in items if isinstance(item, ReportMeta)]
    assert len(metas) == 1 and items[0] is metas[0], "one ReportMeta, yielded first"
    return metas[0], [item for item in items if isinstance(item, RawFinding)]


def _log(results: list, **run: object) -> bytes:
    document = {
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "T", "rules": [{"id": "R1"}]}}, "results": results, **run}
        ],
    }
    return json.dumps(document).encode()


def _result(number: int) -> dict:
    return {
        "ruleId": "R1",
        "ruleIndex": 0,
        "message": {"text": f"finding {number}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f"src/f{number}.py"},
                    "region": {"startLine": number + 1, "snippet": {"text": "x = [1, {2}]"}},
                }
            }
        ],
        "partialFingerprints": {"hash": f"{number:08x}"},
    }


def _error(data: bytes) -> str:
    with pytest.raises(ParseError) as caught:
        _parse_bytes(data)
    return str(caught.value)


# -- the corpus ------------------------------------------------------------------------------


def test_the_manifest_lists_every_sarif_file_we_expect():
    assert sorted(EXPECTED) == SARIF_FILES


@pytest.mark.parametrize("name", SARIF_FILES)
def test_every_corpus_sarif_file_parses_to_the_expected_findings(name):
    meta, findings = _parse_file(CORPUS / name)
    count, suppressed = EXPECTED[name]
    assert len(findings) == count
    assert sum(finding.suppressed for finding in findings) == suppressed
    assert MANIFEST[name][1] - count == SKIPPED_BY_DESIGN.get(name, 0)
    assert all(
        finding.severity in ("critical", "high", "medium", "low", "info") for finding in findings
    )
    assert all(finding.tool and finding.title for finding in findings)


def test_runs_from_two_tools_are_both_named_in_the_report():
    meta, findings = _parse_file(CORPUS / "sarif/appendix_k1_double.sarif")
    assert meta.tool == "CodeScanner, OtherScanner"
    assert findings == []


def test_nested_fingerprints_are_flattened_into_a_stable_string():
    _, findings = _parse_file(CORPUS / "sarif/blackduck_nested_fingerprints.sarif")
    assert findings[0].fingerprint == "csvRowSha256.value=" + "a" * 64
    assert len({finding.fingerprint for finding in findings}) == 5
    assert findings[0].cwe == "CWE-79"


def test_codeql_partial_fingerprints_and_cwe_tags_are_read():
    _, findings = _parse_file(CORPUS / "sarif/codeQL-output.sarif")
    first = findings[0]
    assert first.fingerprint == (
        "primaryLocationLineHash=9cbc869fbfffeb60:1;primaryLocationStartColumnFingerprint=0"
    )
    assert (first.rule_id, first.title, first.cwe) == ("py/empty-except", "Empty except", "CWE-390")
    assert first.uri_base_id == "%SRCROOT%"


def test_results_written_before_the_tool_still_get_their_rules():
    # issue_10191.json puts "results" before "tool" in its run.
    _, findings = _parse_file(CORPUS / "sarif/issue_10191.json")
    assert (
        findings[0].title
        == "Improper limitation of a pathname to a restricted directory ('Path Traversal')"
    )
    assert findings[0].cwe == "CWE-22"


def test_a_message_from_message_strings_gets_its_arguments():
    _, findings = _parse_file(CORPUS / "sarif/spotbugs.sarif")
    assert (
        findings[0].message
        == "Hard coded reference to an absolute pathname in Boot.main(String[])."
    )


def test_secret_scanner_snippets_are_not_carried():
    _, findings = _parse_file(CORPUS / "sarif/gitleaks_7.5.0.sarif")
    assert all(finding.snippet == "" for finding in findings)
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps([dataclasses.asdict(f) for f in findings])


def test_report_meta_carries_provenance_root_and_tool_errors():
    meta, _ = _parse_file(CORPUS / "sarif/appendix_k4.sarif")
    assert meta.commit == "5da53fbb2a0aaa12d648b73984acc9aac2e11c2a"
    assert meta.root == "file:///home/buildAgent/src"
    assert meta.generated_at == "2016-07-16T14:19:01Z"
    assert meta.base_uris["SRCROOT"] == "file://build.example.com/work/src/"
    assert meta.errors == [
        'CodeScanner: CTN9999: Exception evaluating rule "C2001". Rule disabled; run continues.'
    ]


# -- golden files ----------------------------------------------------------------------------

GOLDEN = {
    "handmade_features.sarif": SAMPLES / "handmade_features.sarif",
    "appendix_k2.sarif": CORPUS / "sarif/appendix_k2.sarif",
    "suppression_test.sarif": CORPUS / "sarif/suppression_test.sarif",
    "dockle_0_3_15.sarif": CORPUS / "sarif/dockle_0_3_15.sarif",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_parsed_findings_match_the_golden_file(name):
    meta, findings = _parse_file(GOLDEN[name])
    expected = json.loads((SAMPLES / (name.rsplit(".", 1)[0] + ".expected.json")).read_text())
    assert dataclasses.asdict(meta) == expected["meta"]
    assert [dataclasses.asdict(finding) for finding in findings] == expected["findings"]


def test_handmade_sample_skips_passes_and_absent_results():
    data = (SAMPLES / "handmade_features.sarif").read_bytes()
    messages = [item.message for item in _parse_bytes(data) if isinstance(item, RawFinding)]
    assert "checked, fine" not in messages  # kind pass
    assert "gone" not in messages  # baselineState absent
    assert len(messages) == 9


def test_a_non_seekable_stream_is_read_the_same_way():
    data = (SAMPLES / "handmade_features.sarif").read_bytes()

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert list(sarif.parse(Pipe(), source="pipe")) == _parse_bytes(data, source="pipe")


def test_many_results_stream_in_order_with_their_locations():
    results = [_result(number) for number in range(500)]
    findings = [item for item in _parse_bytes(_log(results)) if isinstance(item, RawFinding)]
    assert [finding.start_line for finding in findings] == list(range(1, 501))
    assert findings[499].path == "src/f499.py"
    assert findings[499].fingerprint == "hash=000001f3"


def test_pretty_printed_and_compact_logs_give_the_same_findings():
    document = json.loads(_log([_result(number) for number in range(50)]))
    compact = _parse_bytes(json.dumps(document, separators=(",", ":")).encode())
    pretty = _parse_bytes(json.dumps(document, indent=4).encode())
    assert compact == pretty


def test_results_that_open_with_different_keys_are_all_read():
    results = [_result(number) for number in range(40)]
    for number in range(0, 40, 3):
        results[number] = {"message": results[number].pop("message"), **results[number]}
    second = [_result(number) for number in range(40, 45)]
    data = json.dumps(
        {
            "version": "2.1.0",
            "runs": [
                {"tool": {"driver": {"name": "A", "rules": [{"id": "R1"}]}}, "results": results},
                {"tool": {"driver": {"name": "B", "rules": [{"id": "R1"}]}}, "results": second},
            ],
        },
        separators=(",", ":"),
    ).encode()
    findings = [item for item in _parse_bytes(data) if isinstance(item, RawFinding)]
    assert [finding.message for finding in findings] == [f"finding {n}" for n in range(45)]
    assert [finding.tool for finding in findings] == ["A"] * 40 + ["B"] * 5


# -- bad input -------------------------------------------------------------------------------


def test_not_json_names_the_file_and_says_what_was_expected():
    message = _error(b"hello, world")
    assert message.startswith("upload.sarif: byte 0: ")
    assert "not JSON" in message and "a SARIF log is an object" in message


def test_a_top_level_list_is_refused():
    assert "the top-level JSON value is a list; a SARIF log is an object" in _error(b"[1, 2]")


def test_an_empty_file_is_refused():
    assert "the file ends early" in _error(b"   ")


def test_truncated_report_names_the_place():
    data = _log([_result(number) for number in range(100)])
    cut = data.index(b'"finding 41"')
    message = _error(data[:cut])
    assert "upload.sarif: runs[0].results[41]" in message
    assert "the file ends early, inside runs[0].results[41]" in message


def test_invalid_utf8_names_the_byte_and_the_result():
    data = _log([_result(number) for number in range(10)])
    at = data.index(b"finding 3") + 2
    broken = data[:at] + b"\xff" + data[at + 1 :]
    message = _error(broken)
    assert f"not valid UTF-8 at byte {at}" in message
    assert "runs[0].results[3]" in message


def test_broken_json_inside_a_result_names_the_byte_and_the_result():
    data = _log([_result(number) for number in range(10)])
    at = data.index(b'"finding 6"') + len(b'"finding 6"')
    message = _error(data[:at] + b"," + data[at:])
    assert "runs[0].results[6]" in message and "not valid JSON at byte" in message


def test_another_version_says_which_and_what_is_expected():
    data = _log([]).replace(b'"2.1.0"', b'"2.0.0"')
    assert "version: found SARIF version 2.0.0; only SARIF 2.1.0 is supported" in _error(data)


def test_a_version_after_the_runs_is_still_checked_before_any_finding():
    data = b'{"runs": [{"tool": {"driver": {"name": "T"}}, "results": [{"ruleId": "R"}]}], "version": "1.0.0"}'
    stream = sarif.parse(io.BytesIO(data), source="late.sarif")
    with pytest.raises(ParseError, match="only SARIF 2.1.0 is supported"):
        next(stream)


def test_missing_version_is_refused():
    assert 'the log has no "version"; expected "version": "2.1.0"' in _error(b'{"runs": []}')


def test_missing_runs_is_refused():
    assert 'runs: the log has no "runs"; expected a list of runs' in _error(b'{"version": "2.1.0"}')


def test_runs_that_are_not_a_list_are_refused():
    message = _error(b'{"version": "2.1.0", "runs": {"tool": {}}}')
    assert "runs: runs is an object; expected a list of runs" in message


def test_a_result_without_rule_or_message_is_refused():
    data = _log([_result(0), {"locations": []}])
    message = _error(data)
    assert "runs[0].results[1]: the result has neither a rule id nor a message" in message


def test_a_line_number_that_is_not_a_number_is_refused():
    result = _result(0)
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = "ten"
    message = _error(_log([result]))
    assert (
        "runs[0].results[0].locations[0].physicalLocation.region.startLine: startLine is the "
        "string 'ten'; expected a whole number (at least 1)"
    ) in message


def test_an_unknown_level_is_refused_with_the_allowed_values():
    result = _result(0) | {"level": "critical"}
    message = _error(_log([result]))
    assert "runs[0].results[0].level: level is the string 'critical'" in message
    assert "expected one of error, warning, note, none" in message


def test_a_rule_index_out_of_range_is_refused():
    result = _result(0) | {"ruleIndex": 7}
    assert "ruleIndex 7 is out of range; T has 1 rule(s)" in _error(_log([result]))


def test_a_run_without_a_tool_is_refused():
    data = b'{"version": "2.1.0", "runs": [{"results": []}]}'
    assert "runs[0].tool: the run has no tool" in _error(data)


def test_parse_errors_never_leak_library_exceptions():
    data = _log([_result(number) for number in range(20)])
    for cut in range(0, len(data), 97):
        with pytest.raises(ParseError):
            _parse_bytes(data[:cut])


# -- sniff -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SARIF_FILES)
def test_sniff_recognises_every_corpus_sarif_file(name):
    assert sarif.sniff((CORPUS / name).read_bytes()[:HEAD])


@pytest.mark.parametrize("name", OTHER_FILES)
def test_sniff_rejects_every_other_corpus_file(name):
    assert not sarif.sniff((CORPUS / name).read_bytes()[:HEAD])


def test_sniff_accepts_a_bom_and_blanks_and_a_head_cut_mid_token():
    head = b'\xef\xbb\xbf \n  {"version": "2.1.0", "runs": [{"tool": {"driver": {"na'
    assert sarif.sniff(head)
    schema_only = b'{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [{"to'
    assert sarif.sniff(schema_only)


def test_sniff_rejects_json_that_only_mentions_runs():
    assert not sarif.sniff(b'{"runs": [], "version": "1.2"}')
    assert not sarif.sniff(b'[{"runs": 1, "version": "2.1.0"}]')


def test_the_sarif_parser_does_not_touch_the_database_models():
    for module in (SAMPLES.parents[2] / "scanners" / "formats" / "sarif").glob("*.py"):
        assert not re.search(r"^\s*(from|import) findings", module.read_text(), re.MULTILINE)
