"""Ruff's native JSON: real ruff output, golden samples, the severity table, bad input.

The corpus has no ruff report, so the real tool is run on files written here.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanners.base import ParseError, RawFinding, ReportMeta
from scanners.formats import ruff
from tests.conftest import ROOT, run_tool
from tests.scanners.memory import assert_memory_flat

SAMPLES = ROOT / "tests" / "samples" / "ruff"


def parse_bytes(data: bytes) -> list[RawFinding | ReportMeta]:
    return list(ruff.parse(io.BytesIO(data), source="ruff.json"))


def expected_from(path: Path) -> list[RawFinding | ReportMeta]:
    rows = json.loads(path.read_text())
    return [
        RawFinding(**row) if row.pop("kind") == "finding" else ReportMeta(**row) for row in rows
    ]


def diagnostic(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "cell": None,
        "code": "F401",
        "end_location": {"column": 10, "row": 1},
        "filename": "/repo/app.py",
        "fix": None,
        "location": {"column": 8, "row": 1},
        "message": "`os` imported but unused",
        "noqa_row": 1,
        "url": "https://docs.astral.sh/ruff/rules/unused-import",
    }
    base.update(overrides)
    return base


def test_real_ruff_output_is_read_with_rules_lines_and_severities(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import os\n"
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
        "        return x == None\n"
        "    except:\n"
        "        pass\n"
    )
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    output = run_tool(
        "ruff",
        "check",
        "--isolated",
        "--select",
        "E,F,S,B",
        "--output-format",
        "json",
        ".",
        cwd=tmp_path,
    )

    parsed = parse_bytes(output.encode())
    found = {
        (f.rule_id, Path(f.path).name, f.start_line): f.severity
        for f in parsed
        if isinstance(f, RawFinding)
    }

    assert found[("F401", "app.py", 1)] == "low"
    assert found[("S602", "app.py", 6)] == "high"
    assert found[("S307", "app.py", 7)] == "high"
    assert found[("E711", "app.py", 12)] == "info"
    assert found[("E722", "app.py", 13)] == "low"
    assert found[("S110", "app.py", 13)] == "low"
    assert {severity for (rule, name, _), severity in found.items() if name == "broken.py"} == {
        "high"
    }
    assert all(Path(f.path).is_absolute() for f in parsed if isinstance(f, RawFinding))
    assert all(f.snippet == "" for f in parsed if isinstance(f, RawFinding))
    assert parsed[-1] == ReportMeta(tool="ruff")


def test_real_ruff_output_for_a_clean_project_is_an_empty_report(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("VALUE = 1\n")
    output = run_tool("ruff", "check", "--isolated", "--output-format", "json", ".", cwd=tmp_path)
    assert output.strip() == "[]"
    assert parse_bytes(output.encode()) == [ReportMeta(tool="ruff")]


@pytest.mark.parametrize("name", ["mixed_rules", "older_ruff"], ids=lambda name: name)
def test_golden_sample_parses_exactly_as_expected(name: str) -> None:
    data = (SAMPLES / f"{name}.json").read_bytes()
    assert parse_bytes(data) == expected_from(SAMPLES / f"{name}.expected.json")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (None, "high"),
        ("invalid-syntax", "high"),
        ("E999", "high"),
        ("E902", "high"),
        ("F632", "high"),
        ("F706", "high"),
        ("F821", "high"),
        ("S102", "high"),
        ("S105", "high"),
        ("S301", "high"),
        ("S324", "high"),
        ("S501", "high"),
        ("S608", "high"),
        ("S311", "medium"),
        ("S113", "medium"),
        ("S101", "low"),
        ("B006", "low"),
        ("E722", "low"),
        ("F401", "low"),
        ("F811", "low"),
        ("E501", "info"),
        ("W291", "info"),
        ("I001", "info"),
        ("D100", "info"),
        ("UP006", "info"),
        ("SIM108", "info"),
        ("PLR0913", "info"),
    ],
)
def test_severity_follows_the_documented_rule_table(code: str | None, expected: str) -> None:
    assert ruff.severity_for(code) == expected


def test_bare_empty_list_is_not_claimed() -> None:
    assert not ruff.sniff(b"[]")
    assert not ruff.sniff(b"[\n  \n]")


def test_head_cut_inside_the_first_diagnostic_is_recognised() -> None:
    data = json.dumps([diagnostic()] * 3, indent=2).encode()
    assert ruff.sniff(b"\xef\xbb\xbf" + data[: data.index(b'"noqa_row"') + 14])


def test_an_eslint_report_is_not_taken_for_ruff() -> None:
    data = json.dumps([{"filePath": "/a.js", "messages": [], "errorCount": 0}]).encode()
    assert not ruff.sniff(data)


def test_truncated_report_names_the_diagnostic_it_stops_in() -> None:
    data = json.dumps([diagnostic(location={"column": 1, "row": n}) for n in range(1, 9)])
    cut = data.encode()[: data.index('"row": 6}')]
    with pytest.raises(ParseError) as caught:
        parse_bytes(cut)
    assert "the file ends early, inside [5]" in caught.value.message


def test_object_at_the_top_level_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(b'{"results": []}')
    assert "expected a ruff JSON report (a list of diagnostics)" in caught.value.message
    assert "found an object" in caught.value.message


def test_diagnostic_without_a_code_key_is_refused() -> None:
    bad = diagnostic()
    del bad["code"]
    with pytest.raises(ParseError) as caught:
        parse_bytes(json.dumps([diagnostic(), bad]).encode())
    assert caught.value.where == "[1]"
    assert "`code`" in caught.value.message


def test_row_written_as_text_is_refused_with_its_place() -> None:
    data = json.dumps([diagnostic(location={"row": "ten", "column": 1})]).encode()
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    assert caught.value.where == "[0].location.row"
    assert 'found text "ten"' in caught.value.message


def test_invalid_utf8_names_the_byte() -> None:
    data = json.dumps([diagnostic(message="bad")]).encode().replace(b"bad", b"b\xffd")
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)
    offset = data.index(b"\xff")
    assert caught.value.where == f"byte {offset}"


def test_memory_stays_flat_as_the_report_grows(tmp_path: Path) -> None:
    def write(path: Path, count: int) -> None:
        item = json.dumps(diagnostic())
        path.write_text("[" + ",".join([item] * count) + "]")

    assert_memory_flat(ruff, write, tmp_path)
