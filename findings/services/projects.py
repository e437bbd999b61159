"""Projects: created on first use, and the scan root they remember."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from findings.models import Event, Project, StatusCount


class ProjectKeyError(ValueError):
    pass


def project_get_or_create(*, key: str, name: str = "") -> tuple[Project, bool]:
    """The project with ``key``, created when it does not exist yet (keys are 2-20 of A-Z0-9-)."""
    from django.core.exceptions import ValidationError

    project = Project(key=key, name=name or key)
    try:
        project.full_clean(validate_unique=False)
    except ValidationError as error:
        raise ProjectKeyError(
            f"project key {key!r} is not valid: use 2-20 characters of A-Z, 0-9 and '-'"
        ) from error
    with transaction.atomic():
        project, created = Project.objects.get_or_create(key=key, defaults={"name": name or key})
        if created:
            Event.objects.create(
                project=project, action="project_created", after=key, created_at=timezone.now()
            )
    return project, created


def project_remember_root(*, project: Project, root: str) -> None:
    """Keep the scan root given for a report, for later reports that name none."""
    if root and project.scan_root != root:
        Project.objects.filter(pk=project.pk).update(scan_root=root)
        Event.objects.create(
            project=project,
            action="scan_root",
            before=project.scan_root[:200],
            after=root[:200],
            created_at=timezone.now(),
        )
        project.scan_root = root


def status_counts_refresh(*, project_id: int) -> None:
    """Recount a project's findings by severity and status (after a bulk change)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM findings_statuscount WHERE project_id = %s", [project_id])
        cursor.execute(
            """INSERT INTO findings_statuscount (project_id, severity, status, n)
            SELECT project_id, severity, status, COUNT(*) FROM findings_finding
            WHERE project_id = %s GROUP BY project_id, severity, status""",
            [project_id],
        )


def status_count_move(*, project_id: int, severity: int, before: str, after: str) -> None:
    """Move one finding between cells of the summary (a single hand-made transition)."""
    if before == after:
        return
    if before:
        StatusCount.objects.filter(
            project_id=project_id, severity=severity, status=before, n__gt=0
        ).update(n=F("n") - 1)
    cell, created = StatusCount.objects.get_or_create(
        project_id=project_id, severity=severity, status=after, defaults={"n": 1}
    )
    if not created:
        StatusCount.objects.filter(pk=cell.pk).update(n=F("n") + 1)
