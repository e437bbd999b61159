"""A scan report's rows as PostgreSQL ``COPY ... FROM STDIN`` bodies (text format).

The import's parse thread makes them (see scanners.pipeline), so the thread that holds the
transaction only sends bytes. Rows are :class:`scanners.rows.StagedRow`, whose texts are
already storable (no NUL, no lone surrogate).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from scanners.rows import StagedRow

STAGE_COLUMNS = ", ".join(StagedRow._fields)
"""The columns of a staged row, in its fields' order."""

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


# Separators while a batch's lines (a staged row's fields) are made: no text holds a NUL
# (RowMaker replaced them), and a text holding \x01 sends its batch the slow way.
_SEP, _END = "\x00", "\x01"
_SEPS = len(StagedRow._fields) - 1


def _body(lines: list[str], end: str) -> bytes | None:
    """Staged rows' lines made with ``_SEP`` and ``_END`` as one COPY body, every text
    escaped at once: a few passes of ``str.replace`` (loops in C) over the whole batch
    instead of a look at each field. Each ``_END`` becomes ``end``; None if a text holds
    ``_END`` itself."""
    body = "".join(lines)
    if body.count(_END) != len(lines) or body.count(_SEP) != len(lines) * _SEPS:
        return None
    for char, escape in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        if char in body:
            body = body.replace(char, escape)
    return body.replace(_SEP, "\t").replace(_END, end).encode()


def _fast(rows: Sequence[StagedRow], offset: int, yes: str, no: str, end: str) -> bytes | None:
    """Rows as a COPY body the fast way (see _body): ``offset`` added to ``seq``, ``yes`` or
    ``no`` for ``suppressed``, ``end`` after each row's own fields. None when a row lacks its
    line numbers (NULL, written by the slow way) or a text holds ``_END``."""
    if any(r.start_line is None or r.end_line is None for r in rows):
        return None
    lines = [
        _SEP.join(
            (
                str(offset + r.seq),
                r.fingerprint,
                r.tool,
                r.category,
                r.rule_id,
                r.title,
                r.message,
                str(r.severity),
                r.cwe,
                r.path,
                str(r.start_line),
                str(r.end_line),
                r.snippet,
                yes if r.suppressed else no,
                r.suppression_reason,
                r.extra,
                r.content_key,
            )
        )
        + _END
        for r in rows
    ]
    return _body(lines, end)


def _lines(rows: Iterable[tuple]) -> bytes:
    """Rows of any width as COPY text, escaped field by field."""
    return "".join(["\t".join([_field(v) for v in row]) + "\n" for row in rows]).encode()


def stage_payload(rows: Sequence[StagedRow]) -> bytes:
    """Staged rows for ``COPY <table> (STAGE_COLUMNS)``."""
    body = _fast(rows, 0, "t", "f", "\n")
    return _lines(rows) if body is None else body


def stage_titles(titles: Iterable[tuple[str, str, str]]) -> bytes:
    """(tool, rule id, title) triples for ``COPY <table> (tool, rule_id, title)``."""
    return _lines(titles)


class NewFindings:
    """Staged rows as new findings, for ``COPY findings_finding (columns)``: the first
    report of a project, where every row is new and the row's place in the report (``seq``)
    gives its number."""

    columns = (
        "number, fingerprint, tool, category, rule_id, title, message, severity, cwe, path, "
        "start_line, end_line, snippet, status, status_reason, extra, content_key, project_id, "
        "branch, "
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
        # What every new finding of the report shares: the columns after ``content_key``.
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

    def payload(self, rows: Sequence[StagedRow]) -> bytes:
        body = _fast(rows, self.first_number, "suppressed", "open", self.suffix)
        if body is not None:
            return body
        first, suffix = self.first_number, self.suffix
        # The slow way: each field escaped on its own; ``suppressed`` becomes the status.
        # (mypy types a NamedTuple's slice as one of its fields, hence the ignore below.)
        return "".join(
            [
                f"{first + row.seq}\t"
                + "\t".join([_field(v) for v in row[_OWN_TEXTS]])  # type: ignore[union-attr]
                + ("\tsuppressed\t" if row.suppressed else "\topen\t")
                + _field(row.suppression_reason)
                + "\t"
                + _field(row.extra)
                + "\t"
                + _field(row.content_key)
                + suffix
                for row in rows
            ]
        ).encode()


_OWN_TEXTS = slice(StagedRow._fields.index("fingerprint"), StagedRow._fields.index("suppressed"))
"""The fields a new finding takes as they are, in the staged row's order."""
