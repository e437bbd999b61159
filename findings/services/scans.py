"""The merge of one scanner report into a project's findings.

It is set-based SQL over a staged temporary table rather than ORM saves: one report can carry
hundreds of thousands of results, and the lifecycle pass must stay a few statements whatever
the size. It is written once for PostgreSQL and SQLite (both support ``UPDATE ... FROM``,
window functions and ``INSERT ... SELECT``); only loading differs (COPY on PostgreSQL,
batched inserts on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from findings import lifecycle
from findings.lifecycle import Event as LifecycleEvent
from findings.lifecycle import Status
from findings.models import Project, Report, ReportScope
from findings.services.projects import status_counts_refresh

_STAGE_DDL = """
CREATE TEMPORARY TABLE ad_stage (
    seq BIGINT, fingerprint VARCHAR(80), tool TEXT, category TEXT, rule_id TEXT, title TEXT,
    message TEXT, severity SMALLINT, cwe TEXT, path TEXT, start_line INTEGER,
    end_line INTEGER, snippet TEXT, suppressed BOOLEAN, suppression_reason TEXT, extra TEXT
)
"""
_STAGE_COLUMNS = (
    "seq, fingerprint, tool, category, rule_id, title, message, severity, cwe, path, start_line, "
    "end_line, snippet, suppressed, suppression_reason, extra"
)
_TEMP_TABLES = ("ad_stage", "ad_seen", "ad_paths")


MERGE_WORK_MEM = "64MB"
"""Sort memory for the merge's own transaction (PostgreSQL): a 100,000-result report's
numbering sort then stays in memory."""


class ScanStage:
    """One report's normalised rows in a temporary table on this connection.

    Filling it writes nothing a user can see, so a report that fails half way through
    parsing leaves the database as it was.
    """

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> ScanStage:
        _drop_temp_tables()
        with connection.cursor() as cursor:
            cursor.execute(_STAGE_DDL)
        return self

    def __exit__(self, *exc) -> None:
        _drop_temp_tables()

    def add(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY ad_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * 16)
                cursor.executemany(
                    f"INSERT INTO ad_stage ({_STAGE_COLUMNS}) VALUES ({marks})", rows
                )
        self.count += len(rows)


def _drop_temp_tables() -> None:
    with connection.cursor() as cursor:
        for table in _TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


@dataclass
class ScanCounts:
    total: int = 0
    new: int = 0
    still_open: int = 0
    fixed: int = 0
    regressed: int = 0
    suppressed: int = 0
    historic: int = 0


@dataclass(frozen=True)
class ScanContext:
    """Where a scan report sits: its project, commit, branch and place in time."""

    project: Project
    report: Report
    commit: str
    branch: str
    order_at: datetime
    scopes: tuple[tuple[str, str], ...]
    scanned_paths: tuple[str, ...] | None


def report_record_scan(*, context: ScanContext, stage: ScanStage) -> ScanCounts:
    """Merge a staged scan into the project's findings and run the lifecycle pass.

    Must run inside ``transaction.atomic``; takes the project's row lock so two imports into
    one project queue up instead of racing. Findings are matched by fingerprint; new ones get
    the next human numbers; seen ones move on ``seen``/``seen_suppressed``; open-like findings
    of the report's scopes (same tool, SARIF category and branch, and within the scanned paths
    when the report lists them) that the report no longer contains, and that no newer report
    has seen, move on ``missing`` with this report as the fix. Reports are placed in time by
    ``order_at`` (commit date; arrival breaks ties), never by arrival alone: an older report
    fills in history but cannot reopen what a newer one fixed.
    """
    ctx = context
    project = Project.objects.select_for_update().get(pk=ctx.project.pk)
    sql = _MergeSQL(ctx)
    if connection.vendor == "postgresql":
        # The new findings are numbered in report order: a sort of the whole staged report,
        # which spills to disk under the default 4 MB. For this transaction only.
        sql.run(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'")
    counts = ScanCounts(total=stage.count)

    sql.run("CREATE INDEX ad_stage_fingerprint ON ad_stage (fingerprint)")

    # The existing findings this report sees, with what it says about them now.
    sql.run(
        """CREATE TEMPORARY TABLE ad_seen AS
        SELECT f.id AS finding_id, s.suppressed AS suppressed,
               CASE WHEN f.last_seen_at <= %s THEN 1 ELSE 0 END AS newest,
               s.path, s.start_line, s.end_line, s.snippet, s.title, s.message, s.severity
        FROM ad_stage s JOIN findings_finding f
             ON f.project_id = %s AND f.fingerprint = s.fingerprint""",
        [sql.at, project.pk],
    )
    sql.run("CREATE UNIQUE INDEX ad_seen_finding ON ad_seen (finding_id)")
    sql.analyze("ad_seen")

    first_number = project.next_number
    new_count = stage.count - sql.scalar("SELECT COUNT(*) FROM ad_seen")
    if new_count:
        Project.objects.filter(pk=project.pk).update(next_number=first_number + new_count)
        jsonb = "CAST(s.extra AS jsonb)" if connection.vendor == "postgresql" else "s.extra"
        sql.run(
            f"""INSERT INTO findings_finding (
                project_id, number, fingerprint, tool, category, branch, rule_id, title, message,
                severity, cwe, path, start_line, end_line, snippet, extra, status,
                status_reason, status_changed_at, first_seen_report_id, last_seen_report_id,
                first_seen_commit, last_seen_commit, fixed_in_commit, first_seen_at,
                last_seen_at, created_at)
            SELECT %s, %s + ROW_NUMBER() OVER (ORDER BY s.seq) - 1, s.fingerprint, s.tool,
                s.category, %s, s.rule_id, s.title, s.message, s.severity, s.cwe, s.path,
                s.start_line, s.end_line, s.snippet, {jsonb},
                CASE WHEN s.suppressed THEN 'suppressed' ELSE 'open' END, s.suppression_reason,
                %s, %s, %s, %s, %s, '', %s, %s, %s
            FROM ad_stage s
            WHERE NOT EXISTS (SELECT 1 FROM findings_finding f
                              WHERE f.project_id = %s AND f.fingerprint = s.fingerprint)""",
            [
                project.pk,
                first_number,
                ctx.branch,
                sql.now,
                ctx.report.pk,
                ctx.report.pk,
                ctx.commit,
                ctx.commit,
                sql.at,
                sql.at,
                sql.now,
                project.pk,
            ],
        )
    new_findings = "project_id = %s AND number >= %s"
    new_params = [project.pk, first_number]

    # Where this report saw each finding: the existing ones from ad_seen, the new ones from
    # their own fresh rows (no second lookup by fingerprint).
    sighting = (
        "INSERT INTO findings_sighting "
        "(report_id, finding_id, path, start_line, end_line, suppressed) "
    )
    sql.run(
        sighting + "SELECT %s, finding_id, path, start_line, end_line, suppressed FROM ad_seen",
        [ctx.report.pk],
    )
    if new_count:
        sql.run(
            sighting
            + f"""SELECT %s, id, path, start_line, end_line,
                CASE WHEN status = 'suppressed' THEN %s ELSE %s END
            FROM findings_finding WHERE {new_findings}""",
            [ctx.report.pk, True, False, *new_params],
        )

    # A finding first met in a report older than the newest of its scope was already gone by
    # the next report of that scope: it is history, recorded as fixed there.
    for tool, category in ctx.scopes:
        following = _next_scope_report(ctx, tool, category)
        if following is None:
            continue
        fixed_by = [following.report_id, following.report.commit, sql.adapt(following.order_at)]
        if new_count:
            counts.historic += sql.run(
                f"""UPDATE findings_finding SET status = %s, fixed_in_report_id = %s,
                    fixed_in_commit = %s, fixed_at = %s
                WHERE {new_findings} AND tool = %s AND category = %s AND status = %s""",
                [Status.VERIFIED, *fixed_by, *new_params, tool, category, Status.OPEN],
            )
        # ... and one seen again between its last sighting and its recorded fix was fixed later.
        sql.run(
            """UPDATE findings_finding SET fixed_in_report_id = %s, fixed_in_commit = %s,
                fixed_at = %s
            WHERE id IN (SELECT finding_id FROM ad_seen) AND tool = %s AND category = %s
              AND fixed_in_report_id IS NOT NULL AND fixed_at > %s""",
            [*fixed_by, tool, category, sql.at],
        )

    # Seen again (newest sightings only): regressions, suppressions and un-suppressions.
    for event, suppressed in ((LifecycleEvent.SEEN, False), (LifecycleEvent.SEEN_SUPPRESSED, True)):
        moves = lifecycle.changes(event)
        regressing = [before for before, after in moves.items() if after == Status.REGRESSED]
        others = [before for before, after in moves.items() if after != Status.REGRESSED]
        guard = []
        if others:
            guard.append(f"status IN {_in(others)}")
        if regressing:
            # Seeing it again before the fix's own date is history, not a regression.
            guard.append(f"(status IN {_in(regressing)} AND (fixed_at IS NULL OR fixed_at <= %s))")
        condition = (
            "id IN (SELECT finding_id FROM ad_seen WHERE newest = 1 AND suppressed = %s) AND ("
            + " OR ".join(guard)
            + ")"
        )
        params = [suppressed] + ([sql.at] if regressing else [])
        note = "reported again as suppressed" if suppressed else "reported again by a scan"
        sql.transition(condition, params, event, moves, note)

    # Where it is now: the newest sighting moves the finding's location and last-seen facts.
    sql.run(
        """UPDATE findings_finding SET last_seen_report_id = %s, last_seen_commit = %s,
            last_seen_at = %s, path = a.path, start_line = a.start_line, end_line = a.end_line,
            snippet = a.snippet, title = a.title, message = a.message, severity = a.severity
        FROM ad_seen a
        WHERE findings_finding.id = a.finding_id AND a.newest = 1""",
        [ctx.report.pk, ctx.commit, sql.at],
    )
    sql.run(
        """UPDATE findings_finding SET first_seen_report_id = %s, first_seen_commit = %s,
            first_seen_at = %s
        WHERE id IN (SELECT finding_id FROM ad_seen WHERE newest = 0) AND first_seen_at > %s""",
        [ctx.report.pk, ctx.commit, sql.at, sql.at],
    )

    # Gone: findings of this report's scopes that it no longer contains.
    if ctx.scanned_paths is not None:
        sql.run("CREATE TEMPORARY TABLE ad_paths (path TEXT PRIMARY KEY)")
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO ad_paths (path) VALUES (%s) ON CONFLICT DO NOTHING",
                [(p,) for p in ctx.scanned_paths],
            )
    in_paths = " AND path IN (SELECT path FROM ad_paths)" if ctx.scanned_paths is not None else ""
    missing = lifecycle.changes(LifecycleEvent.MISSING)
    for tool, category in ctx.scopes:
        # Not in this report: neither one it saw again (ad_seen) nor one it created (numbered
        # from first_number). Not read from this report's sightings: they were written in this
        # transaction, so PostgreSQL's statistics know none of them and it may plan a scan of
        # all sightings per finding (minutes at 100,000 findings).
        scope = (
            "project_id = %s AND tool = %s AND category = %s AND branch = %s AND number < %s "
            "AND NOT EXISTS (SELECT 1 FROM ad_seen a WHERE a.finding_id = findings_finding.id)"
            + in_paths
        )
        scope_params = [project.pk, tool, category, ctx.branch, first_number]
        # Only what no newer report has seen: arrival breaks a tie in time.
        gone = scope + " AND last_seen_at <= %s"
        gone_params = [*scope_params, sql.at]
        sql.transition(
            gone + f" AND status IN {_in(missing)}",
            gone_params,
            LifecycleEvent.MISSING,
            missing,
            f"no longer reported by {tool}",
            fix=True,
        )
        # Already closed by a newer report, but this older one shows it was gone sooner.
        sql.run(
            f"""UPDATE findings_finding SET fixed_in_report_id = %s, fixed_in_commit = %s,
                fixed_at = %s WHERE {gone} AND fixed_in_report_id IS NOT NULL AND fixed_at > %s""",
            [ctx.report.pk, ctx.commit, sql.at, *gone_params, sql.at],
        )
        # Seen before and after this (late, older) report but not in it: it was fixed here
        # and came back later.
        sql.transition(
            scope + " AND first_seen_at < %s AND last_seen_at > %s AND status = %s",
            [*scope_params, sql.at, sql.at, Status.OPEN],
            LifecycleEvent.SEEN,
            {Status.OPEN: Status.REGRESSED},
            "absent from an older report that arrived late: it was fixed and came back",
        )

    counts.fixed = sql.scalar(
        "SELECT COUNT(*) FROM findings_event WHERE report_id = %s AND action = %s",
        [ctx.report.pk, LifecycleEvent.MISSING],
    )
    counts.regressed = sql.scalar(
        "SELECT COUNT(*) FROM findings_event WHERE report_id = %s AND after = %s",
        [ctx.report.pk, Status.REGRESSED],
    )
    counts.suppressed = sql.scalar("SELECT COUNT(*) FROM ad_stage WHERE suppressed")
    counts.still_open = sql.scalar(
        "SELECT COUNT(*) FROM findings_finding WHERE id IN (SELECT finding_id FROM ad_seen) "
        f"AND status IN {_in(lifecycle.OPEN_LIKE)}"
    )
    counts.new = (
        sql.scalar(
            f"SELECT COUNT(*) FROM findings_finding WHERE {new_findings} AND status = %s",
            [*new_params, Status.OPEN],
        )
        if new_count
        else 0
    )

    status_counts_refresh(project_id=project.pk)
    ReportScope.objects.bulk_create(
        ReportScope(
            report=ctx.report,
            project=project,
            tool=tool,
            category=category,
            branch=ctx.branch,
            order_at=ctx.order_at,
        )
        for tool, category in ctx.scopes
    )
    return counts


def _in(values: Iterable[str]) -> str:
    """A SQL list of status names; they come from the lifecycle's own enums, never from input."""
    return "(" + ", ".join(f"'{Status(value).value}'" for value in sorted(values)) + ")"


def _next_scope_report(ctx: ScanContext, tool: str, category: str) -> ReportScope | None:
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


class _MergeSQL:
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
    ) -> int:
        """Move every finding matching ``condition`` as ``moves`` says, with one Event each."""
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
        regressing = [before for before, to in moves.items() if to == Status.REGRESSED]
        if regressing:
            # A regressed finding is not fixed anywhere; the Events keep when it was.
            cleared = f"CASE WHEN status IN {_in(regressing)} THEN %s ELSE {{}} END"
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
