"""What every statement of a scan merge shares: the report's place (:class:`ScanContext`),
adapted parameters, and transitions that log themselves (:class:`MergeSQL`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from findings.lifecycle import Status
from findings.models import Project, Report, ReportScope


@dataclass(frozen=True)
class ScanContext:
    """Where a scan report sits: its project, commit, branch and place in time."""

    project: Project
    report: Report
    commit: str
    branch: str
    order_at: datetime


def in_list(values: Iterable[str]) -> str:
    """A SQL list of status names; they come from the lifecycle's own enums, never from input."""
    return "(" + ", ".join(f"'{Status(value).value}'" for value in sorted(values)) + ")"


def next_scope_report(ctx: ScanContext, tool: str, category: str) -> ReportScope | None:
    """The finished report of the same scope that comes next after this one in time."""
    return (
        ReportScope.objects.filter(
            project=ctx.project,
            tool=tool,
            category=category,
            branch=ctx.branch,
            order_at__gt=ctx.order_at,
            report__state=Report.State.DONE,
        )
        .select_related("report")
        .order_by("order_at", "report_id")
        .first()
    )


class MergeSQL:
    """Small helpers for the merge: adapted parameters and transitions that log themselves."""

    def __init__(self, ctx: ScanContext) -> None:
        self.ctx = ctx
        self.now = self.adapt(timezone.now())
        self.at = self.adapt(ctx.order_at)

    @staticmethod
    def adapt(value: datetime):
        return connection.ops.adapt_datetimefield_value(value)

    def run(self, statement: str, params: Sequence = ()) -> int:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return max(cursor.rowcount, 0)

    def scalar(self, statement: str, params: Sequence = ()) -> int:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return int(cursor.fetchone()[0] or 0)

    def analyze(self, table: str) -> None:
        # Temporary tables get no automatic statistics; without them PostgreSQL guesses badly.
        if connection.vendor == "postgresql":
            self.run(f"ANALYZE {table}")

    def transition(
        self,
        condition: str,
        params: list,
        event: str,
        moves: dict[Status, Status],
        note: str,
        *,
        fix: bool = False,
        scan_change: str | None = None,
    ) -> int:
        """Move every finding matching ``condition`` as ``moves`` says, with one Event each;
        ``scan_change``, when given, is how the scan saw it go (``Finding.scan_change``)."""
        after = (
            "CASE status "
            + " ".join(f"WHEN '{before.value}' THEN '{to.value}'" for before, to in moves.items())
            + " END"
        )
        self.run(
            f"""INSERT INTO findings_event (project_id, finding_id, report_id, action, before,
                after, note, created_at)
            SELECT project_id, id, %s, %s, status, {after}, %s, %s FROM findings_finding
            WHERE {condition}""",
            [self.ctx.report.pk, str(event), note[:500], self.now, *params],
        )
        assignments = f"status = {after}, status_changed_at = %s"
        values: list = [self.now]
        if fix:
            assignments += ", fixed_in_report_id = %s, fixed_in_commit = %s, fixed_at = %s"
            values += [self.ctx.report.pk, self.ctx.commit, self.at]
        if scan_change is not None:
            assignments += ", scan_change = %s"
            values.append(scan_change)
        regressing = [before for before, to in moves.items() if to == Status.REGRESSED]
        if regressing:
            # A regressed finding is not fixed anywhere; the Events keep when it was.
            cleared = f"CASE WHEN status IN {in_list(regressing)} THEN %s ELSE {{}} END"
            assignments += (
                ", fixed_in_report_id = "
                + cleared.format("fixed_in_report_id")
                + ", fixed_in_commit = "
                + cleared.format("fixed_in_commit")
                + ", fixed_at = "
                + cleared.format("fixed_at")
            )
            values += [None, "", None]
        return self.run(
            f"UPDATE findings_finding SET {assignments} WHERE {condition}", [*values, *params]
        )
