"""COPY bodies of staged rows: the fast way (whole batch escaped at once) writes exactly what
escaping field by field would, whatever the texts hold."""

from datetime import UTC, datetime

import pytest

from findings.services.scan.copy_text import NewFindings, stage_payload
from scanners.rows import StagedRow

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def escaped(value) -> str:
    """COPY text format, written the plain way: the reference the module must match."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    for char, escape in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(char, escape)
    return text


def row(seq, *, title="Title", snippet="x = 1", start=3, end=4, suppressed=False, extra="{}"):
    return StagedRow(
        seq=seq,
        fingerprint=f"fp{seq}",
        tool="bandit",
        category="",
        rule_id="B101",
        title=title,
        message="message",
        severity=2,
        cwe="CWE-78",
        path="src/app.py",
        start_line=start,
        end_line=end,
        snippet=snippet,
        suppressed=suppressed,
        suppression_reason="",
        extra=extra,
        content_key=f"ck{seq % 2}",
    )


PLAIN = [row(i) for i in range(3)]
AWKWARD = [
    row(0, title="tab\there", snippet="line one\nline two\r\n"),
    row(1, snippet="C:\\path\\N and \\t literal", extra='{"a": "q\\"uote"}'),
    row(2, title="caf\u00e9 \U0001f600", suppressed=True),
]
CONTROL = [row(0, title="start\x01of heading"), row(1)]
NO_LINES = [row(0, start=None, end=None), row(1, start=5, end=None), row(2)]


@pytest.mark.parametrize("rows", [PLAIN, AWKWARD, CONTROL, NO_LINES, PLAIN + AWKWARD, []], ids=str)
def test_stage_payload_escapes_as_field_by_field(rows):
    expected = "".join("\t".join(escaped(v) for v in r) + "\n" for r in rows)
    assert stage_payload(rows) == expected.encode()


@pytest.mark.parametrize("rows", [PLAIN, AWKWARD, CONTROL, NO_LINES], ids=str)
@pytest.mark.parametrize("branch", ["main", "feature\\odd\tname"])
def test_new_findings_payload_escapes_as_field_by_field(rows, branch):
    made = NewFindings(
        project_id=7,
        first_number=41,
        branch=branch,
        report_id=3,
        commit="a" * 40,
        seen_at=NOW,
        now=NOW,
    )
    stamp = NOW.isoformat()
    shared = [7, branch, stamp, 3, 3, "a" * 40, "a" * 40, "", stamp, stamp, stamp]
    expected = ""
    for r in rows:
        own = [
            41 + r.seq,
            *r[r._fields.index("fingerprint") : r._fields.index("suppressed")],
            "suppressed" if r.suppressed else "open",
            r.suppression_reason,
            r.extra,
            r.content_key,
        ]
        expected += "\t".join(escaped(v) for v in [*own, *shared]) + "\n"
    body = made.payload(rows)
    assert body == expected.encode()
    assert len(made.columns.split(",")) == len(own) + len(shared)
