"""pip-audit's native JSON: both shapes, corpus reports, golden samples, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanners.base import ParseError, RawFinding, ReportMeta
from scanners.formats import pip_audit
from tests.conftest import CORPUS, ROOT
from tests.scanners.memory import assert_memory_flat

SAMPLES = ROOT / "tests" / "samples" / "pip_audit"

# MANIFEST.md counts advisories ("vulns over ..."), which is also our unit: one finding per
# (package, advisory), so the counts agree (twisted alone holds 4 of the 7).
CORPUS_COUNTS = {
    "empty.json": 0,
    "empty_new.json": 0,
    "many_vulns.json": 7,
    "many_vulns_new.json": 7,
    "zero_vulns.json": 0,
    "zero_vulns_new.json": 0,
}


def parse_bytes(data: bytes) -> list[RawFinding | ReportMeta]:
    return list(pip_audit.parse(io.BytesIO(data), source="pip-audit.json"))


def expected_from(path: Path) -> list[RawFinding | ReportMeta]:
    rows = json.loads(path.read_text())
    return [
        RawFinding(**row) if row.pop("kind") == "finding" else ReportMeta(**row) for row in rows
    ]


def dependency(name: str = "django", version: str = "3.2.0", *ids: str) -> dict[str, object]:
    vulns = [{"id": advisory, "fix_versions": ["9.9"]} for advisory in ids]
    return {"name": name, "version": version, "vulns": vulns}


@pytest.mark.parametrize("name", sorted(CORPUS_COUNTS))
def test_every_corpus_report_parses_with_the_manifest_count(name: str) -> None:
    data = (CORPUS / "pip_audit" / name).read_bytes()
    parsed = parse_bytes(data)
    findings = [item for item in parsed if isinstance(item, RawFinding)]
    assert len(findings) == CORPUS_COUNTS[name]
    assert sum(isinstance(item, ReportMeta) for item in parsed) == 1
    assert pip_audit.sniff(data[: 64 * 1024])


def test_old_and_new_shapes_give_the_same_findings() -> None:
    old = parse_bytes((CORPUS / "pip_audit" / "many_vulns.json").read_bytes())
    new = parse_bytes((CORPUS / "pip_audit" / "many_vulns_new.json").read_bytes())
    assert old == new


def test_each_advisory_of_a_package_is_its_own_finding() -> None:
    parsed = parse_bytes((CORPUS / "pip_audit" / "many_vulns.json").read_bytes())
    twisted = [f for f in parsed if isinstance(f, RawFinding) and f.extra["package"] == "twisted"]
    assert [f.rule_id for f in twisted] == [
        "PYSEC-2019-128",
        "PYSEC-2020-260",
        "PYSEC-2019-129",
        "PYSEC-2020-259",
    ]
    assert twisted[0].title == "PYSEC-2019-128 in twisted 18.9.0"
    assert twisted[0].extra["fix_versions"] == ["19.2.1"]
    assert {f.severity for f in twisted} == {"high"}


def test_skipped_dependencies_are_reported_as_errors_not_findings() -> None:
    meta = parse_bytes((CORPUS / "pip_audit" / "zero_vulns.json").read_bytes())[-1]
    assert isinstance(meta, ReportMeta)
    assert meta.errors == [
        "azure-devops: Dependency not found on PyPI and could not be audited: azure-devops (0.17.0)"
    ]


def test_upgrading_to_a_still_vulnerable_version_keeps_the_fingerprint() -> None:
    before = parse_bytes(json.dumps([dependency("Django", "3.2.0", "PYSEC-1")]).encode())[0]
    after = parse_bytes(json.dumps([dependency("django", "3.2.5", "PYSEC-1")]).encode())[0]
    assert before.fingerprint == after.fingerprint == "django|PYSEC-1"
    assert before.title != after.title


@pytest.mark.parametrize("name", ["old_format", "new_format"], ids=lambda name: name)
def test_golden_sample_parses_exactly_as_expected(name: str) -> None:
    data = (SAMPLES / f"{name}.json").read_bytes()
    assert parse_bytes(data) == expected_from(SAMPLES / f"{name}.expected.json")


def test_bare_empty_list_is_claimed_but_cannot_close_findings() -> None:
    assert pip_audit.sniff(b"[]")
    assert pip_audit.sniff(b"\xef\xbb\xbf[\n]\n")
    assert parse_bytes(b"[]") == [ReportMeta(tool="pip-audit", scanned_paths=[])]


def test_empty_dependencies_object_is_an_ordinary_empty_report() -> None:
    assert pip_audit.sniff(b'{"dependencies": [], "fixes": []}')
    assert parse_bytes(b'{"dependencies": [], "fixes": []}') == [ReportMeta(tool="pip-audit")]


def test_lists_of_other_tools_are_not_claimed() -> None:
    assert not pip_audit.sniff(
        json.dumps([{"name": "x", "version": "1", "license": "MIT"}]).encode()
    )
    assert not pip_audit.sniff((CORPUS / "safety" / "many_vulns.json").read_bytes())
    assert not pip_audit.sniff(json.dumps({"dependencies": [], "reportSchema": "1.1"}).encode())


def test_truncated_report_names_the_dependency_it_stops_in() -> None:
    data = json.dumps({"dependencies": [dependency(f"pkg{n}", "1.0", "X-1") for n in range(9)]})
    cut = data.encode()[: data.index('"pkg6"') + 3]
    with pytest.raises(ParseError) as caught:
        parse_bytes(cut)
    assert "the file ends early, inside dependencies[6]" in caught.value.message


def test_wrong_top_level_type_says_what_was_expected() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(b"null")
    assert "expected a pip-audit JSON report" in caught.value.message
    assert "found null" in caught.value.message


def test_object_without_dependencies_is_refused() -> None:
    with pytest.raises(ParseError, match="no `dependencies` list"):
        parse_bytes(b'{"fixes": []}')


def test_advisory_without_an_id_names_its_place() -> None:
    data = json.dumps([{"name": "a", "version": "1", "vulns": [{"fix_versions": []}]}]).encode()
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    assert caught.value.where == "[0].vulns[0]"
    assert "`id`" in caught.value.message


def test_version_written_as_a_number_is_refused() -> None:
    data = json.dumps([{"name": "a", "version": 10, "vulns": []}]).encode()
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    assert caught.value.where == "[0].version"
    assert "should be text, found the number 10" in caught.value.message


def test_invalid_utf8_names_the_byte() -> None:
    data = json.dumps([dependency("abc", "1", "X-1")]).encode().replace(b"abc", b"a\x80c")
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    offset = data.index(b"\x80")
    assert caught.value.where == f"byte {offset}"


def test_memory_stays_flat_as_the_report_grows(tmp_path: Path) -> None:
    def write(path: Path, count: int) -> None:
        deps = ",".join(json.dumps(dependency(f"p{n}", "1.0", "PYSEC-1")) for n in range(count))
        path.write_text('{"dependencies": [' + deps + '], "fixes": []}')

    assert_memory_flat(pip_audit, write, tmp_path)
