"""The imports pages' reads: the reports a user may see, newest first, and one report."""

from __future__ import annotations

from django.db.models import QuerySet

from findings.models import Project, Report


def project_reports(*, project: Project, limit: int = 20) -> QuerySet[Report]:
    return Report.objects.filter(project=project).select_related("uploaded_by")[:limit]


def recent_reports(*, projects: QuerySet[Project], limit: int = 50) -> QuerySet[Report]:
    return (
        Report.objects.filter(project__in=projects)
        .select_related("project", "uploaded_by")
        .order_by("-created_at", "-id")[:limit]
    )


def report_for(*, projects: QuerySet[Project], pk: int) -> Report | None:
    """Report ``pk`` with its project, if it belongs to one of ``projects``; None otherwise."""
    return Report.objects.filter(pk=pk, project__in=projects).select_related("project").first()


def project_by_key(*, key: str) -> Project | None:
    """The project with the key ``key``, whoever may see it (access is the caller's check)."""
    return Project.objects.filter(key=key).first()
