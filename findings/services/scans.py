"""The merge of one scanner report into a project's findings.

It is set-based SQL over temporary tables rather than ORM saves: one report can carry
hundreds of thousands of results, and the lifecycle pass must stay a few statements whatever
the size. It is written once for PostgreSQL and SQLite (both support ``UPDATE ... FROM``,
window functions and ``INSERT ... SELECT``); only loading differs (COPY on PostgreSQL,
batched inserts on SQLite).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from findings import lifecycle
from findings.lifecycle import Event as LifecycleEvent
from findings.lifecycle import Status
from findings.models import Finding, Project, Report, ReportScope, Rule, StatusCount
from findings.services.projects import status_counts_refresh
from findings.services.scan_copy import STAGE_COLUMNS, NewFindings, stage_payload, stage_titles

_ROW_COLUMNS = """seq BIGINT, fingerprint VARCHAR(80), tool TEXT, category TEXT, rule_id TEXT,
    title TEXT, message TEXT, severity SMALLINT, cwe TEXT, path TEXT, start_line INTEGER,
    end_line INTEGER, snippet TEXT, suppressed BOOLEAN, suppression_reason TEXT, extra TEXT"""
# The position of ``suppressed`` in a staged row (scanners.normalise.RowMaker builds them).
SUPPRESSED = 13
_TEMP_TABLES = ("ad_stage", "ad_batch", "ad_seen", "ad_paths", "ad_titles", "ad_scope")
_MERGE_TABLES = ("ad_batch", "ad_seen", "ad_paths", "ad_titles", "ad_scope")


TITLES_HELD = 10_000
"""Distinct rule titles a first report's merge holds in memory before it writes them out."""

MERGE_WORK_MEM = "64MB"
"""Sort and hash memory for the merge's own transaction (PostgreSQL)."""


def _copy(table: str, columns: str, payload: bytes) -> None:
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            copy.write(payload)


def _load(table: str, rows: Sequence[tuple], payload: bytes | None = None) -> None:
    """Rows into one of the merge's temporary tables: COPY on PostgreSQL."""
    if connection.vendor == "postgresql":
        _copy(table, STAGE_COLUMNS, stage_payload(rows) if payload is None else payload)
        return
    marks = ", ".join(["%s"] * 16)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({STAGE_COLUMNS}) VALUES ({marks})", rows)


class ScanStage:
    """A whole report's normalised rows in a temporary table on this connection, for imports
    that parse everything before they merge (see :class:`ScanMerge`).

    Filling it writes nothing a user can see, so a report that fails half way through
    parsing leaves the database as it was.
    """

    def __init__(self) -> None:
        self.count = 0
        self.suppressed = 0

    def __enter__(self) -> ScanStage:
        _drop_temp_tables()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE ad_stage ({_ROW_COLUMNS})")
        return self

    def __exit__(self, *exc) -> None:
        _drop_temp_tables()

    def add(self, rows: Sequence[tuple]) -> None:
        if rows:
            _load("ad_stage", rows)
            self.count += len(rows)
            self.suppressed += sum(1 for row in rows if row[SUPPRESSED])


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


class ScanMerge:
    """Merges one scan report into its project's findings, batch by batch, then runs the
    lifecycle pass; use inside ``transaction.atomic`` as a context manager.

    Entering takes the project's row lock, so two imports into one project queue up instead
    of racing. Findings are matched by fingerprint; new ones get the next human numbers in
    report order; each batch's new findings are written as it arrives (:meth:`add`), so the
    database inserts one batch while the caller parses the next. :meth:`finish` then moves
    the seen ones on ``seen``/``seen_suppressed``, and the open-like findings of the report's
    scopes (same tool, SARIF category and branch, within the scanned paths when the report
    lists them) that the report no longer contains, and that no newer report has seen, on
    ``missing`` with this report as the fix. Reports are placed in time by ``order_at``
    (commit date; arrival breaks ties), never by arrival alone: an older report fills in
    history but cannot reopen what a newer one fixed.
    """

    def __init__(self, context: ScanContext) -> None:
        self.ctx = context
        self.sql = _MergeSQL(context)
        self.counts = ScanCounts()
        # (severity, status) of the findings a first report copies in: its status summary.
        self.cells: Counter[tuple[int, str]] = Counter()
        # Their distinct (tool, rule id, title), until a flush into ad_titles.
        self.titles: set[tuple[str, str, str]] = set()

    def __enter__(self) -> ScanMerge:
        ctx, sql = self.ctx, self.sql
        self.project = Project.objects.select_for_update().get(pk=ctx.project.pk)
        if connection.vendor == "postgresql":
            # For this transaction only: sorts and hashes of a large report stay in memory;
            # no JIT compilation (the planner, blind to the rows this transaction wrote,
            # prices a batch high enough to compile it: most of a second each, to save
            # nothing); and the rule-title trigger leaves this merge's inserts to _absorb.
            sql.run(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'")
            sql.run("SET LOCAL jit = off")
            sql.run("SET LOCAL auditdash.merging = 'on'")
        for table in _MERGE_TABLES:
            sql.run(f"DROP TABLE IF EXISTS {table}")
        sql.run(f"CREATE TEMPORARY TABLE ad_batch ({_ROW_COLUMNS})")
        sql.run("CREATE TEMPORARY TABLE ad_titles (tool TEXT, rule_id TEXT, title TEXT)")
        # The existing findings this report sees, with what it says about them now.
        sql.run(
            """CREATE TEMPORARY TABLE ad_seen (finding_id BIGINT PRIMARY KEY, suppressed BOOLEAN,
            newest INTEGER, path TEXT, start_line INTEGER, end_line INTEGER, snippet TEXT,
            title TEXT, message TEXT, severity SMALLINT)"""
        )
        self.first_number = self.next_number = self.project.next_number
        self.empty = (
            not Finding.objects.filter(project=self.project)
            .values_list("number", flat=True)
            .order_by("number")[:1]
        )
        # A project's first report, streamed into PostgreSQL: each batch is copied straight
        # into findings_finding (see add), without the temporary table.
        self.new_findings = None
        if self.empty and connection.vendor == "postgresql":
            self.new_findings = NewFindings(
                project_id=self.project.pk,
                first_number=self.first_number,
                branch=ctx.branch,
                report_id=ctx.report.pk,
                commit=ctx.commit,
                seen_at=ctx.order_at,
                now=sql.now,
            )
        return self

    def __exit__(self, kind, *exc) -> None:
        # On failure the transaction's rollback takes the temporary tables with it.
        if kind is None:
            for table in _MERGE_TABLES:
                self.sql.run(f"DROP TABLE IF EXISTS {table}")

    def payload(self, rows: Sequence[tuple]) -> bytes:
        """What :meth:`add` loads for ``rows`` on PostgreSQL. It touches no connection, so
        the thread that parses can make it while this one waits on the database."""
        if self.new_findings is not None:
            return self.new_findings.payload(rows)
        return stage_payload(rows)

    def add(self, rows: Sequence[tuple], payload: bytes | None = None) -> None:
        """Merge one batch of staged rows (scanners.normalise.RowMaker), in report order;
        ``payload``, when given, is :meth:`payload` of the same rows."""
        if not rows:
            return
        if self.new_findings is not None:
            self._insert_new(rows, payload or self.payload(rows))
        else:
            _load("ad_batch", rows, payload)
            self._absorb("ad_batch")
            # Not DELETE: the dead rows would stay in the table's pages, and every later
            # batch would read them again.
            self.sql.run(
                "TRUNCATE ad_batch" if connection.vendor == "postgresql" else "DELETE FROM ad_batch"
            )
        self.counts.total += len(rows)
        self.counts.suppressed += sum(1 for row in rows if row[SUPPRESSED])

    def add_stage(self, stage: ScanStage) -> None:
        """Merge a whole staged report at once."""
        if stage.count:
            self._absorb("ad_stage")
        self.counts.total += stage.count
        self.counts.suppressed += stage.suppressed

    def _insert_new(self, rows: Sequence[tuple], payload: bytes) -> None:
        """A batch of the project's first report: every row a new finding, copied in."""
        ctx, sql, project = self.ctx, self.sql, self.project
        _copy("findings_finding", NewFindings.columns, payload)
        # Their sightings, read back by number; their rule titles from the rows themselves.
        sql.run(
            """INSERT INTO findings_sighting
                (report_id, finding_id, path, start_line, end_line, suppressed)
            SELECT %s, id, path, start_line, end_line, status = 'suppressed'
            FROM findings_finding WHERE project_id = %s AND number >= %s AND number < %s""",
            [ctx.report.pk, project.pk, self.next_number, self.next_number + len(rows)],
        )
        self.titles.update((row[2], row[4], row[5]) for row in rows)
        if len(self.titles) >= TITLES_HELD:
            self._flush_titles()
        self.cells.update(
            (row[7], Status.SUPPRESSED if row[SUPPRESSED] else Status.OPEN) for row in rows
        )
        self.next_number += len(rows)

    def _flush_titles(self) -> None:
        """The rule titles gathered from copied-in rows, into ``ad_titles`` (see finish)."""
        if self.titles:
            payload = stage_titles(self.titles)
            _copy("ad_titles", "tool, rule_id, title", payload)
            self.titles.clear()

    def _absorb(self, source: str) -> None:
        """Match ``source``'s rows to the project's findings by fingerprint: the known ones
        go to ``ad_seen``, the others become findings numbered in report order, each with
        this report's sighting."""
        ctx, sql, project = self.ctx, self.sql, self.project
        known = """INSERT INTO ad_seen (finding_id, suppressed, newest, path, start_line,
                end_line, snippet, title, message, severity)
            SELECT {id}, s.suppressed, CASE WHEN {last_seen} <= %s THEN 1 ELSE 0 END,
                s.path, s.start_line, s.end_line, s.snippet, s.title, s.message, s.severity"""
        insert = """INSERT INTO findings_finding (
                project_id, number, fingerprint, tool, category, branch, rule_id, title, message,
                severity, cwe, path, start_line, end_line, snippet, extra, status,
                status_reason, status_changed_at, first_seen_report_id, last_seen_report_id,
                first_seen_commit, last_seen_commit, fixed_in_commit, first_seen_at,
                last_seen_at, created_at)
            SELECT %s, {number}, s.fingerprint, s.tool,
                s.category, %s, s.rule_id, s.title, s.message, s.severity, s.cwe, s.path,
                s.start_line, s.end_line, s.snippet, {extra},
                CASE WHEN s.suppressed THEN 'suppressed' ELSE 'open' END, s.suppression_reason,
                %s, %s, %s, %s, %s, '', %s, %s, %s"""
        # New findings are numbered in report order. In a project's first report every row is
        # new and ``seq`` is the row's place in the report, so the number needs no sort.
        if self.empty:
            number, base = "%s + s.seq", self.first_number
        else:
            number, base = "%s + ROW_NUMBER() OVER (ORDER BY s.seq) - 1", self.next_number
        values = [
            project.pk,
            base,
            ctx.branch,
            sql.now,
            ctx.report.pk,
            ctx.report.pk,
            ctx.commit,
            ctx.commit,
            sql.at,
            sql.at,
            sql.now,
        ]
        sighting = """INSERT INTO findings_sighting
                (report_id, finding_id, path, start_line, end_line, suppressed)
            SELECT %s, id, path, start_line, end_line,
                CASE WHEN status = 'suppressed' THEN %s ELSE %s END"""
        if connection.vendor == "postgresql":
            # One statement per batch, planned the same whatever the planner believes: its
            # statistics know nothing of the findings this transaction wrote, and taking the
            # project for nearly empty it would scan all of them once per batch. LATERAL ...
            # LIMIT 1 makes it one lookup per row, by both columns of the unique
            # finding_fingerprint. The project is named as ``(SELECT %s)``, a value the
            # planner cannot see: priced as an average project, reading the project's range
            # of another index would be dear, whereas for the constant, stale statistics may
            # promise that the project holds one finding, and a narrower index wins the tie.
            # A project without findings (its first report) has nothing to look up: the
            # report's fingerprints are distinct and the project row is locked.
            sightings = [ctx.report.pk, True, False]
            if self.empty:
                new = sql.run(
                    f"""WITH new AS ({insert.format(extra="CAST(s.extra AS jsonb)", number=number)}
                    FROM {source} s RETURNING id, path, start_line, end_line, status)
                    {sighting} FROM new""",
                    [*values, *sightings],
                )
            else:
                new = sql.run(
                    f"""WITH matched AS MATERIALIZED (
                        SELECT s.*, f.id AS finding_id, f.last_seen_at AS known_at
                        FROM {source} s LEFT JOIN LATERAL (
                            SELECT id, last_seen_at FROM findings_finding
                            WHERE project_id = (SELECT %s::bigint)
                              AND fingerprint = s.fingerprint LIMIT 1
                        ) f ON true),
                    known AS ({known.format(id="s.finding_id", last_seen="s.known_at")}
                        FROM matched s WHERE s.finding_id IS NOT NULL),
                    new AS ({insert.format(extra="CAST(s.extra AS jsonb)", number=number)}
                        FROM matched s WHERE s.finding_id IS NULL
                        RETURNING id, path, start_line, end_line, status)
                    {sighting} FROM new""",
                    [project.pk, sql.at, *values, *sightings],
                )
            if new:
                # For RuleTitle, recorded once in finish: the rule-title trigger is off in
                # this transaction (see __enter__).
                sql.run(
                    "INSERT INTO ad_titles (tool, rule_id, title) "
                    f"SELECT DISTINCT tool, rule_id, title FROM {source}"
                )
        elif self.empty:
            new = sql.run(
                insert.format(extra="s.extra", number=number) + f" FROM {source} s", values
            )
        else:
            sql.run(
                known.format(id="f.id", last_seen="f.last_seen_at")
                + f""" FROM {source} s JOIN findings_finding f
                    ON f.project_id = %s AND f.fingerprint = s.fingerprint""",
                [sql.at, project.pk],
            )
            new = sql.run(
                insert.format(extra="s.extra", number=number)
                + f""" FROM {source} s WHERE NOT EXISTS (SELECT 1 FROM findings_finding f
                    WHERE f.project_id = %s AND f.fingerprint = s.fingerprint)""",
                [*values, project.pk],
            )
        if new and connection.vendor != "postgresql":
            sql.run(
                f"{sighting} FROM findings_finding "
                "WHERE project_id = %s AND number >= %s AND number < %s",
                [
                    ctx.report.pk,
                    True,
                    False,
                    project.pk,
                    self.next_number,
                    self.next_number + new,
                ],
            )
        self.next_number += new

    def finish(
        self,
        *,
        scopes: tuple[tuple[str, str], ...],
        scanned_paths: tuple[str, ...] | None,
        rules: Sequence[tuple[str, str, dict]] = (),
    ) -> ScanCounts:
        """The lifecycle pass once every row is in; returns the report's counts. ``rules``
        are (tool, rule id, details) as the report describes its rules: they replace what
        an earlier report said."""
        ctx, sql, project, counts = self.ctx, self.sql, self.project, self.counts
        if rules:
            now = timezone.now()
            Rule.objects.bulk_create(
                [
                    Rule(
                        project=project,
                        tool=tool,
                        rule_id=rule_id,
                        details=details,
                        updated_at=now,
                    )
                    for tool, rule_id, details in rules
                ],
                batch_size=500,
                update_conflicts=True,
                unique_fields=["project", "tool", "rule_id"],
                update_fields=["details", "updated_at"],
            )
        # Statistics of the columns the lifecycle statements join and filter on; the texts
        # (snippets, messages) would cost most of the sampling and inform no plan.
        sql.analyze("ad_seen (finding_id, suppressed, newest)")
        first_number = self.first_number
        new_count = self.next_number - first_number
        if new_count:
            Project.objects.filter(pk=project.pk).update(next_number=self.next_number)
        new_findings = "project_id = %s AND number >= %s"
        new_params = [project.pk, first_number]
        if connection.vendor == "postgresql" and new_count:
            self._flush_titles()
            # The report's few distinct pairs once, instead of a trigger call per finding.
            sql.run(
                """INSERT INTO findings_ruletitle (project_id, tool, rule_id, title)
                SELECT DISTINCT %s, t.tool, t.rule_id, t.title FROM ad_titles t
                WHERE NOT EXISTS (SELECT 1 FROM findings_ruletitle r
                    WHERE r.project_id = %s AND r.rule_id = t.rule_id
                      AND LEFT(r.title, 200) = LEFT(t.title, 200)
                      AND r.tool = t.tool AND r.title = t.title)""",
                [project.pk, project.pk],
            )

        # Where this report saw the findings it already knew.
        sql.run(
            """INSERT INTO findings_sighting
                (report_id, finding_id, path, start_line, end_line, suppressed)
            SELECT %s, finding_id, path, start_line, end_line, suppressed FROM ad_seen""",
            [ctx.report.pk],
        )

        # A finding first met in a report older than the newest of its scope was already gone
        # by the next report of that scope: it is history, recorded as fixed there.
        for tool, category in scopes:
            following = _next_scope_report(ctx, tool, category)
            if following is None:
                continue
            fixed_by = [
                following.report_id,
                following.report.commit,
                sql.adapt(following.order_at),
            ]
            if new_count:
                counts.historic += sql.run(
                    f"""UPDATE findings_finding SET status = %s, fixed_in_report_id = %s,
                        fixed_in_commit = %s, fixed_at = %s
                    WHERE {new_findings} AND tool = %s AND category = %s AND status = %s""",
                    [Status.VERIFIED, *fixed_by, *new_params, tool, category, Status.OPEN],
                )
            # ... and one seen again between its last sighting and its recorded fix was fixed
            # later.
            sql.run(
                """UPDATE findings_finding SET fixed_in_report_id = %s, fixed_in_commit = %s,
                    fixed_at = %s
                WHERE id IN (SELECT finding_id FROM ad_seen) AND tool = %s AND category = %s
                  AND fixed_in_report_id IS NOT NULL AND fixed_at > %s""",
                [*fixed_by, tool, category, sql.at],
            )

        # Seen again (newest sightings only): regressions, suppressions and un-suppressions.
        for event, suppressed in (
            (LifecycleEvent.SEEN, False),
            (LifecycleEvent.SEEN_SUPPRESSED, True),
        ):
            moves = lifecycle.changes(event)
            regressing = [before for before, after in moves.items() if after == Status.REGRESSED]
            others = [before for before, after in moves.items() if after != Status.REGRESSED]
            guard = []
            if others:
                guard.append(f"status IN {_in(others)}")
            if regressing:
                # Seeing it again before the fix's own date is history, not a regression.
                guard.append(
                    f"(status IN {_in(regressing)} AND (fixed_at IS NULL OR fixed_at <= %s))"
                )
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
                last_seen_at = %s, path = a.path, start_line = a.start_line,
                end_line = a.end_line, snippet = a.snippet, title = a.title,
                message = a.message, severity = a.severity
            FROM ad_seen a
            WHERE findings_finding.id = a.finding_id AND a.newest = 1""",
            [ctx.report.pk, ctx.commit, sql.at],
        )
        sql.run(
            """UPDATE findings_finding SET first_seen_report_id = %s, first_seen_commit = %s,
                first_seen_at = %s
            WHERE id IN (SELECT finding_id FROM ad_seen WHERE newest = 0)
              AND first_seen_at > %s""",
            [ctx.report.pk, ctx.commit, sql.at, sql.at],
        )

        # Gone: findings of this report's scopes that it no longer contains.
        if scanned_paths is not None:
            sql.run("CREATE TEMPORARY TABLE ad_paths (path TEXT PRIMARY KEY)")
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO ad_paths (path) VALUES (%s) ON CONFLICT DO NOTHING",
                    [(p,) for p in scanned_paths],
                )
        in_paths = " AND path IN (SELECT path FROM ad_paths)" if scanned_paths is not None else ""
        missing = lifecycle.changes(LifecycleEvent.MISSING)
        # A project that had no findings has none to lose: skipped, as the planner, blind to
        # this transaction's rows, may read all the new ones through some project index.
        for tool, category in () if self.empty else scopes:
            # Not in this report: neither one it saw again (ad_seen) nor one it created
            # (numbered from first_number). Not read from this report's sightings: they were
            # written in this transaction, so PostgreSQL's statistics know none of them and
            # it may plan a scan of all sightings per finding (minutes at 100,000 findings).
            # Read once into ad_scope (ids only) for the three passes below, which each read
            # the project's findings of the scope before: now an unchanged rescan, where no
            # finding is missing, reads them once and stops.
            sql.run("DROP TABLE IF EXISTS ad_scope")
            sql.run(
                "CREATE TEMPORARY TABLE ad_scope AS SELECT id FROM findings_finding "
                "WHERE project_id = %s AND tool = %s AND category = %s AND branch = %s "
                "AND number < %s AND NOT EXISTS "
                "(SELECT 1 FROM ad_seen a WHERE a.finding_id = findings_finding.id)" + in_paths,
                [project.pk, tool, category, ctx.branch, first_number],
            )
            if not sql.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM ad_scope LIMIT 1) one"):
                continue
            sql.analyze("ad_scope")
            scope = "id IN (SELECT id FROM ad_scope)"
            # Only what no newer report has seen: arrival breaks a tie in time.
            gone = scope + " AND last_seen_at <= %s"
            gone_params = [sql.at]
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
                    fixed_at = %s
                WHERE {gone} AND fixed_in_report_id IS NOT NULL AND fixed_at > %s""",
                [ctx.report.pk, ctx.commit, sql.at, *gone_params, sql.at],
            )
            # Seen before and after this (late, older) report but not in it: it was fixed here
            # and came back later.
            sql.transition(
                scope + " AND first_seen_at < %s AND last_seen_at > %s AND status = %s",
                [sql.at, sql.at, Status.OPEN],
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
        counts.still_open = sql.scalar(
            "SELECT COUNT(*) FROM findings_finding WHERE id IN (SELECT finding_id FROM ad_seen) "
            f"AND status IN {_in(lifecycle.OPEN_LIKE)}"
        )
        # A first report copied in whole, none of it history: every row is a new finding,
        # open unless suppressed, and the rows themselves give the status summary.
        copied = new_count and sum(self.cells.values()) == new_count and not counts.historic
        if copied:
            counts.new = new_count - counts.suppressed
            StatusCount.objects.filter(project=project).delete()
            StatusCount.objects.bulk_create(
                StatusCount(project=project, severity=severity, status=status, n=n)
                for (severity, status), n in self.cells.items()
            )
        else:
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
            for tool, category in scopes
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
