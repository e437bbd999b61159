"""The members page's reads: who holds which role in a project, and who may be given one."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from findings.models import Membership, Project


def project_memberships(*, project: Project) -> QuerySet[Membership]:
    """A project's memberships with their users, highest role first, then by username."""
    return (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("-role", "user__username")
    )


def active_user(*, username: str) -> AbstractBaseUser | None:
    """The active user called ``username``; None when there is none."""
    return get_user_model().objects.filter(username=username, is_active=True).first()
