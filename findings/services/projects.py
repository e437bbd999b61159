"""Projects: created on first use, and the scan root they remember."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from findings.models import Event, Project


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
