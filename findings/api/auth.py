"""Who is calling the API: a bearer token or a signed-in browser session, and what they may do.

Every operation resolves its project through :func:`project_for`, which applies the same rules
as the pages (``findings.access``): a project the caller may not see answers 404 as if it did
not exist, a role too low answers 403 naming the role needed. A token is bound to one project
and acts for its creator with the lower of the token's role and the creator's current role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja.security import APIKeyCookie
from ninja.security.base import AuthBase

from findings import access
from findings.models import ApiToken, Project, Role
from findings.services import token_authenticate

if TYPE_CHECKING:
    # The user model is Django's own (no AUTH_USER_MODEL); code asks get_user_model() for it.
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Caller:
    """The person a request acts for, and the token it came with (None for a session)."""

    user: User
    token: ApiToken | None = None
    token_role: Role | None = None

    @property
    def via(self) -> str:
        return f"token {self.token.name}" if self.token else "session"


class BearerToken(AuthBase):
    """``Authorization: Bearer adt_…``. The header's value is never logged or echoed."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Caller | None:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        grant = token_authenticate(secret.strip())
        if grant is None:
            return None
        return Caller(user=grant.token.created_by, token=grant.token, token_role=grant.role)


class Session(APIKeyCookie):
    """A signed-in browser session; unsafe methods need the CSRF token (``X-CSRFToken``)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie this is not a browser session: no CSRF question arises, and
        # a CI call with a wrong token gets 401, not a puzzling CSRF failure.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = request.user
        if user.is_authenticated and user.is_active:
            return Caller(user=user)
        return None


AUTH = [BearerToken(), Session()]


def caller_of(request: HttpRequest) -> Caller:
    """Who is calling: what the operation's authenticator returned."""
    # django-ninja sets ``request.auth`` once an authenticator accepts the call; Django's
    # HttpRequest does not declare it.
    return request.auth  # type: ignore[attr-defined]


def role_of(caller: Caller, project: Project) -> Role | None:
    """The caller's role in ``project``; None when they may not see it."""
    if caller.token is not None:
        if caller.token.project_id != project.pk:
            return None
        return caller.token_role
    return access.role_for(caller.user, project)


def project_for(request: HttpRequest, key: str, minimum: Role = Role.VIEWER) -> Project:
    """The project ``key`` when the caller holds at least ``minimum``; 404 or 403 otherwise."""
    caller = caller_of(request)
    project = Project.objects.filter(key=key).first()
    role = role_of(caller, project) if project is not None else None
    if project is None or role is None:
        raise Http404(f"No project {key} that you may see.")
    if role < minimum:
        raise PermissionDenied(
            f"Your role in {project.key} is {role.label} ({caller.via}); this needs "
            f"{Role(minimum).label}."
        )
    return project


def visible_projects(request: HttpRequest):
    """The projects the caller may see: the token's own, or the user's."""
    caller = caller_of(request)
    if caller.token is not None:
        return Project.objects.filter(pk=caller.token.project_id)
    return access.projects_for(caller.user)
