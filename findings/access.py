"""Who may see and do what: per-project roles, checked by every page, form, export and API call.

The contract, kept small and stable for the views, the exports and the API:

- :func:`role_for` — a user's role in one project, or None when they may not see it.
- :func:`projects_for` — the projects a user may see (optionally with at least a role). Every
  list, count, search and export starts from this queryset, so nothing leaks through an
  aggregate.
- :func:`require` — the gate of a view: the project when the user has at least the role;
  ``Http404`` when they may not see the project at all (its existence is not revealed);
  ``PermissionDenied`` (403) when they see it but their role is too low.
- :func:`can` — the same question as a boolean, for templates and for hiding buttons.
- :func:`can_create_projects` — only site admins create projects (upload to a new key).
- :data:`ACTION_ROLES` and :func:`minimum_role_for_event` — the least role for each action;
  :func:`events_for` — the lifecycle events a role may apply by hand. Sign-off and rejection
  (:data:`REVIEW_EVENTS`) are never bare transitions: they go through
  ``services.review_record``, which enforces separation of duties.

Roles are ordered (viewer < developer < reviewer < manager); a site admin
(``is_superuser``) counts as a manager of every project and needs no membership. Inactive
users have no rights at all.

Within one request the answer is read once: :func:`require`, given the request, lets the
request's user remember its roles, so the view's later :func:`role_for` and :func:`can` calls
(the board asks three times) cost no query. Only a request's own user object remembers, and
a membership change through ``services.members`` makes it forget.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from findings.lifecycle import Event
from findings.models import Membership, Project, Role

__all__ = [
    "ACTION_ROLES",
    "REVIEW_EVENTS",
    "Role",
    "can",
    "can_create_projects",
    "events_for",
    "forget_roles",
    "is_site_admin",
    "minimum_role_for_event",
    "projects_for",
    "require",
    "role_for",
]

ACTION_ROLES: dict[str, Role] = {
    "read": Role.VIEWER,
    "upload": Role.DEVELOPER,
    "triage": Role.DEVELOPER,
    "claim": Role.DEVELOPER,
    "plan": Role.DEVELOPER,
    "link": Role.DEVELOPER,
    "review": Role.REVIEWER,
    "members": Role.MANAGER,
}
"""The least role for each kind of action; site admins may do all of them everywhere."""

# Hand-made lifecycle events and the role each needs. Sign-off and rejection are reviews:
# they go through ``services.review_record`` (separation of duties), never a bare transition.
_EVENT_ROLES: dict[str, Role] = {
    Event.CLAIM: Role.DEVELOPER,
    Event.ACCEPT_RISK: Role.DEVELOPER,
    Event.MARK_FALSE_POSITIVE: Role.DEVELOPER,
    Event.WONT_FIX: Role.DEVELOPER,
    Event.REOPEN: Role.DEVELOPER,
    Event.VERIFY: Role.REVIEWER,
}
REVIEW_EVENTS = frozenset({Event.SIGN_OFF, Event.REJECT, Event.VERIFY_BY_DECISION})
"""Events that only a review may apply (see ``findings.services.reviews``): a verdict, or a
reviewer's decision that a fix is verified when no evidence supports it."""


def _user(request_or_user):
    if isinstance(request_or_user, HttpRequest):
        return getattr(request_or_user, "user", None) or AnonymousUser()
    return request_or_user if request_or_user is not None else AnonymousUser()


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_site_admin(user) -> bool:
    """Site admins see and do everything, in every project."""
    return _active(user) and bool(user.is_superuser)


def can_create_projects(user) -> bool:
    """Creating a project (an upload or import to a new key) is for site admins only."""
    return is_site_admin(user)


_ROLES_MEMO = "_auditdash_roles"


def role_for(user, project: Project) -> Role | None:
    """The user's role in ``project``: MANAGER for site admins, None for non-members."""
    if not _active(user):
        return None
    if user.is_superuser:
        return Role.MANAGER
    memo: dict[int, Role | None] | None = getattr(user, _ROLES_MEMO, None)
    if memo is not None and project.pk in memo:
        return memo[project.pk]
    found = (
        Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
    )
    role = Role(found) if found is not None else None
    if memo is not None:
        memo[project.pk] = role
    return role


def forget_roles(user) -> None:
    """Drop the roles ``user`` remembers for its request (after a membership change)."""
    if hasattr(user, _ROLES_MEMO):
        delattr(user, _ROLES_MEMO)


def projects_for(user, minimum: Role = Role.VIEWER) -> QuerySet[Project]:
    """The projects ``user`` may see with at least ``minimum``; none for anonymous users."""
    if not _active(user):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user, memberships__role__gte=int(minimum))


def can(user, project: Project, minimum: Role) -> bool:
    """Whether ``user`` holds at least ``minimum`` in ``project``."""
    role = role_for(user, project)
    return role is not None and role >= minimum


def require(request_or_user, project_or_key: Project | str, minimum: Role = Role.VIEWER) -> Project:
    """The project, when the user holds at least ``minimum`` in it.

    Raises Http404 when the project does not exist or the user may not see it (the two look
    the same, so ids and keys reveal nothing), and PermissionDenied when the user sees the
    project but with a lower role.
    """
    user = _user(request_or_user)
    if isinstance(request_or_user, HttpRequest) and _active(user):
        if not hasattr(user, _ROLES_MEMO):
            setattr(user, _ROLES_MEMO, {})
    project: Project | None
    if isinstance(project_or_key, Project):
        project = project_or_key
    else:
        project = Project.objects.filter(key=str(project_or_key)).first()
    role = role_for(user, project) if project is not None else None
    if project is None or role is None:
        raise Http404("No such project, or you may not see it.")
    if role < minimum:
        raise PermissionDenied(
            f"Your role in {project.key} is {role.label}; this needs {Role(minimum).label}."
        )
    return project


def minimum_role_for_event(event: str) -> Role | None:
    """The least role that may apply a lifecycle ``event`` by hand; None when no one may."""
    return _EVENT_ROLES.get(event)


def events_for(role: Role | None, events: Sequence[Event]) -> list[Event]:
    """Of ``events`` (from ``lifecycle.allowed_events``), those ``role`` may apply by hand."""
    if role is None:
        return []
    return [
        event
        for event in events
        if (needed := minimum_role_for_event(event)) is not None and role >= needed
    ]
