"""Reports out: a project's (or one sprint's) status as Markdown and as CSV, and the export of
every finding (``manage.py export``).

The Markdown follows the handoff documents' shape (title, date, status line, sections per
subject, one bullet per fix) but says for each claimed fix what evidence backs it: the
evidence level the git checks reached, the documents and commits that claim it, and the last
review; and it lists the findings still open (nobody claims them fixed), worst first, by
severity. The CSV has the same rows, every one of them (streamed): the fixes, then the open
findings, told apart by its ``section`` column (``fix`` or ``open``).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from itertools import islice

from django.db.models import QuerySet
from django.utils import timezone

from findings.lifecycle import FIX_WORDS, FIXED_LIKE, OPEN_LIKE, Status
from findings.models import Claim, Finding, Project, Review, Severity, Sprint, StatusCount
from findings.selectors import planning
from findings.selectors.cards import evidence_levels, fix_evidence
from findings.selectors.fixes import RECENT_DAYS, fix_summary
from findings.selectors.health import health_panels
from findings.selectors.metrics import recent_changes, sla_breaches

CSV_FIELDS = [
    "section",
    "key",
    "severity",
    "status",
    "title",
    "location",
    "evidence_level",
    "claimed_in",
    "commits",
    "last_review",
    "reviewer",
    "fixed_in_commit",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters a spreadsheet may read as the start of a formula (OWASP, "CSV Injection";
the full-width forms too, which some spreadsheets fold to the ASCII ones)."""

MARKDOWN_FIXES = 200
"""The Markdown lists this many fixes; the CSV lists all of them."""
MARKDOWN_OPEN = 200
"""The Markdown lists this many open findings; the CSV lists all of them."""
UNCLAIMED_OPEN = OPEN_LIKE - FIXED_LIKE
"""The report's "open findings": open-like and claimed fixed by no one (claimed ones are
listed with the fixes and their evidence)."""

_CHUNK = 1000


def _report_rows(
    project: Project, sprint: Sprint | None, statuses: frozenset[str]
) -> QuerySet[Finding]:
    rows = Finding.objects.filter(project=project, status__in=statuses)
    return rows.filter(sprint=sprint) if sprint is not None else rows


_FIELDS = (
    "pk",
    "number",
    "severity",
    "status",
    "title",
    "path",
    "start_line",
    "fixed_in_commit",
    "fixed_in_report_id",
)


def _first_rows(project: Project, limit: int, statuses: frozenset[str]) -> list[dict]:
    """The first ``limit`` findings of ``statuses`` in report order, read as small slices
    along the column index (one status and severity at a time, lowest numbers first) and
    merged: one ORDER BY over several statuses would read and sort every row of them.
    """
    rows: list[dict] = []
    base = Finding.objects.filter(project=project)
    for severity in sorted(Severity.values):
        wanted = limit - len(rows)
        slices = [
            list(
                base.filter(status=status, severity=severity)
                .order_by("number")
                .values(*_FIELDS)[:wanted]
            )
            for status in sorted(statuses)
        ]
        rows += islice(heapq.merge(*slices, key=lambda row: row["number"]), wanted)
        if len(rows) >= limit:
            break
    return rows


def _chunks(
    project: Project, sprint: Sprint | None, limit: int | None, statuses: frozenset[str]
) -> Iterator[list[dict]]:
    """The findings of ``statuses`` in report order (worst, then lowest number), a chunk at a
    time."""
    if limit is not None and sprint is None:
        yield _first_rows(project, limit, statuses)
        return
    qs = _report_rows(project, sprint, statuses).order_by("severity", "number")
    last = None
    while True:
        chunk_qs = (
            qs
            if last is None
            else qs.filter(severity__gte=last[0]).exclude(severity=last[0], number__lte=last[1])
        )
        chunk = list(chunk_qs.values(*_FIELDS)[:_CHUNK])
        if not chunk:
            return
        last = (chunk[-1]["severity"], chunk[-1]["number"])
        yield chunk


def fixes(
    *, project: Project, sprint: Sprint | None = None, limit: int | None = None
) -> Iterator[dict]:
    """The fixes a report covers (every claimed, verified or signed off finding, of the
    sprint when one is given), worst first, each with its evidence level (``unverified``
    when no check has run); four queries per thousand rows."""
    return _rows(project, sprint, limit, FIXED_LIKE, section="fix")


def open_findings(
    *, project: Project, sprint: Sprint | None = None, limit: int | None = None
) -> Iterator[dict]:
    """The findings still open and claimed by no one (:data:`UNCLAIMED_OPEN`), of the sprint
    when one is given, worst first, in the same shape as :func:`fixes` (the evidence level of
    a partial fix's claim, else empty)."""
    return _rows(project, sprint, limit, UNCLAIMED_OPEN, section="open")


def _rows(
    project: Project,
    sprint: Sprint | None,
    limit: int | None,
    statuses: frozenset[str],
    *,
    section: str,
) -> Iterator[dict]:
    produced = 0
    unchecked = "unverified" if section == "fix" else ""
    for chunk in _chunks(project, sprint, limit, statuses):
        ids = [row["pk"] for row in chunk]
        # A fix's level counts a re-scan too; an open finding's is its partial claim's, if any.
        levels = fix_evidence(chunk) if section == "fix" else evidence_levels(ids)
        claims: dict[int, list[tuple[str, list[str]]]] = defaultdict(list)
        for finding_id, title, filename, commits in Claim.objects.filter(
            finding_id__in=ids, dropped=False
        ).values_list("finding_id", "report__document__title", "report__filename", "commits"):
            claims[finding_id].append((title or filename, [str(c) for c in commits or []]))
        reviews: dict[int, tuple[str, str]] = {}
        for finding_id, verdict, reviewer in (
            Review.objects.filter(finding_id__in=ids)
            .order_by("finding_id", "-created_at", "-id")
            .values_list("finding_id", "verdict", "reviewer__username")
        ):
            reviews.setdefault(finding_id, (verdict, reviewer))
        for row in chunk:
            if limit is not None and produced >= limit:
                return
            produced += 1
            found = claims.get(row["pk"], [])
            verdict, reviewer = reviews.get(row["pk"], ("", ""))
            yield {
                "section": section,
                "key": f"{project.key}-{row['number']}",
                "severity": Severity(row["severity"]).label,
                "status": Status(row["status"]).label,
                "title": row["title"],
                "location": f"{row['path']}:{row['start_line']}"
                if row["start_line"]
                else row["path"],
                "evidence_level": levels.get(row["pk"], unchecked),
                "claimed_in": "; ".join(title for title, _ in found),
                "commits": " ".join(sorted({c for _, commits in found for c in commits})),
                "last_review": verdict.replace("_", " "),
                "reviewer": reviewer or "",
                "fixed_in_commit": row["fixed_in_commit"],
            }


def markdown(*, project: Project, sprint: Sprint | None = None, now: datetime | None = None) -> str:
    """The status report as Markdown, in the handoff documents' family."""
    now = now or timezone.now()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for severity, status, n in StatusCount.objects.filter(project=project).values_list(
        "severity", "status", "n"
    ):
        counts[Severity(severity).label][status] += n
    open_total = sum(
        n for row in counts.values() for status, n in row.items() if status in OPEN_LIKE
    )
    changes = recent_changes(projects=[project.pk]).get(project.pk, {})
    now_fixes = fix_summary(projects=[project.pk])[project.pk]["now"]
    breaches = sla_breaches(projects=[project.pk]).get(project.pk, {})
    scope = f": {sprint.name} ({sprint.start} to {sprint.end})" if sprint else ""
    lines = [
        f"# {project.key} status report{scope}",
        "",
        f"**Date:** {now:%Y-%m-%d %H:%M} UTC  ",
        f"**Project:** {project.name or project.key}  ",
        f"**Status:** {open_total} open findings (claimed fixed count as open: a claim is "
        f"not proof); {_words(now_fixes)}; {sum(breaches.values())} past SLA; "
        f"last {RECENT_DAYS} days: {changes.get('new', 0)} new, {_words(changes)}, "
        f"{changes.get('regressed', 0)} regressed",
        "",
        "## Findings by severity",
        "",
        "| Severity | Open | Claimed fixed | Verified | Signed off | Regressed | Past SLA |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for severity in Severity:
        row = counts.get(severity.label, {})
        lines.append(
            f"| {severity.label} | {row.get('open', 0)} | {row.get('claimed', 0)} | "
            f"{row.get('verified', 0)} | {row.get('signed_off', 0)} | {row.get('regressed', 0)} | "
            f"{breaches.get(severity.label, 0)} |"
        )
    panels = health_panels(projects=[project.pk]).get(project.pk, [])
    if panels:
        lines += ["", "## System health", ""]
        for panel in panels:
            declared = (panel.declared or "not declared").replace("_", " ").upper()
            implied = panel.implied.replace("_", " ").upper()
            warning = " ⚠ disagrees" if panel.disagrees else ""
            lines.append(
                f"- **{panel.area.name}:** declared {declared}, findings say {implied}{warning}"
            )
    if sprint is not None:
        summary = planning.sprint_summary(sprint=sprint)
        lines += [
            "",
            "## Sprint",
            "",
            f"- Planned: {summary.scope} of capacity {sprint.capacity}",
            f"- Done: {summary.done} ({summary.percent}%)",
        ]
    lines += ["", "## Fixes and their evidence", ""]
    listed = 0
    for fix in fixes(project=project, sprint=sprint, limit=MARKDOWN_FIXES):
        listed += 1
        evidence = [f"evidence: {fix['evidence_level']}"]
        if fix["claimed_in"]:
            evidence.append(f"claimed in {fix['claimed_in']}")
        if fix["commits"]:
            evidence.append("commits " + ", ".join(f"`{c[:12]}`" for c in fix["commits"].split()))
        if fix["fixed_in_commit"]:
            evidence.append(f"no longer reported at `{fix['fixed_in_commit'][:12]}`")
        if fix["last_review"]:
            evidence.append(f"last review: {fix['last_review']} by {fix['reviewer']}")
        lines.append(
            f"- **{fix['key']}** ({fix['severity']}, {fix['status'].lower()}) {fix['title']} "
            f"— `{fix['location']}`  \n  {'; '.join(evidence)}"
        )
    if not listed:
        lines.append("No fixes claimed yet.")
    elif listed == MARKDOWN_FIXES:
        lines.append(f"\nThe first {MARKDOWN_FIXES} fixes are listed; the CSV has all of them.")
    return "\n".join(lines + _open_lines(project, sprint)) + "\n"


def _open_lines(project: Project, sprint: Sprint | None) -> list[str]:
    """The Markdown's "Open findings" section: by severity, worst first."""
    lines = ["", "## Open findings by severity", ""]
    current = ""
    listed = 0
    for row in open_findings(project=project, sprint=sprint, limit=MARKDOWN_OPEN):
        listed += 1
        if row["severity"] != current:
            current = row["severity"]
            lines += (
                [f"### {current.capitalize()}", ""]
                if listed == 1
                else ["", f"### {current.capitalize()}", ""]
            )
        status = "" if row["status"] == Status.OPEN.label else f", {row['status'].lower()}"
        evidence = (
            f"; partial fix evidence: {row['evidence_level']}" if row["evidence_level"] else ""
        )
        lines.append(f"- **{row['key']}**{status} {row['title']} — `{row['location']}`{evidence}")
    if not listed:
        lines.append("Nothing is open that nobody has claimed fixed.")
    elif listed == MARKDOWN_OPEN:
        lines.append(
            f"\nThe first {MARKDOWN_OPEN} open findings are listed; the CSV has all of them."
        )
    return lines


def _words(counts: dict[str, int]) -> str:
    """The words for "fixed" with their counts, as the status line says them."""
    return ", ".join(f"{counts.get(word.key, 0)} {word.label.lower()}" for word in FIX_WORDS)


# --- export ------------------------------------------------------------------------------

EXPORT_COLUMNS = {
    "key": "number",
    "fingerprint": "fingerprint",
    "tool": "tool",
    "rule": "rule_id",
    "severity": "severity",
    "status": "status",
    "path": "path",
    "start_line": "start_line",
    "end_line": "end_line",
    "first_seen_commit": "first_seen_commit",
    "last_seen_commit": "last_seen_commit",
    "fixed_in_commit": "fixed_in_commit",
}
"""The export's columns, in order, each with the finding field it comes from (the key is
``<project>-<number>`` and the severity its name)."""


def export_rows(*, project: Project) -> Iterator[dict]:
    """Every finding of a project as flat dicts keyed by :data:`EXPORT_COLUMNS`, streamed in
    key order."""
    for values in (
        Finding.objects.filter(project=project)
        .order_by("number")
        .values_list(*EXPORT_COLUMNS.values())
        .iterator(chunk_size=5000)
    ):
        row = dict(zip(EXPORT_COLUMNS, values, strict=True))
        row["key"] = f"{project.key}-{row['key']}"
        row["severity"] = Severity(row["severity"]).label
        yield row


def csv_safe(row: dict) -> dict:
    """``row`` ready for a CSV a person may open in a spreadsheet: each text cell that starts
    with a formula character (:data:`FORMULA_STARTS`) gets a single quote in front, so it reads
    as text, never as a live formula; its text is otherwise kept. Numbers are left alone.

    Every CSV auditdash writes goes through here (``manage.py export``, the status report).
    """
    return {
        name: "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value
        for name, value in row.items()
    }
