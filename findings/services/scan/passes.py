"""The lifecycle pass of a scan merge, once every row is in: named passes over the
temporary table ``ad_seen`` (the existing findings the report saw) and the new findings (the
project's numbers from ``first_number``), run by :meth:`ScanMerge.finish` in this order:

0. :func:`moves.moves_pass`: moved, renamed and edited findings paired with their new
   selves (into ``ad_seen``), before anything reads it (:mod:`.moves`);
1. :func:`rules_replace`: what the report says of its rules;
2. :func:`rule_titles_record`: the new findings' distinct rule titles (PostgreSQL);
3. :func:`sightings_record`: where the report saw the findings it already knew;
4. :func:`history_pass`: new findings a newer report of their scope no longer had;
5. :func:`seen_again_pass`: regressions, suppressions and un-suppressions;
6. :func:`where_now_pass`: the newest sighting's location and last-seen facts;
7. :func:`gone_pass`: findings of the report's scopes that it no longer contains, each
   marked with how its file left the report (:mod:`.moves`);
8. :func:`counts_pass` and :func:`scopes_record`: the report's counts and scopes.

Each is a few set-based statements whatever the report's size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from findings import lifecycle
from findings.lifecycle import Event as LifecycleEvent
from findings.lifecycle import Status
from findings.models import Project, ReportScope, Rule, ScanChange, StatusCount
from findings.services.counts import ScanCounts
from findings.services.projects import status_counts_refresh
from findings.services.scan import moves
from findings.services.scan.moves import Whereabouts
from findings.services.scan.sql import MergeSQL, ScanContext, in_list, next_scope_report

Scopes = tuple[tuple[str, str], ...]
"""A report's scopes: (tool, SARIF category) pairs."""


@dataclass(frozen=True)
class Merged:
    """What the passes know of a merge whose rows are all in."""

    ctx: ScanContext
    sql: MergeSQL
    project: Project
    counts: ScanCounts
    first_number: int
    """The number of the report's first new finding; the new ones run on from it."""
    new_count: int
    empty: bool
    """Whether the project had no findings before this report."""

    @property
    def new_findings(self) -> tuple[str, list]:
        """A condition on findings_finding, and its parameters: this report's new findings."""
        return "project_id = %s AND number >= %s", [self.project.pk, self.first_number]


def rules_replace(m: Merged, rules: Sequence[tuple[str, str, dict]]) -> None:
    """The (tool, rule id, details) the report describes replace what an earlier one said."""
    if not rules:
        return
    now = timezone.now()
    Rule.objects.bulk_create(
        [
            Rule(project=m.project, tool=tool, rule_id=rule_id, details=details, updated_at=now)
            for tool, rule_id, details in rules
        ],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["project", "tool", "rule_id"],
        update_fields=["details", "updated_at"],
    )


def rule_titles_record(m: Merged) -> None:
    """The report's few distinct (tool, rule id, title) from ``ad_titles`` into RuleTitle
    once, instead of a trigger call per finding (PostgreSQL; see ScanMerge.__enter__)."""
    m.sql.run(
        """INSERT INTO findings_ruletitle (project_id, tool, rule_id, title)
        SELECT DISTINCT %s, t.tool, t.rule_id, t.title FROM ad_titles t
        WHERE NOT EXISTS (SELECT 1 FROM findings_ruletitle r
            WHERE r.project_id = %s AND r.rule_id = t.rule_id
              AND LEFT(r.title, 200) = LEFT(t.title, 200)
              AND r.tool = t.tool AND r.title = t.title)""",
        [m.project.pk, m.project.pk],
    )


def sightings_record(m: Merged) -> None:
    """Where this report saw the findings it already knew."""
    m.sql.run(
        """INSERT INTO findings_sighting
            (report_id, finding_id, path, start_line, end_line, suppressed)
        SELECT %s, finding_id, path, start_line, end_line, suppressed FROM ad_seen""",
        [m.ctx.report.pk],
    )


def history_pass(m: Merged, scopes: Scopes) -> None:
    """A finding first met in a report older than the newest of its scope was already gone
    by the next report of that scope: it is history, recorded as fixed there (counted as
    ``historic``)."""
    sql = m.sql
    new_findings, new_params = m.new_findings
    for tool, category in scopes:
        following = next_scope_report(m.ctx, tool, category)
        if following is None:
            continue
        fixed_by = [
            following.report_id,
            following.report.commit,
            sql.adapt(following.order_at),
        ]
        if m.new_count:
            m.counts.historic += sql.run(
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
            WHERE project_id = %s AND id IN (SELECT finding_id FROM ad_seen)
              AND tool = %s AND category = %s
              AND fixed_in_report_id IS NOT NULL AND fixed_at > %s""",
            [*fixed_by, m.project.pk, tool, category, sql.at],
        )


def seen_again_pass(m: Merged) -> None:
    """The findings this report saw again, by their newest sightings only: regressions,
    suppressions and un-suppressions, as the lifecycle's ``seen`` and ``seen_suppressed``
    say."""
    sql = m.sql
    for event, suppressed in (
        (LifecycleEvent.SEEN, False),
        (LifecycleEvent.SEEN_SUPPRESSED, True),
    ):
        if not _any_seen(m, suppressed):
            continue
        moves = lifecycle.changes(event)
        regressing = [before for before, after in moves.items() if after == Status.REGRESSED]
        others = [before for before, after in moves.items() if after != Status.REGRESSED]
        guard = []
        if others:
            guard.append(f"status IN {in_list(others)}")
        if regressing:
            # Seeing it again before the fix's own date is history, not a regression.
            guard.append(
                f"(status IN {in_list(regressing)} AND (fixed_at IS NULL OR fixed_at <= %s))"
            )
        condition = (
            "project_id = %s AND "
            "id IN (SELECT finding_id FROM ad_seen WHERE newest = 1 AND suppressed = %s) AND ("
            + " OR ".join(guard)
            + ")"
        )
        params = [m.project.pk, suppressed] + ([sql.at] if regressing else [])
        note = "reported again as suppressed" if suppressed else "reported again by a scan"
        sql.transition(condition, params, event, moves, note)


def _any_seen(m: Merged, suppressed: bool) -> bool:
    """Whether the report's newest sightings include any with ``suppressed``. A report with
    no suppressed results skips their pass: PostgreSQL, whose statistics count the project's
    findings as of its last ANALYZE, would otherwise read every open one to find none."""
    return bool(
        m.sql.scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM ad_seen WHERE newest = 1 AND suppressed = %s "
            "LIMIT 1) one",
            [suppressed],
        )
    )


def where_now_pass(m: Merged) -> int | None:
    """The newest sighting moves the finding's location and last-seen facts (and a moved or
    edited finding's identity: :mod:`.moves`); an older one moves its first-seen facts
    back. Returns how many of the findings seen newest are open-like (PostgreSQL: counted
    from the rows the update returns, as no later pass moves a seen finding's status; None
    elsewhere)."""
    ctx, sql = m.ctx, m.sql
    update = """UPDATE findings_finding SET last_seen_report_id = %s, last_seen_commit = %s,
            last_seen_at = %s, path = a.path, start_line = a.start_line,
            end_line = a.end_line, snippet = a.snippet, title = a.title,
            message = a.message, severity = a.severity,
            fingerprint = COALESCE(a.fingerprint, findings_finding.fingerprint),
            content_key = COALESCE(a.content_key, findings_finding.content_key),
            scan_change = COALESCE(a.scan_change, findings_finding.scan_change)
        FROM ad_seen a
        WHERE findings_finding.id = a.finding_id AND a.newest = 1
          AND findings_finding.project_id = %s"""
    params = [ctx.report.pk, ctx.commit, sql.at, m.project.pk]
    newest_open = None
    if connection.vendor == "postgresql":
        newest_open = sql.scalar(
            f"WITH moved AS ({update} RETURNING findings_finding.status) "
            f"SELECT COUNT(*) FROM moved WHERE status IN {in_list(lifecycle.OPEN_LIKE)}",
            params,
        )
    else:
        sql.run(update, params)
    sql.run(
        """UPDATE findings_finding SET first_seen_report_id = %s, first_seen_commit = %s,
            first_seen_at = %s
        WHERE project_id = %s AND id IN (SELECT finding_id FROM ad_seen WHERE newest = 0)
          AND first_seen_at > %s""",
        [ctx.report.pk, ctx.commit, sql.at, m.project.pk, sql.at],
    )
    return newest_open


def gone_pass(m: Merged, scopes: Scopes, where: Whereabouts) -> None:
    """Findings of this report's scopes, in the files it speaks for (``where``: not outside
    a partial scan's coverage, not a file the tool failed to read), that it no longer
    contains: fixed here (how their files left the report: :func:`moves.gone_kinds`), fixed
    sooner, or fixed here and come back later. A report that lists no scanned file at all
    (pip-audit with nothing to audit) closes nothing."""
    if where.scanned is not None and not where.scanned:
        return
    covered, params = where.scope_condition()
    # A project that had no findings has none to lose: skipped, as the planner, blind to
    # this transaction's rows, may read all the new ones through some project index.
    for tool, category in () if m.empty else scopes:
        if _scope_unseen(m, tool, category, (covered, params)):
            _scope_gone(m, tool, moves.gone_kinds(m, where))


def _scope_unseen(m: Merged, tool: str, category: str, covered: tuple[str, list]) -> bool:
    """The scope's findings from before this report that it did not see, into ``ad_scope``
    (ids only); whether there are any.

    Not in this report: neither one it saw again (ad_seen) nor one it created (numbered from
    first_number). Not read from this report's sightings: they were written in this
    transaction, so PostgreSQL's statistics know none of them and it may plan a scan of all
    sightings per finding (minutes at 100,000 findings). Read once for the three passes of
    :func:`_scope_gone`, which each read the project's findings of the scope before: now an
    unchanged rescan, where no finding is missing, reads them once and stops.
    """
    sql = m.sql
    sql.run("DROP TABLE IF EXISTS ad_scope")
    sql.run(
        "CREATE TEMPORARY TABLE ad_scope AS SELECT id FROM findings_finding "
        "WHERE project_id = %s AND tool = %s AND category = %s AND branch = %s "
        "AND number < %s AND NOT EXISTS "
        "(SELECT 1 FROM ad_seen a WHERE a.finding_id = findings_finding.id) AND " + covered[0],
        [m.project.pk, tool, category, m.ctx.branch, m.first_number, *covered[1]],
    )
    if not sql.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM ad_scope LIMIT 1) one"):
        return False
    # Keyed, so that however the planner joins it (its statistics may count none of the
    # project's findings) each finding costs one probe, never a pass over the table.
    sql.run("CREATE UNIQUE INDEX ad_scope_id ON ad_scope (id)")
    sql.analyze("ad_scope")
    return True


def _scope_gone(m: Merged, tool: str, kinds: Sequence[str]) -> None:
    """The three moves of a scope's unseen findings (``ad_scope``); ``kinds`` are how their
    files left the report (``ad_gone``)."""
    ctx, sql = m.ctx, m.sql
    missing = lifecycle.changes(LifecycleEvent.MISSING)
    scope = "project_id = %s AND id IN (SELECT id FROM ad_scope)"
    # Only what no newer report has seen: arrival breaks a tie in time.
    gone = scope + " AND last_seen_at <= %s"
    gone_params = [m.project.pk, sql.at]
    for kind in kinds:
        how = moves.GONE_NOTES.get(ScanChange(kind)) if kind else None
        sql.transition(
            gone + f" AND status IN {in_list(missing)}"
            " AND path IN (SELECT path FROM ad_gone WHERE kind = %s)",
            [*gone_params, kind],
            LifecycleEvent.MISSING,
            missing,
            f"no longer reported by {tool}" + (f" — {how}" if how else ""),
            fix=True,
            scan_change=kind,
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
        [m.project.pk, sql.at, sql.at, Status.OPEN],
        LifecycleEvent.SEEN,
        {Status.OPEN: Status.REGRESSED},
        "absent from an older report that arrived late: it was fixed and came back",
    )


def counts_pass(m: Merged, cells: Counter[tuple[int, str]], newest_open: int | None = None) -> None:
    """The report's counts, and the project's status summary. ``cells`` are the (severity,
    status) counts of the rows a first report copied in; ``newest_open`` what
    :func:`where_now_pass` counted, if it did."""
    ctx, sql, project, counts = m.ctx, m.sql, m.project, m.counts
    counts.fixed = sql.scalar(
        "SELECT COUNT(*) FROM findings_event WHERE report_id = %s AND action = %s",
        [ctx.report.pk, LifecycleEvent.MISSING],
    )
    counts.regressed = sql.scalar(
        "SELECT COUNT(*) FROM findings_event WHERE report_id = %s AND after = %s",
        [ctx.report.pk, Status.REGRESSED],
    )
    counts.still_open = _seen_open(m, newest_open)
    # A first report copied in whole, none of it history: every row is a new finding,
    # open unless suppressed, and the rows themselves give the status summary.
    new_count = m.new_count
    copied = new_count and sum(cells.values()) == new_count and not counts.historic
    if copied:
        counts.new = new_count - counts.suppressed
        StatusCount.objects.filter(project=project).delete()
        StatusCount.objects.bulk_create(
            StatusCount(project=project, severity=severity, status=status, n=n)
            for (severity, status), n in cells.items()
        )
        return
    new_findings, new_params = m.new_findings
    counts.new = (
        sql.scalar(
            f"SELECT COUNT(*) FROM findings_finding WHERE {new_findings} AND status = %s",
            [*new_params, Status.OPEN],
        )
        if new_count
        else 0
    )
    status_counts_refresh(project_id=project.pk)


def _seen_open(m: Merged, newest_open: int | None) -> int:
    """How many findings the report saw are open-like: those it saw newest as counted
    already (when they were), plus the others."""
    seen = "" if newest_open is None else " WHERE newest = 0"
    if newest_open is not None and not m.sql.scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM ad_seen WHERE newest = 0 LIMIT 1) one"
    ):
        return newest_open
    return (newest_open or 0) + m.sql.scalar(
        "SELECT COUNT(*) FROM findings_finding WHERE project_id = %s "
        f"AND id IN (SELECT finding_id FROM ad_seen{seen}) "
        f"AND status IN {in_list(lifecycle.OPEN_LIKE)}",
        [m.project.pk],
    )


def scopes_record(m: Merged, scopes: Scopes) -> None:
    """The report's scopes, each placed in time: what later reports order themselves by."""
    ReportScope.objects.bulk_create(
        ReportScope(
            report=m.ctx.report,
            project=m.project,
            tool=tool,
            category=category,
            branch=m.ctx.branch,
            order_at=m.ctx.order_at,
        )
        for tool, category in scopes
    )
