"""Members: who holds which role in a project; every change is an Event."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from findings import access
from findings.models import Event, Membership, Project, Role


def membership_set(*, project: Project, user, role: Role, actor=None) -> Membership:
    """Give ``user`` the ``role`` in ``project`` (adding or changing their membership)."""
    role = Role(role)
    access.forget_roles(user)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(project=project, user=user).first()
        )
        before = Role(membership.role).label if membership else ""
        if membership is None:
            membership = Membership.objects.create(project=project, user=user, role=role)
        elif membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        if before != role.label:
            Event.objects.create(
                project=project,
                actor=actor,
                action="member_role",
                before=before,
                after=role.label,
                note=user.get_username()[:150],
                created_at=timezone.now(),
            )
    return membership


def membership_remove(*, project: Project, user, actor=None) -> bool:
    """Take ``user`` out of ``project``; False when they were not a member."""
    access.forget_roles(user)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(project=project, user=user).first()
        )
        if membership is None:
            return False
        before = Role(membership.role).label
        membership.delete()
        Event.objects.create(
            project=project,
            actor=actor,
            action="member_removed",
            before=before,
            note=user.get_username()[:150],
            created_at=timezone.now(),
        )
    return True
