"""The reads of the SARIF export (``manage.py export --format sarif``, ``GET
/api/v1/projects/{key}/sarif``): a project's open findings, run by run, each with its
lifecycle, its evidence and the facts its baseline state rests on.

Each run's findings are read through one cursor in key order, a chunk at a time, with a fixed
number of queries per chunk for their claims, checks, reviews and baseline sightings, so
memory stays flat however many findings a project has. The mapping
onto SARIF is ``findings.rules.sarif``; the reasons are in ``docs/sarif-export.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from django.db.models import Count, Min

from findings.lifecycle import OPEN_LIKE, TRIAGED, Status
from findings.models import (
    Check,
    Claim,
    EvidenceLevel,
    Finding,
    FindingLink,
    Project,
    Report,
    ReportScope,
    Review,
    Rule,
    Severity,
    Sighting,
)
from findings.rules.sarif import RuleFacts, RunFacts, write_log
from findings.services.document_matching import DOCUMENT_TOOL

FIXED = frozenset({Status.VERIFIED, Status.SIGNED_OFF})
"""Fixed findings, exported (as ``absent``) only when asked for."""

CHUNK = 1000

_FIELDS = (
    "pk",
    "number",
    "fingerprint",
    "rule_id",
    "title",
    "message",
    "severity",
    "cwe",
    "path",
    "start_line",
    "end_line",
    "snippet",
    "status",
    "status_reason",
    "status_changed_at",
    "first_seen_at",
    "last_seen_at",
    "first_seen_commit",
    "last_seen_commit",
    "fixed_in_commit",
    "fixed_at",
    "sla_due",
    "last_seen_report_id",
    "fixed_in_report_id",
)


@dataclass
class ExportRun:
    """A run and its scope's reports in time order: each report's predecessor (its baseline)
    and when each was imported."""

    facts: RunFacts
    previous: dict[int, int] = field(default_factory=dict)
    imported_at: dict[int, datetime | None] = field(default_factory=dict)
    evidence: bool = True
    """False when the project has no claim and no review: nothing to look up per chunk."""


def export_statuses(*, with_fixed: bool, with_triaged: bool = False) -> list[str]:
    """The statuses an export holds: the open-like ones, and the fixed and triaged ones when
    asked."""
    return sorted(
        OPEN_LIKE | (FIXED if with_fixed else frozenset()) | (TRIAGED if with_triaged else set())
    )


def sarif_log(
    *, project: Project, with_fixed: bool = False, with_triaged: bool = False
) -> Iterator[bytes]:
    """The project's open findings (and fixed ones, ``with_fixed``; triaged ones as
    suppressed results, ``with_triaged``) as a SARIF 2.1.0 log, in pieces of UTF-8."""
    statuses = export_statuses(with_fixed=with_fixed, with_triaged=with_triaged)
    runs = sarif_runs(project=project, statuses=statuses)
    return write_log((run.facts, _rows(project, run, statuses)) for run in runs)


def sarif_runs(*, project: Project, statuses: list[str]) -> list[ExportRun]:
    """One run per tool, SARIF category and branch among the findings with ``statuses``, each
    with its rules; the documents' run last."""
    groups = (
        Finding.objects.filter(project=project, status__in=statuses)
        .values("tool", "category", "branch", "rule_id")
        .annotate(titles=Count("title", distinct=True), title=Min("title"))
        .order_by("tool", "category", "branch", "rule_id")
    )
    runs: dict[tuple[str, str, str], ExportRun] = {}
    for group in groups:
        key = (group["tool"], group["category"], group["branch"])
        if key not in runs:
            runs[key] = ExportRun(
                RunFacts(
                    tool=key[0],
                    category=key[1],
                    branch=key[2],
                    documents=key[0] == DOCUMENT_TOOL,
                    project=project.key,
                )
            )
        if group["rule_id"]:
            title = group["title"] if group["titles"] == 1 else ""
            runs[key].facts.rules.append(RuleFacts(id=group["rule_id"], title=title))
    details = {
        (tool, rule_id): found
        for tool, rule_id, found in Rule.objects.filter(
            project=project, tool__in={key[0] for key in runs}
        ).values_list("tool", "rule_id", "details")
    }
    evidence = (
        Claim.objects.filter(project=project).exists()
        or Review.objects.filter(project=project).exists()
    )
    for (tool, _, _), run in runs.items():
        run.evidence = evidence
        for rule in run.facts.rules:
            rule.details = details.get((tool, rule.id)) or {}
        if not run.facts.documents:
            _read_scope(project, run)
    return sorted(runs.values(), key=lambda run: (run.facts.documents, *_key(run.facts)))


def _key(run: RunFacts) -> tuple[str, str, str]:
    return run.tool, run.category, run.branch


def _scope(run: RunFacts) -> dict[str, str]:
    """The filter of a run's scope: its tool, SARIF category and branch."""
    return {"tool": run.tool, "category": run.category, "branch": run.branch}


def _read_scope(project: Project, run: ExportRun) -> None:
    """The scope's finished reports in the order the merge places them (scanned-code time,
    then arrival), and the tool version of the newest."""
    facts = run.facts
    reports = (
        ReportScope.objects.filter(
            project=project, report__state=Report.State.DONE, **_scope(facts)
        )
        .order_by("order_at", "report_id")
        .values_list("report_id", "report__finished_at", "report__tool_version")
    )
    before = None
    for report_id, finished_at, version in reports:
        if before is not None:
            run.previous[report_id] = before
        run.imported_at[report_id] = finished_at
        before = report_id
        facts.version = version or facts.version


def _rows(project: Project, run: ExportRun, statuses: list[str]) -> Iterator[dict]:
    """The run's findings in key order: one query read through a cursor (server-side on
    PostgreSQL), its facts added a chunk at a time."""
    rows = (
        Finding.objects.filter(project=project, status__in=statuses, **_scope(run.facts))
        .order_by("number")
        .values(*_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    while chunk := list(islice(rows, CHUNK)):
        yield from _with_facts(project, run, chunk)


def _with_facts(project: Project, run: ExportRun, chunk: list[dict]) -> Iterator[dict]:
    ids = [row["pk"] for row in chunk]
    baselines: dict[int, int | None] = {}
    for row in chunk:
        current = (
            row["fixed_in_report_id"] if row["status"] in FIXED else row["last_seen_report_id"]
        )
        baselines[row["pk"]] = run.previous.get(current) if current else None
    wanted = {report for report in baselines.values() if report is not None}
    seen = (
        set(
            Sighting.objects.filter(finding_id__in=ids, report_id__in=wanted).values_list(
                "finding_id", "report_id"
            )
        )
        if wanted
        else set()
    )
    evidence = finding_evidence(ids) if run.evidence else {}
    for row in chunk:
        baseline = baselines[row["pk"]]
        in_baseline = baseline is not None and (row["pk"], baseline) in seen
        imported = run.imported_at.get(baseline) if baseline is not None else None
        yield {
            **row,
            "severity": Severity(row["severity"]).label,
            "baseline": {
                "fixed": row["status"] in FIXED,
                "in_baseline": in_baseline,
                "changed_since_baseline": bool(
                    in_baseline and imported and row["status_changed_at"] > imported
                ),
            },
            "auditdash": _lifecycle(project, row, evidence.get(row["pk"])),
            "suppression": _suppression(row),
        }


def _suppression(row: dict) -> dict | None:
    """How a triaged finding was set aside, as SARIF's ``suppression`` (§3.35) wants it: a
    person's triage (accepted risk, false positive, won't fix) lives in auditdash, outside the
    code (``external``); a scanner's own suppression came from the code (``# nosec``,
    ``nosemgrep``) unless the scanner said it was external."""
    if row["status"] not in TRIAGED:
        return None
    reason = row["status_reason"] or ""
    if row["status"] == Status.SUPPRESSED:
        kind = "external" if reason.lower().startswith("external") else "inSource"
    else:
        kind = "external"
    label = Status(row["status"]).label.lower()
    return {
        "kind": kind,
        "status": "accepted",
        "justification": f"{label}: {reason}" if reason else label,
    }


def _lifecycle(project: Project, row: dict, evidence: dict | None) -> dict:
    return {
        "key": f"{project.key}-{row['number']}",
        "status": row["status"],
        "statusReason": row["status_reason"],
        "statusChangedAt": row["status_changed_at"],
        "severity": Severity(row["severity"]).label,
        "firstSeenAt": row["first_seen_at"],
        "firstSeenCommit": row["first_seen_commit"],
        "lastSeenAt": row["last_seen_at"],
        "lastSeenCommit": row["last_seen_commit"],
        "fixedAt": row["fixed_at"],
        "fixedInCommit": row["fixed_in_commit"],
        "slaDue": row["sla_due"],
        "evidence": evidence or {"level": EvidenceLevel.UNVERIFIED, "claims": [], "review": None},
    }


def finding_evidence(finding_ids: list[int]) -> dict[int, dict]:
    """Each finding's evidence, for those that have any: the claims that speak for it (its
    own, and confirmed links) with their evidence level and the checks of their newest
    verification, the strongest level among them, and its newest review. Five queries."""
    speaking: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for finding_id, claim_id in Claim.objects.filter(
        finding_id__in=finding_ids, dropped=False
    ).values_list("finding_id", "pk"):
        speaking[finding_id].append((claim_id, False))
    for finding_id, claim_id in FindingLink.objects.filter(
        finding_id__in=finding_ids, state=FindingLink.State.CONFIRMED, claim__dropped=False
    ).values_list("finding_id", "claim_id"):
        speaking[finding_id].append((claim_id, True))
    claims = _claims({claim_id for pairs in speaking.values() for claim_id, _ in pairs})
    reviews: dict[int, dict] = {}
    for finding_id, verdict, reviewer, comment, at in (
        Review.objects.filter(finding_id__in=finding_ids)
        .order_by("finding_id", "-created_at", "-id")
        .values_list("finding_id", "verdict", "reviewer__username", "comment", "created_at")
    ):
        if finding_id not in reviews:  # the newest
            reviews[finding_id] = {
                "verdict": verdict,
                "reviewer": reviewer,
                "at": at,
                "comment": comment,
            }
    found: dict[int, dict] = {}
    for finding_id in set(speaking) | set(reviews):
        listed = [
            {**claims[claim_id], "linked": linked}
            for claim_id, linked in speaking.get(finding_id, [])
            if claim_id in claims
        ]
        levels = [claim["evidenceLevel"] for claim in listed if claim["checkedAt"] is not None]
        found[finding_id] = {
            "level": max(levels, key=EvidenceLevel.rank, default=EvidenceLevel.UNVERIFIED),
            "claims": listed,
            "review": reviews.get(finding_id),
        }
    return found


def _claims(claim_ids: set[int]) -> dict[int, dict]:
    """Claims by id as the export shows them, with the checks of their newest verification."""
    if not claim_ids:
        return {}
    rows = list(
        Claim.objects.filter(pk__in=claim_ids).values(
            "pk",
            "title",
            "status",
            "files",
            "commits",
            "report__document__title",
            "report__filename",
            "verification__level",
            "verification__run",
            "verification__commit",
            "verification__head_sha",
            "verification__checked_at",
        )
    )
    checks: dict = defaultdict(list)
    runs = {row["verification__run"] for row in rows if row["verification__run"]}
    if runs:
        for check in (
            Check.objects.filter(run__in=runs)
            .order_by("id")
            .values("run", "name", "result", "path", "commit", "side", "reason")
        ):
            checks[check["run"]].append({k: v for k, v in check.items() if k != "run"})
    return {
        row["pk"]: {
            "document": row["report__document__title"] or row["report__filename"],
            "title": row["title"],
            "says": row["status"],
            "files": row["files"],
            "commits": row["commits"],
            "evidenceLevel": row["verification__level"] or EvidenceLevel.UNVERIFIED,
            "checkedAt": row["verification__checked_at"],
            "fixCommit": row["verification__commit"] or "",
            "head": row["verification__head_sha"] or "",
            "checks": checks.get(row["verification__run"], []),
        }
        for row in rows
    }
