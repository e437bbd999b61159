"""Property-based tests of every scanner format through the whole import: a real report cut
short, with bytes flipped, or with any part of its JSON replaced by any other JSON value,
either imports or fails with the one clear error naming the file — never another exception,
and a failed import leaves the database exactly as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from findings.models import Event, Finding, Report, Sighting
from findings.services.ingest import IngestError, Options, ingest_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
REPORTS = {
    "sarif": SAMPLES / "sarif" / "handmade_features.sarif",
    "bandit": SAMPLES / "bandit" / "context_and_errors.json",
    "ruff": SAMPLES / "ruff" / "mixed_rules.json",
    "semgrep": SAMPLES / "semgrep" / "ignored_and_legacy.json",
    "pip_audit": SAMPLES / "pip_audit" / "new_format.json",
    "gitleaks": SAMPLES / "gitleaks" / "v8_redaction.json",
}
FORMATS = sorted(REPORTS)

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=int(os.environ.get("AUDITDASH_FUZZ_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _state() -> tuple:
    return (
        Finding.objects.count(),
        Sighting.objects.count(),
        Event.objects.count(),
        Report.objects.filter(state=Report.State.DONE).count(),
        list(Finding.objects.order_by("pk").values_list("status", "last_seen_commit")),
    )


def _import_or_fail_cleanly(tmp_path: Path, data: bytes, fmt: str) -> None:
    target = tmp_path / f"fuzzed-{fmt}.json"
    target.write_bytes(data)
    before = _state()
    try:
        ingest_file(target, project_key="FUZZ", options=Options(commit="abc1234"))
    except IngestError as error:
        assert str(error).startswith(f"{target.name}: "), str(error)
        assert _state() == before, "a failed import changed the database"


def _paths(value, prefix=()):
    """Every path into a JSON value, so a draw can pick any part of the report."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _replaced(document, path: tuple, new):
    if not path:
        return new
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return document


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(
    cut=st.floats(min_value=0.0, max_value=1.0), flips=st.lists(st.integers(0, 2**31), max_size=3)
)
def test_a_cut_or_corrupted_report_imports_or_fails_cleanly(tmp_path, fmt, cut, flips):
    original = REPORTS[fmt].read_bytes()
    data = bytearray(original[: max(1, int(len(original) * cut))])
    for flip in flips:
        data[flip % len(data)] ^= 1 + flip % 255

    _import_or_fail_cleanly(tmp_path, bytes(data), fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(pick=st.integers(min_value=0), value=JSON_VALUES)
def test_any_part_of_a_report_replaced_by_any_json_imports_or_fails_cleanly(
    tmp_path, fmt, pick, value
):
    document = json.loads(REPORTS[fmt].read_bytes())
    paths = list(_paths(document))
    mutated = _replaced(document, paths[pick % len(paths)], value)

    _import_or_fail_cleanly(tmp_path, json.dumps(mutated).encode(), fmt)


def test_every_format_is_fuzzed_from_a_real_sample():
    from scanners import registry

    assert FORMATS == sorted(registry.FORMATS)
    assert all(path.exists() for path in REPORTS.values())
