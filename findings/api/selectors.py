"""The API's reads: pages of findings and reports along an index (keyset pagination), and one
finding with its timeline. Each issues a fixed number of queries whatever the page size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from findings.lifecycle import Status
from findings.models import Finding, Project, Report, Severity
from findings.selectors.board import BoardFilter, filtered_findings
from findings.selectors.finding import finding_claims, finding_timeline, rule_details

MAX_PAGE = 500
LONG_FIELDS = ("message", "snippet", "extra", "status_reason")
"""What :func:`finding_out` does not show, left unread by :func:`finding_page`."""
_FINDING_CURSOR = re.compile(r"^([1-5])\.([0-9]{1,10})$")


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class FindingQuery:
    """The filters of ``GET /projects/{key}/findings``; all optional, combined with AND."""

    statuses: tuple[str, ...] = ()
    board: BoardFilter = BoardFilter()
    rule: str = ""
    after: str = ""
    limit: int = 100


def finding_page(*, project: Project, query: FindingQuery) -> tuple[list[Finding], str]:
    """One page of findings, worst first then newest, and the cursor of the next ("" at the end).

    Read per status along the board column index (project, status, severity, -number), each
    status's first rows after the cursor, merged here: a page deep into a million findings
    costs what the first one does.
    """
    qs = filtered_findings(project, query.board)
    if query.rule:
        qs = qs.filter(rule_id=query.rule)
    statuses = sorted(set(query.statuses or Status.values))
    cursor = None
    if query.after:
        match = _FINDING_CURSOR.match(query.after)
        if match is None:
            raise CursorError(
                f"after={query.after!r} is not a cursor of this list; pass the 'next' URL as given"
            )
        cursor = int(match[1]), int(match[2])
    want = query.limit + 1
    parts = [part for status in statuses for part in _after(qs.filter(status=status), cursor, want)]
    if connection.features.supports_slicing_ordering_in_compound:
        keys = list(parts[0].union(*parts[1:], all=True))  # one round trip (PostgreSQL)
    else:
        keys = [key for part in parts for key in part]
    keys.sort(key=lambda key: (key[0], -key[1]))
    more = len(keys) > query.limit
    keys = keys[: query.limit]
    rows = sorted(
        # The list leaves out the long texts (message, snippet, details): one finding's page
        # has them, and reading and decoding them was a good part of a page of a hundred.
        Finding.objects.select_related("assignee", "sprint", "phase")
        .defer(*LONG_FIELDS)
        .filter(pk__in=[pk for _, _, pk in keys]),
        key=lambda finding: (finding.severity, -finding.number),
    )
    following = f"{rows[-1].severity}.{rows[-1].number}" if more else ""
    return rows, following


def _after(qs: QuerySet[Finding], cursor: tuple[int, int] | None, want: int) -> list[QuerySet]:
    """Queries for the (severity, number, id) of up to ``want`` findings of ``qs`` (one
    status) in board order after ``cursor``: the rest of the cursor's severity and the
    severities after it, as two range reads along the index rather than one OR, which
    PostgreSQL cannot walk as a range."""
    keys = qs.values_list("severity", "number", "pk")
    if cursor is None:
        return [keys.order_by("severity", "-number")[:want]]
    severity, number = cursor
    return [
        keys.filter(severity=severity, number__lt=number).order_by("-number")[:want],
        keys.filter(severity__gt=severity).order_by("severity", "-number")[:want],
    ]


def report_page(*, projects: QuerySet[Project], after: int | None, limit: int):
    """One page of reports, newest first, and the id to continue after (None at the end)."""
    qs = Report.objects.filter(project__in=projects).select_related("project")
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].pk if more else None)


def finding_out(finding: Finding, project: Project, *, page_prefix: str = "") -> dict:
    """A finding as the API lists it. ``page_prefix`` is :func:`finding_page_prefix` of the
    project, when the caller lists many findings (one URL reversal for all of them)."""
    prefix = page_prefix or finding_page_prefix(project)
    return {
        "key": f"{project.key}-{finding.number}",
        "number": finding.number,
        "project": project.key,
        "title": finding.title,
        "severity": Severity(finding.severity).label,
        "status": finding.status,
        "tool": finding.tool,
        "rule": finding.rule_id,
        "cwe": finding.cwe,
        "path": finding.path,
        "start_line": finding.start_line,
        "end_line": finding.end_line,
        "fingerprint": finding.fingerprint,
        "first_seen_at": finding.first_seen_at,
        "last_seen_at": finding.last_seen_at,
        "first_seen_commit": finding.first_seen_commit,
        "last_seen_commit": finding.last_seen_commit,
        "fixed_in_commit": finding.fixed_in_commit,
        "fixed_at": finding.fixed_at,
        "sla_due": finding.sla_due,
        "assignee": finding.assignee.get_username() if finding.assignee is not None else "",
        "sprint": finding.sprint.name if finding.sprint is not None else "",
        "phase": finding.phase.name if finding.phase is not None else "",
        "url": f"{prefix}{finding.number}/",
    }


def finding_page_prefix(project: Project) -> str:
    """The URL of the project's finding pages without the number: ``/p/KEY/findings/``."""
    return reverse("findings:detail", args=[project.key, 1])[: -len("1/")]


def finding_detail(*, finding: Finding, project: Project) -> dict:
    """A finding with its timeline: events, sightings, claims with evidence, reviews."""
    timeline = finding_timeline(finding=finding)
    claims = finding_claims(finding=finding)
    evidence = {
        claim.pk: level
        for claim in claims
        if (level := getattr(getattr(claim, "verification", None), "level", None))
    }
    reviews = finding.reviews.select_related("reviewer").order_by("-created_at", "-id")[:100]
    return {
        **finding_out(finding, project),
        "message": finding.message,
        "snippet": finding.snippet,
        "status_reason": finding.status_reason,
        "details": finding.extra if isinstance(finding.extra, dict) else {},
        "rule": rule_details(finding=finding),
        "events": [
            {
                "at": event.created_at,
                "action": event.action,
                "before": event.before,
                "after": event.after,
                "actor": event.actor.get_username() if event.actor_id else "",
                "note": event.note,
                "report": event.report_id,
            }
            for event in timeline["events"]
        ],
        "sightings": [
            {
                "report": sighting.report_id,
                "commit": sighting.report.commit,
                "path": sighting.path,
                "start_line": sighting.start_line,
                "end_line": sighting.end_line,
                "suppressed": sighting.suppressed,
            }
            for sighting in timeline["sightings"]
        ],
        "claims": [
            {
                "title": claim.title,
                "status": claim.status,
                "document": claim.report_id,
                "files": claim.files,
                "commits": claim.commits,
                "evidence": evidence.get(claim.pk, "unverified"),
            }
            for claim in claims
        ],
        "reviews": [
            {
                "at": review.created_at,
                "verdict": review.verdict,
                "reviewer": review.reviewer.get_username(),
                "comment": review.comment,
                "evidence_level": review.evidence_level,
            }
            for review in reviews
        ],
    }


def report_out(report: Report) -> dict:
    """A report as the API shows it; counts only once it is done (they never change after)."""
    done = report.state == Report.State.DONE
    return {
        "id": report.pk,
        "project": report.project.key,
        "kind": report.kind,
        "filename": report.filename,
        "format": report.format,
        "tool": report.tool,
        "commit": report.commit,
        "branch": report.branch,
        "state": report.state,
        "progress": report.progress,
        "error": report.error,
        "note": report.note,
        "counts": {
            "total": report.total,
            "new": report.new,
            "still_open": report.still_open,
            "fixed": report.fixed,
            "regressed": report.regressed,
            "suppressed": report.suppressed,
        }
        if done
        else None,
        "created_at": report.created_at,
        "finished_at": report.finished_at,
        "status_url": reverse("api-1:report", args=[report.pk]),
        "page_url": reverse("findings:report", args=[report.pk]),
    }
