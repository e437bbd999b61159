"""Gitleaks' native JSON (v7 and v8): corpus reports, secrets never leaking, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanners.base import ParseError, RawFinding, ReportMeta
from scanners.formats import gitleaks
from tests.conftest import CORPUS, ROOT
from tests.scanners.memory import assert_memory_flat

SAMPLES = ROOT / "tests" / "samples" / "gitleaks"

# Finding counts as stated in the corpus MANIFEST.md.
CORPUS_COUNTS = {
    "data_many.json": 2,
    "data_one.json": 1,
    "gitleaks8_many.json": 4,
    "issue4336.json": 1,
    "no_findings.json": 0,
    "redacted_data_many.json": 6,
    "version_7.5.0.json": 8,
}
SECRET_FILES = [
    *sorted((CORPUS / "gitleaks").glob("*.json")),
    SAMPLES / "v8_redaction.json",
    SAMPLES / "v7_lines.json",
]


def parse_bytes(data: bytes) -> list[RawFinding | ReportMeta]:
    return list(gitleaks.parse(io.BytesIO(data), source="gitleaks.json"))


def expected_from(path: Path) -> list[RawFinding | ReportMeta]:
    rows = json.loads(path.read_text())
    return [
        RawFinding(**row) if row.pop("kind") == "finding" else ReportMeta(**row) for row in rows
    ]


def secrets_in(path: Path) -> set[str]:
    """Every secret value the report holds (gitleaks' own REDACTED marker is not one)."""
    entries = json.loads(path.read_bytes()) or []
    found = {entry.get("Secret") or entry.get("offender") or "" for entry in entries}
    return found - {"", gitleaks.GITLEAKS_MASK}


def leak(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Description": "Generic API Key",
        "StartLine": 3,
        "EndLine": 3,
        "StartColumn": 1,
        "EndColumn": 30,
        "Match": 'key = "s3cr3t-value-123"',
        "Secret": "s3cr3t-value-123",
        "File": "app.cfg",
        "Commit": "",
        "RuleID": "generic-api-key",
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize("name", sorted(CORPUS_COUNTS))
def test_every_corpus_report_parses_with_the_manifest_count(name: str) -> None:
    data = (CORPUS / "gitleaks" / name).read_bytes()
    parsed = parse_bytes(data)
    findings = [item for item in parsed if isinstance(item, RawFinding)]
    assert len(findings) == CORPUS_COUNTS[name]
    assert sum(isinstance(item, ReportMeta) for item in parsed) == 1
    assert gitleaks.sniff(data[: 64 * 1024])


@pytest.mark.parametrize("path", SECRET_FILES, ids=lambda path: path.name)
def test_no_secret_appears_anywhere_in_the_parsed_output(path: Path) -> None:
    secrets = secrets_in(path)
    shown = repr(parse_bytes(path.read_bytes()))
    assert [secret for secret in secrets if secret in shown] == []


@pytest.mark.parametrize("path", SECRET_FILES, ids=lambda path: path.name)
def test_no_secret_appears_in_the_redacted_raw_report(path: Path) -> None:
    secrets = secrets_in(path)
    cleaned = gitleaks.redact_raw(path.read_bytes()).decode()
    assert [secret for secret in secrets if secret in cleaned] == []


def test_redacted_raw_report_keeps_everything_but_the_secrets() -> None:
    path = CORPUS / "gitleaks" / "gitleaks8_many.json"
    original = json.loads(path.read_bytes())
    cleaned = json.loads(gitleaks.redact_raw(path.read_bytes()))
    assert len(cleaned) == len(original)
    assert [entry.keys() for entry in cleaned] == [entry.keys() for entry in original]
    assert [entry["File"] for entry in cleaned] == [entry["File"] for entry in original]
    assert [entry["Secret"] for entry in cleaned] == ["[REDACTED]"] * 4
    assert cleaned[3]["Match"] == 'apikey = "[REDACTED]"'


def test_redacted_raw_report_of_null_stays_null() -> None:
    assert json.loads(gitleaks.redact_raw(b"null\n")) is None


def test_redact_raw_refuses_what_is_not_a_gitleaks_report() -> None:
    with pytest.raises(ParseError, match="found an object at the top level"):
        gitleaks.redact_raw(b'{"results": []}', source="leaks.json")


@pytest.mark.parametrize("name", ["v8_redaction", "v7_lines"], ids=lambda name: name)
def test_golden_sample_parses_exactly_as_expected(name: str) -> None:
    data = (SAMPLES / f"{name}.json").read_bytes()
    assert parse_bytes(data) == expected_from(SAMPLES / f"{name}.expected.json")


def test_snippet_is_dropped_when_the_mask_would_still_hold_the_secret() -> None:
    finding = parse_bytes(json.dumps([leak(Match="xREDy", Secret="RED")]).encode())[0]
    assert finding.snippet == ""


def test_private_keys_are_critical_and_other_secrets_high() -> None:
    severities = [
        f.severity
        for f in parse_bytes((CORPUS / "gitleaks" / "gitleaks8_many.json").read_bytes())
        if isinstance(f, RawFinding)
    ]
    assert severities == ["high", "high", "critical", "high"]


def test_personal_data_beyond_the_author_name_is_left_out() -> None:
    parsed = parse_bytes((CORPUS / "gitleaks" / "data_one.json").read_bytes())
    shown = repr(parsed)
    assert "john.doe@mail.com" not in shown
    assert "saving my cert" not in shown
    assert parsed[0].extra["author"] == "John Doe"


def test_null_alone_is_claimed_as_an_empty_gitleaks_report() -> None:
    assert gitleaks.sniff(b"null\n")
    assert parse_bytes(b"null") == [ReportMeta(tool="gitleaks")]


def test_other_secret_scanners_are_not_taken_for_gitleaks() -> None:
    for path in [
        CORPUS / "trufflehog3" / "many_vulns_current.json",
        CORPUS / "trufflehog3" / "many_vulns_legacy.json",
        CORPUS / "github_secrets_detection_report" / "github_secrets_detection_report_one_vul.json",
    ]:
        assert not gitleaks.sniff(path.read_bytes()[: 64 * 1024]), path.name


def test_truncated_report_names_the_entry_it_stops_in() -> None:
    data = json.dumps([leak(StartLine=n) for n in range(1, 8)], indent=1).encode()
    cut = data[: data.index(b'"StartLine": 5') + 5]
    with pytest.raises(ParseError) as caught:
        parse_bytes(cut)
    assert "the file ends early, inside [4]" in caught.value.message


def test_wrong_top_level_type_says_what_was_expected() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(b'{"findings": []}')
    assert "expected a gitleaks JSON report (a list of findings, or null)" in caught.value.message


def test_entry_of_neither_version_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(b'[{"path": "a", "secret": "b"}]')
    assert caught.value.where == "[0]"
    assert "`RuleID` (gitleaks 8) or `rule` (gitleaks 7)" in caught.value.message


def test_a_malformed_secret_is_refused_without_being_quoted() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(json.dumps([leak(Secret=98765432123)]).encode())
    assert caught.value.where == "[0].Secret"
    assert "98765432123" not in str(caught.value)
    with pytest.raises(ParseError) as caught:
        parse_bytes(b'["AKIAIOSFODNN7EXAMPLE"]')
    assert "AKIAIOSFODNN7EXAMPLE" not in str(caught.value)


def test_entry_missing_its_file_names_the_key() -> None:
    bad = leak()
    del bad["File"]
    with pytest.raises(ParseError) as caught:
        parse_bytes(json.dumps([leak(), bad]).encode())
    assert caught.value.where == "[1]"
    assert "`File`" in caught.value.message


def test_line_written_as_text_is_refused_with_its_place() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(json.dumps([leak(StartLine="ten")]).encode())
    assert caught.value.where == "[0].StartLine"
    assert 'found text "ten"' in caught.value.message


def test_invalid_utf8_names_the_byte() -> None:
    data = json.dumps([leak(File="abc")]).encode().replace(b"abc", b"a\xfec")
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    offset = data.index(b"\xfe")
    assert caught.value.where == f"byte {offset}"


def test_memory_stays_flat_as_the_report_grows(tmp_path: Path) -> None:
    def write(path: Path, count: int) -> None:
        path.write_text("[" + ",".join([json.dumps(leak())] * count) + "]")

    assert_memory_flat(gitleaks, write, tmp_path)
