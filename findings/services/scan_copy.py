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


def stage_payload(rows: Sequence[tuple]) -> bytes:
    """Staged rows for ``COPY <table> (STAGE_COLUMNS)``."""
    return "".join(["\t".join([_field(v) for v in row]) + "\n" for row in rows]).encode()


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
            _field(branch),
            now.isoformat(),
            str(report_id),
            str(report_id),
            _field(commit),
            _field(commit),
            "",
            seen_at.isoformat(),
            seen_at.isoformat(),
            now.isoformat(),
        )
        self.suffix = "\t" + "\t".join(shared) + "\n"

    def payload(self, rows: Sequence[tuple]) -> bytes:
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
