"""The merge of one scanner report into a project's findings, batch by batch.

It is set-based SQL over temporary tables rather than ORM saves: one report can carry
hundreds of thousands of results, and the lifecycle pass must stay a few statements whatever
the size. It is written once for PostgreSQL and SQLite (both support ``UPDATE ... FROM``,
window functions and ``INSERT ... SELECT``); only loading differs (COPY on PostgreSQL,
batched inserts on SQLite). The lifecycle pass that runs once every row is in is in
:mod:`findings.services.scan.passes`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from django.db import connection, transaction

from findings.lifecycle import Status
from findings.models import Finding, Project
from findings.services.counts import ScanCounts
from findings.services.scan import moves, passes
from findings.services.scan.copy_text import (
    STAGE_COLUMNS,
    NewFindings,
    stage_payload,
    stage_titles,
)
from findings.services.scan.sql import MergeSQL, ScanContext
from findings.services.scan.tables import MERGE_TABLES, ROW_COLUMNS, ScanStage, copy_in, load
from scanners.rows import StagedRow

TITLES_HELD = 10_000
"""Distinct rule titles a first report's merge holds in memory before it writes them out."""

MERGE_WORK_MEM = "64MB"
"""Sort and hash memory for the merge's own transaction (PostgreSQL)."""

# The statements that absorb a batch, completed by _absorb with their source and numbering.
_KNOWN = """INSERT INTO ad_seen (finding_id, suppressed, newest, path, start_line,
                end_line, snippet, title, message, severity)
            SELECT {id}, s.suppressed, CASE WHEN {last_seen} <= %s THEN 1 ELSE 0 END,
                s.path, s.start_line, s.end_line, s.snippet, s.title, s.message, s.severity"""
_INSERT = """INSERT INTO findings_finding (
                project_id, number, fingerprint, tool, category, branch, rule_id, title, message,
                severity, cwe, path, start_line, end_line, snippet, extra, content_key, status,
                status_reason, status_changed_at, first_seen_report_id, last_seen_report_id,
                first_seen_commit, last_seen_commit, fixed_in_commit, first_seen_at,
                last_seen_at, created_at)
            SELECT %s, {number}, s.fingerprint, s.tool,
                s.category, %s, s.rule_id, s.title, s.message, s.severity, s.cwe, s.path,
                s.start_line, s.end_line, s.snippet, {extra}, s.content_key,
                CASE WHEN s.suppressed THEN 'suppressed' ELSE 'open' END, s.suppression_reason,
                %s, %s, %s, %s, %s, '', %s, %s, %s"""
_SIGHTING = """INSERT INTO findings_sighting
                (report_id, finding_id, path, start_line, end_line, suppressed)
            SELECT %s, id, path, start_line, end_line,
                CASE WHEN status = 'suppressed' THEN %s ELSE %s END"""


class ScanMerge:
    """Merges one scan report into its project's findings, batch by batch, then runs the
    lifecycle pass; use inside ``transaction.atomic`` as a context manager.

    Entering takes the project's row lock, so two imports into one project queue up instead
    of racing. Findings are matched by fingerprint; new ones get the next human numbers in
    report order. A first report's batches are written as they arrive (:meth:`add`), so the
    database inserts one batch while the caller parses the next; a later report holds its
    unmatched rows in ``ad_new`` until :meth:`finish` has paired the moved and edited ones
    with their old findings, and inserts only the rest. :meth:`finish` then moves
    the seen ones on ``seen``/``seen_suppressed``, and the open-like findings of the report's
    scopes (same tool, SARIF category and branch, within the scanned paths when the report
    lists them) that the report no longer contains, and that no newer report has seen, on
    ``missing`` with this report as the fix. Reports are placed in time by ``order_at``
    (commit date; arrival breaks ties), never by arrival alone: an older report fills in
    history but cannot reopen what a newer one fixed.
    """

    def __init__(self, context: ScanContext) -> None:
        self.ctx = context
        self.sql = MergeSQL(context)
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
        for table in MERGE_TABLES:
            sql.run(f"DROP TABLE IF EXISTS {table}")
        sql.run(f"CREATE TEMPORARY TABLE ad_batch ({ROW_COLUMNS})")
        sql.run("CREATE TEMPORARY TABLE ad_titles (tool TEXT, rule_id TEXT, title TEXT)")
        # The existing findings this report sees, with what it says about them now; a moved
        # or edited one (moves.pairs_absorb) also with its new identity and how it changed.
        sql.run(
            """CREATE TEMPORARY TABLE ad_seen (finding_id BIGINT PRIMARY KEY, suppressed BOOLEAN,
            newest INTEGER, path TEXT, start_line INTEGER, end_line INTEGER, snippet TEXT,
            title TEXT, message TEXT, severity SMALLINT, fingerprint TEXT, content_key TEXT,
            scan_change TEXT)"""
        )
        self.first_number = self.next_number = self.project.next_number
        self.empty = (
            not Finding.objects.filter(project=self.project)
            .values_list("number", flat=True)
            .order_by("number")[:1]
        )
        # The rows no finding has, held until finish pairs the moved ones (see _absorb).
        self.pending = 0
        if not self.empty:
            sql.run(f"CREATE TEMPORARY TABLE ad_new ({ROW_COLUMNS})")
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
            for table in MERGE_TABLES:
                self.sql.run(f"DROP TABLE IF EXISTS {table}")

    def payload(self, rows: Sequence[StagedRow]) -> bytes:
        """What :meth:`add` loads for ``rows`` on PostgreSQL. It touches no connection, so
        the thread that parses can make it while this one waits on the database."""
        if self.new_findings is not None:
            return self.new_findings.payload(rows)
        return stage_payload(rows)

    def add(self, rows: Sequence[StagedRow], payload: bytes | None = None) -> None:
        """Merge one batch of staged rows, in report order; ``payload``, when given, is
        :meth:`payload` of the same rows."""
        if not rows:
            return
        if self.new_findings is not None:
            self._insert_new(rows, payload or self.payload(rows))
        else:
            load("ad_batch", rows, payload)
            self._absorb("ad_batch")
            # Not DELETE: the dead rows would stay in the table's pages, and every later
            # batch would read them again.
            self.sql.run(
                "TRUNCATE ad_batch" if connection.vendor == "postgresql" else "DELETE FROM ad_batch"
            )
        self.counts.total += len(rows)
        self.counts.suppressed += sum(1 for row in rows if row.suppressed)

    def add_stage(self, stage: ScanStage) -> None:
        """Merge a whole staged report at once."""
        if stage.count:
            self._absorb("ad_stage")
        self.counts.total += stage.count
        self.counts.suppressed += stage.suppressed

    def _insert_new(self, rows: Sequence[StagedRow], payload: bytes) -> None:
        """A batch of the project's first report: every row a new finding, copied in."""
        ctx, sql, project = self.ctx, self.sql, self.project
        copy_in("findings_finding", NewFindings.columns, payload)
        # Their sightings, read back by number; their rule titles from the rows themselves.
        sql.run(
            """INSERT INTO findings_sighting
                (report_id, finding_id, path, start_line, end_line, suppressed)
            SELECT %s, id, path, start_line, end_line, status = 'suppressed'
            FROM findings_finding WHERE project_id = %s AND number >= %s AND number < %s""",
            [ctx.report.pk, project.pk, self.next_number, self.next_number + len(rows)],
        )
        self.titles.update((row.tool, row.rule_id, row.title) for row in rows)
        if len(self.titles) >= TITLES_HELD:
            self.flush_titles()
        self.cells.update(
            (row.severity, Status.SUPPRESSED if row.suppressed else Status.OPEN) for row in rows
        )
        self.next_number += len(rows)

    def finish(
        self,
        *,
        scopes: passes.Scopes,
        scanned_paths: tuple[str, ...] | None,
        rules: Sequence[tuple[str, str, dict]] = (),
        where: moves.Whereabouts | None = None,
    ) -> ScanCounts:
        """The lifecycle pass once every row is in (see :mod:`.passes`, in this order);
        returns the report's counts. ``rules`` are (tool, rule id, details) as the report
        describes its rules: they replace what an earlier report said. ``where`` is what is
        known of the files at the report's commit (by default: the scanned paths alone)."""
        where = where or moves.Whereabouts.of(scanned=scanned_paths)
        merged = passes.Merged(
            ctx=self.ctx,
            sql=self.sql,
            project=self.project,
            counts=self.counts,
            first_number=self.first_number,
            new_count=self.pending,
            empty=self.empty,
        )
        # Moves first, over the rows held in ad_new: a moved finding is updated in place,
        # never inserted and deleted again; only what is left is inserted.
        moved = moves.moves_pass(merged, scopes, where)
        self.counts.moved, self.counts.edited = moved.moved, moved.edited
        if self.pending > moved.absorbed:
            self.next_number += self._insert(
                "ad_new", "%s + ROW_NUMBER() OVER (ORDER BY s.seq) - 1", self.next_number
            )
        merged = dataclasses.replace(merged, new_count=self.next_number - self.first_number)
        passes.rules_replace(merged, rules)
        # Statistics of the columns the lifecycle statements join and filter on; the texts
        # (snippets, messages) would cost most of the sampling and inform no plan.
        self.sql.analyze("ad_seen (finding_id, suppressed, newest)")
        if merged.new_count:
            Project.objects.filter(pk=self.project.pk).update(next_number=self.next_number)
        if connection.vendor == "postgresql" and merged.new_count:
            self.flush_titles()
            passes.rule_titles_record(merged)
        passes.sightings_record(merged)
        passes.history_pass(merged, scopes)
        passes.seen_again_pass(merged)
        newest_open = passes.where_now_pass(merged)
        passes.gone_pass(merged, scopes, where)
        passes.counts_pass(merged, self.cells, newest_open)
        passes.scopes_record(merged, scopes)
        if merged.new_count and _grows_findings_much(merged.new_count):
            transaction.on_commit(_analyze_findings)
        return self.counts

    def flush_titles(self) -> None:
        """The rule titles gathered from copied-in rows, into ``ad_titles`` (see finish)."""
        if self.titles:
            payload = stage_titles(self.titles)
            copy_in("ad_titles", "tool, rule_id, title", payload)
            self.titles.clear()

    def _absorb(self, source: str) -> None:
        """Match ``source``'s rows to the project's findings by fingerprint: the known ones
        go to ``ad_seen``. The others become findings numbered in report order, each with
        this report's sighting: at once in a project's first report (nothing there to have
        moved), else held in ``ad_new`` until :meth:`finish` has paired the moved and edited
        ones with the findings they were, so that those are never inserted at all."""
        if self.empty:
            # Every row is new and ``seq`` is its place in the report: no sort for numbers.
            self.next_number += self._insert(source, "%s + s.seq", self.first_number)
        elif connection.vendor == "postgresql":
            self.pending += self._match_postgresql(source)
        else:
            self.pending += self._match_sqlite(source)

    def _insert(self, source: str, number: str, base: int) -> int:
        """``source``'s rows as new findings numbered by ``number`` from ``base``, each with
        this report's sighting; returns how many."""
        ctx, sql, project = self.ctx, self.sql, self.project
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
        if connection.vendor == "postgresql":
            insert = _INSERT.format(extra="CAST(s.extra AS jsonb)", number=number)
            new = sql.run(
                f"""WITH new AS ({insert}
                FROM {source} s RETURNING id, path, start_line, end_line, status)
                {_SIGHTING} FROM new""",
                [*values, ctx.report.pk, True, False],
            )
            if new:
                # For RuleTitle, recorded once in finish: the rule-title trigger is off in
                # this transaction (see __enter__).
                sql.run(
                    "INSERT INTO ad_titles (tool, rule_id, title) "
                    f"SELECT DISTINCT tool, rule_id, title FROM {source}"
                )
            return new
        new = sql.run(_INSERT.format(extra="s.extra", number=number) + f" FROM {source} s", values)
        if new:
            # Read back by number: SQLite's INSERT ... SELECT returns no rows here.
            sql.run(
                f"{_SIGHTING} FROM findings_finding "
                "WHERE project_id = %s AND number >= %s AND number < %s",
                [ctx.report.pk, True, False, project.pk, self.next_number, self.next_number + new],
            )
        return new

    def _match_postgresql(self, source: str) -> int:
        """:meth:`_absorb`'s matching in one statement per batch; returns how many rows are
        held as new.

        One statement, planned the same whatever the planner believes: its statistics know
        nothing of the findings this transaction wrote, and taking the project for nearly
        empty it would scan all of them once per batch. LATERAL ... LIMIT 1 makes it one
        lookup per row, by both columns of the unique finding_fingerprint. The project is
        named as ``(SELECT %s)``, a value the planner cannot see: priced as an average
        project, reading the project's range of another index would be dear, whereas for the
        constant, stale statistics may promise that the project holds one finding, and a
        narrower index wins the tie.
        """
        return self.sql.run(
            f"""WITH matched AS MATERIALIZED (
                SELECT s.*, f.id AS finding_id, f.last_seen_at AS known_at
                FROM {source} s LEFT JOIN LATERAL (
                    SELECT id, last_seen_at FROM findings_finding
                    WHERE project_id = (SELECT %s::bigint)
                      AND fingerprint = s.fingerprint LIMIT 1
                ) f ON true),
            known AS ({_KNOWN.format(id="s.finding_id", last_seen="s.known_at")}
                FROM matched s WHERE s.finding_id IS NOT NULL)
            INSERT INTO ad_new ({STAGE_COLUMNS})
            SELECT {STAGE_COLUMNS} FROM matched WHERE finding_id IS NULL""",
            [self.project.pk, self.sql.at],
        )

    def _match_sqlite(self, source: str) -> int:
        """:meth:`_absorb`'s matching in plain statements; returns how many rows are held
        as new."""
        sql, project = self.sql, self.project
        sql.run(
            _KNOWN.format(id="f.id", last_seen="f.last_seen_at")
            + f""" FROM {source} s JOIN findings_finding f
                ON f.project_id = %s AND f.fingerprint = s.fingerprint""",
            [sql.at, project.pk],
        )
        return sql.run(
            f"""INSERT INTO ad_new ({STAGE_COLUMNS}) SELECT {STAGE_COLUMNS} FROM {source} s
            WHERE NOT EXISTS (SELECT 1 FROM findings_finding f
                WHERE f.project_id = %s AND f.fingerprint = s.fingerprint)""",
            [project.pk],
        )


GROWTH_TO_ANALYZE = 0.1
"""A report that adds at least this share of the findings table has it analysed at once."""


def _grows_findings_much(added: int) -> bool:
    """Whether ``added`` new findings change the table enough that its statistics mislead:
    a new project's rows are not in them at all, so the next report's lifecycle statements
    would be planned for one row and read a hundred thousand (a 10%-changed rescan of 100k
    took 32–44 s instead of 7 s, the third project in a row, before autovacuum had come)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'findings_finding'::regclass")
        found = cursor.fetchone()
    known = float(found[0]) if found else -1.0
    return known <= 0 or added >= GROWTH_TO_ANALYZE * known


def _analyze_findings() -> None:
    """Statistics of the columns the merge's statements filter on, after the import commits
    (autovacuum would do the same a minute later): outside the import's transaction, so the
    lock ANALYZE takes is held for its own run only."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE findings_finding (project_id, status, path, last_seen_at, fingerprint)"
        )
