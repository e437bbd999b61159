"""Hostile and unusual reports at the library level: detection by structure whatever the key
order, nesting capped in linear time and memory, duplicated keys refused."""

from __future__ import annotations

import io
import json
import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanners import registry
from scanners.base import ParseError
from scanners.formats import sarif
from scanners.formats._jsonreport import MAX_DEPTH, deepest_at, head_shape
from tests.conftest import BIN

HEAD = registry.HEAD_BYTES


def bandit_ordered_sarif(files: int) -> bytes:
    """A SARIF log in the key order bandit's formatter writes (its docstring's example): the
    run's tool, invocations and per-file metrics first, results last, and the log's
    ``version`` and ``$schema`` after the runs."""
    metrics = {
        f"./pkg/module_{n}.py": {"loc": 10, "nosec": 0, "SEVERITY.LOW": 1} for n in range(files)
    }
    run = {
        "tool": {"driver": {"name": "Bandit", "rules": [{"id": "B101", "name": "assert_used"}]}},
        "invocations": [{"executionSuccessful": True, "endTimeUtc": "2024-03-05T03:28:48Z"}],
        "properties": {"metrics": metrics},
        "results": [
            {
                "message": {"text": "Use of assert detected."},
                "level": "note",
                "locations": [
                    {
                        "physicalLocation": {
                            "region": {"startLine": 1, "snippet": {"text": "assert x\n"}},
                            "artifactLocation": {"uri": f"pkg/module_{n}.py"},
                        }
                    }
                ],
                "ruleId": "B101",
            }
            for n in range(files)
        ],
    }
    log = {
        "runs": [run],
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    }
    return json.dumps(log, indent=2).encode()


def test_sarif_whose_version_and_schema_lie_past_the_head_is_detected_by_its_structure():
    data = bandit_ordered_sarif(2000)
    assert len(data) > 4 * HEAD and data.index(b'"version": "2.1.0"') > HEAD

    assert registry.detect(data[:HEAD]) == "sarif"
    found = list(sarif.parse(io.BytesIO(data), source="bandit.sarif"))
    assert len(found) == 2001


def test_sarif_whose_results_come_before_its_tool_is_detected_by_its_results():
    log = json.loads(bandit_ordered_sarif(2000))
    run = log["runs"][0]
    log["runs"][0] = {"results": run["results"], "tool": run["tool"]}
    data = json.dumps(log, indent=2).encode()
    assert data.index(b'"tool"') > HEAD

    assert registry.detect(data[:HEAD]) == "sarif"


def test_a_real_bandit_sarif_of_a_real_project_is_read(tmp_path: Path):
    for n in range(400):
        (tmp_path / f"module_{n}.py").write_text(
            "import subprocess\n\n\ndef run(x):\n    assert x\n"
            "    return subprocess.call(x, shell=True)\n"
        )
    out = subprocess.run(
        [str(BIN / "bandit"), "-q", "-r", ".", "-f", "sarif"],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
    ).stdout
    assert len(out) > HEAD and out.index(b'"$schema"') > HEAD

    assert registry.detect(out[:HEAD]) == "sarif"
    findings = [f for f in sarif.parse(io.BytesIO(out), source="b.sarif") if hasattr(f, "rule_id")]
    # Three per module: the import (B404), the assert (B101) and shell=True (B602).
    assert len(findings) == 1200
    assert {f.rule_id for f in findings} == {"B404", "B101", "B602"}


_RUN_KEYS = ["tool", "results", "invocations", "properties", "columnKind"]


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(_RUN_KEYS), top_first=st.booleans(), padding=st.integers(0, 3))
def test_sarif_is_detected_whatever_the_key_order(order, top_first, padding):
    values = {
        "tool": {"driver": {"name": "probe"}},
        "results": [{"ruleId": "R", "message": {"text": "m"}}] * (1 + padding * 800),
        "invocations": [{"executionSuccessful": True}],
        "properties": {"pad": ["x" * 50] * (padding * 400)},
        "columnKind": "utf16CodeUnits",
    }
    run = {key: values[key] for key in order}
    header = {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json"}
    log = {**header, "runs": [run]} if top_first else {"runs": [run], **header}
    data = json.dumps(log).encode()

    assert registry.detect(data[:HEAD]) == "sarif"


# --- nesting ---------------------------------------------------------------------------------


def _reference_depth(data: bytes) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        char = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values, limit=st.integers(0, 6))
def test_the_depth_check_agrees_with_a_byte_by_byte_reading(value, limit):
    data = json.dumps(value).encode()

    found = deepest_at(data, limit)

    assert (found is None) == (_reference_depth(data) <= limit)
    if found is not None:
        assert _reference_depth(data[: found + 1]) == limit + 1


@pytest.mark.parametrize(
    "data",
    [
        b"[" * HEAD,
        b'{"a":' * (HEAD // 5),
        b'{"results": [{"test_id": "B1", "issue_severity": "LOW", "x": ' + b"[" * HEAD,
    ],
    ids=["lists", "objects", "in-a-result"],
)
def test_detecting_a_deep_head_takes_little_time_and_memory(data):
    head = data[:HEAD]
    head_shape.cache_clear()
    tracemalloc.start()
    started = time.perf_counter()

    registry.detect(head)

    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 64 * 1024 * 1024
    assert registry.nesting_problem(head) is not None or registry.detect(head) is not None


@pytest.mark.parametrize(
    ("fmt", "opening"),
    [
        ("bandit", b'{"results": ['),
        ("semgrep", b'{"results": ['),
        ("ruff", b"["),
        ("pip_audit", b'{"dependencies": ['),
        ("gitleaks", b"["),
    ],
)
def test_every_native_parser_refuses_json_nested_past_the_cap_naming_it(fmt, opening):
    data = opening + b"[" * 100_000 + b"]" * 100_000
    tracemalloc.start()

    with pytest.raises(ParseError) as caught:
        list(registry.parser_for(fmt).parse(io.BytesIO(data), source="deep.json"))

    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith("deep.json: ") and f"more than {MAX_DEPTH} levels" in message
    assert peak < 128 * 1024 * 1024


def test_native_json_at_the_cap_is_still_read():
    bag = "[" * (MAX_DEPTH - 4) + "]" * (MAX_DEPTH - 4)
    data = (
        '{"results": [{"test_id": "B1", "issue_severity": "LOW", "issue_confidence": "LOW", '
        f'"filename": "a.py", "line_number": 1, "issue_text": "t", "more": {bag}}}]}}'
    ).encode()

    found = list(registry.parser_for("bandit").parse(io.BytesIO(data), source="b.json"))

    assert len(found) == 2


def test_a_sarif_log_with_runs_twice_is_refused():
    run = {"tool": {"driver": {"name": "x"}}, "results": []}
    data = (
        '{"version": "2.1.0", "runs": [%s], "runs": [%s, %s]}' % ((json.dumps(run),) * 3)
    ).encode()

    with pytest.raises(ParseError, match='"runs" twice'):
        list(sarif.parse(io.BytesIO(data), source="x.sarif"))


def test_a_fingerprint_nested_deeply_is_refused_not_a_recursion_error():
    nested: object = "v"
    for _ in range(500):
        nested = {"k": nested}
    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [
                    {"ruleId": "r", "message": {"text": "m"}, "fingerprints": {"a": nested}}
                ],
            }
        ],
    }

    with pytest.raises(ParseError, match=r"fingerprints: a fingerprint nested more than 16"):
        list(sarif.parse(io.BytesIO(json.dumps(log).encode()), source="x.sarif"))
