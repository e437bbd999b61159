"""A scan report's rows as PostgreSQL ``COPY ... FROM STDIN`` bodies (text format).

The import's parse thread makes them (see scanners.pipeline), so the thread that holds the
transaction only sends bytes. Rows come from scanners.normalise.RowMaker, whose texts are
already storable (no NUL, no lone surrogate).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

STAGE_COLUMNS = (
    "seq, fingerprint, tool, category, rule_id, title, message, severity, cwe, path, start_line, "
    "end_line, snippet, suppressed, suppression_reason, extra"
)
"""The columns of a staged row, in RowMaker's order."""

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if type(value) is not str:
        return str(value)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


# Separators while a batch's lines (16 fields) are made: no text holds a NUL (RowMaker
# replaced them), and a text holding \x01 sends its batch the slow way.
_SEP, _END = "\x00", "\x01"


def _body(lines: list[str], end: str) -> bytes | None:
    """Staged rows' lines made with ``_SEP`` and ``_END`` as one COPY body, every text
    escaped at once: a few passes of ``str.replace`` (loops in C) over the whole batch
    instead of a look at each field. Each ``_END`` becomes ``end``; None if a text holds
    ``_END`` itself."""
    body = "".join(lines)
    if body.count(_END) != len(lines) or body.count(_SEP) != len(lines) * 15:
        return None
    for char, escape in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        if char in body:
            body = body.replace(char, escape)
    return body.replace(_SEP, "\t").replace(_END, end).encode()


def _fast(rows: Sequence[tuple], offset: int, yes: str, no: str, end: str) -> bytes | None:
    """Rows as a COPY body the fast way (see _body): ``offset`` added to ``seq``, ``yes`` or
    ``no`` for ``suppressed``, ``end`` after each row's own fields. None when a row lacks its
    line numbers (NULL, written by the slow way) or a text holds ``_END``."""
    if any(r[10] is None or r[11] is None for r in rows):
        return None
    lines = [
        _SEP.join(
            (
                str(offset + r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                str(r[7]),
                r[8],
                r[9],
                str(r[10]),
                str(r[11]),
                r[12],
                yes if r[13] else no,
                r[14],
                r[15],
            )
        )
        + _END
        for r in rows
    ]
    return _body(lines, end)


def _lines(rows) -> bytes:
    """Rows of any width as COPY text, escaped field by field."""
    return "".join(["\t".join([_field(v) for v in row]) + "\n" for row in rows]).encode()


def stage_payload(rows: Sequence[tuple]) -> bytes:
    """Staged rows for ``COPY <table> (STAGE_COLUMNS)``."""
    body = _fast(rows, 0, "t", "f", "\n")
    return _lines(rows) if body is None else body


def stage_titles(titles) -> bytes:
    """(tool, rule id, title) triples for ``COPY <table> (tool, rule_id, title)``."""
    return _lines(titles)


class NewFindings:
    """Staged rows as new findings, for ``COPY findings_finding (columns)``: the first
    report of a project, where every row is new and the row's place in the report (``seq``)
    gives its number."""

    columns = (
        "number, fingerprint, tool, category, rule_id, title, message, severity, cwe, path, "
        "start_line, end_line, snippet, status, status_reason, extra, project_id, branch, "
        "status_changed_at, first_seen_report_id, last_seen_report_id, first_seen_commit, "
        "last_seen_commit, fixed_in_commit, first_seen_at, last_seen_at, created_at"
    )

    def __init__(
        self,
        *,
        project_id: int,
        first_number: int,
        branch: str,
        report_id: int,
        commit: str,
        seen_at: datetime,
        now: datetime,
    ) -> None:
        self.first_number = first_number
        # What every new finding of the report shares: the columns after ``extra``.
        shared = (
            str(project_id),
            branch,
            now.isoformat(),
            str(report_id),
            str(report_id),
            commit,
            commit,
            "",
            seen_at.isoformat(),
            seen_at.isoformat(),
            now.isoformat(),
        )
        self.suffix = "\t" + "\t".join(_field(v) for v in shared) + "\n"

    def payload(self, rows: Sequence[tuple]) -> bytes:
        body = _fast(rows, self.first_number, "suppressed", "open", self.suffix)
        if body is not None:
            return body
        first, suffix = self.first_number, self.suffix
        return "".join(
            [
                f"{first + row[0]}\t"
                + "\t".join([_field(v) for v in row[1:13]])
                + ("\tsuppressed\t" if row[13] else "\topen\t")
                + _field(row[14])
                + "\t"
                + _field(row[15])
                + suffix
                for row in rows
            ]
        ).encode()
