"""The reads pages and exports need; querysets are built here, not in views."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet

from findings.lifecycle import Status
from findings.models import Finding, Project, Report, Severity


def export_rows(*, project: Project) -> Iterator[dict]:
    """Every finding of a project as flat dicts, streamed in key order."""
    fields = (
        "number",
        "fingerprint",
        "tool",
        "rule_id",
        "severity",
        "status",
        "path",
        "start_line",
        "end_line",
        "first_seen_commit",
        "last_seen_commit",
        "fixed_in_commit",
    )
    for row in (
        Finding.objects.filter(project=project)
        .order_by("number")
        .values_list(*fields)
        .iterator(chunk_size=5000)
    ):
        data = dict(zip(fields, row, strict=True))
        yield {
            "key": f"{project.key}-{data.pop('number')}",
            "fingerprint": data["fingerprint"],
            "tool": data["tool"],
            "rule": data.pop("rule_id"),
            "severity": Severity(data["severity"]).label,
            "status": data["status"],
            "path": data["path"],
            "start_line": data["start_line"],
            "end_line": data["end_line"],
            "first_seen_commit": data["first_seen_commit"],
            "last_seen_commit": data["last_seen_commit"],
            "fixed_in_commit": data["fixed_in_commit"],
        }


def projects_for_user(user) -> QuerySet[Project]:
    """The projects a signed-in user may see (every project, until per-project roles land)."""
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.all()


def project_overview(*, projects: QuerySet[Project]) -> list[dict]:
    """Per project: open findings by severity and the last import."""
    open_like = [Status.OPEN, Status.REGRESSED, Status.CLAIMED]
    rows = []
    counts = {
        (row["project_id"], row["severity"]): row["n"]
        for row in Finding.objects.filter(project__in=projects, status__in=open_like)
        .values("project_id", "severity")
        .annotate(n=Count("id"))
    }
    for project in projects:
        rows.append(
            {
                "project": project,
                "open": [(sev.label, counts.get((project.pk, sev.value), 0)) for sev in Severity],
                "open_total": sum(counts.get((project.pk, sev.value), 0) for sev in Severity),
            }
        )
    return rows


def status_matrix(*, project: Project) -> dict:
    """Counts by severity x status, for the board's header table."""
    cells = {
        (row["severity"], row["status"]): row["n"]
        for row in Finding.objects.filter(project=project)
        .values("severity", "status")
        .annotate(n=Count("id"))
    }
    statuses = [s for s in Status if any(cells.get((sev.value, s.value)) for sev in Severity)]
    statuses = statuses or [Status.OPEN]
    return {
        "statuses": statuses,
        "rows": [
            {
                "severity": sev.label,
                "cells": [cells.get((sev.value, s.value), 0) for s in statuses],
                "total": sum(cells.get((sev.value, s.value), 0) for s in Status),
            }
            for sev in Severity
        ],
        "totals": [sum(cells.get((sev.value, s.value), 0) for sev in Severity) for s in statuses],
    }


@dataclass(frozen=True)
class FindingFilter:
    status: str = ""
    severity: str = ""
    tool: str = ""
    path: str = ""
    q: str = ""


def board_findings(*, project: Project, filters: FindingFilter, page: int, per_page: int = 50):
    """A page of a project's findings, filtered, worst first."""
    qs = Finding.objects.filter(project=project)
    if filters.status == "open_like":
        qs = qs.filter(status__in=[Status.OPEN, Status.REGRESSED, Status.CLAIMED])
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.severity:
        qs = qs.filter(severity=Severity.from_name(filters.severity))
    if filters.tool:
        qs = qs.filter(tool=filters.tool)
    if filters.path:
        qs = qs.filter(path__startswith=filters.path)
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(rule_id__icontains=filters.q))
    qs = qs.order_by("severity", "-last_seen_at", "number").only(
        "number",
        "title",
        "severity",
        "status",
        "path",
        "start_line",
        "tool",
        "rule_id",
        "last_seen_at",
        "first_seen_at",
        "project_id",
    )
    paginator = Paginator(qs, per_page)
    return paginator.get_page(page)


def project_tools(*, project: Project) -> list[str]:
    return list(
        Finding.objects.filter(project=project)
        .values_list("tool", flat=True)
        .distinct()
        .order_by("tool")
    )


def project_reports(*, project: Project, limit: int = 20) -> QuerySet[Report]:
    return Report.objects.filter(project=project).select_related("uploaded_by")[:limit]


def recent_reports(*, projects: QuerySet[Project], limit: int = 50) -> QuerySet[Report]:
    return (
        Report.objects.filter(project__in=projects)
        .select_related("project", "uploaded_by")
        .order_by("-created_at", "-id")[:limit]
    )


def finding_timeline(*, finding: Finding) -> dict:
    """Sightings (newest first) and events of one finding, for its detail page."""
    sightings = finding.sightings.select_related("report").order_by("-report__order_at")[:200]
    events = finding.events.select_related("actor", "report").order_by("-created_at", "-id")[:200]
    return {"sightings": sightings, "events": events}
