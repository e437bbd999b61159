"""API tokens: created by a manager, shown once, stored hashed, revocable; every change an Event.

A token is ``adt_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256
is kept, so a copy of the database does not hand out working tokens. When a request presents
a token, :func:`token_authenticate` finds it by that hash and answers with the token and the
role it may act with now: the lower of the token's own role and its creator's current role in
the project, or nothing at all when the token is unknown, revoked, expired, or its creator has
left the project or been deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from findings import access
from findings.models import ApiToken, Event, Project, Role

TOKEN_PREFIX = "adt_"  # noqa: S105 - a public marker, not a secret
LAST_USED_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token: a busy CI must not turn every
read into a write."""
MAX_TOKEN_DAYS = 366


class TokenError(ValueError):
    """A token that cannot be created or revoked, with the reason for the person asking."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is shown to its creator once and never stored."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class TokenGrant:
    """What a presented token may do now: act for ``token.created_by`` in its project with
    ``role``."""

    token: ApiToken
    role: Role


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def token_create(
    *, project: Project, creator, name: str, role: Role, days: int | None = None
) -> IssuedToken:
    """Create a token for ``project`` with ``role``, no more than ``creator`` holds there.

    Only managers of the project (and site admins) create tokens. ``days`` (1-366) makes it
    expire; None keeps it until revoked.
    """
    role = Role(role)
    name = " ".join(str(name).split())
    if not name or len(name) > 100:
        raise TokenError("Give the token a name of 1-100 characters, e.g. 'GitHub Actions'.")
    held = access.role_for(creator, project)
    if held is None or held < access.ACTION_ROLES["members"]:
        raise TokenError(f"Only managers of {project.key} create its API tokens.")
    if role > held:
        raise TokenError(
            f"A token cannot grant more than its creator has: you are {held.label} of "
            f"{project.key}, the token asked for {role.label}."
        )
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenError(f"A token expires after 1 to {MAX_TOKEN_DAYS} days, or never.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            project=project,
            name=name,
            role=role,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            digest=_digest(secret),
            created_by=creator,
            expires_at=now + timedelta(days=days) if days else None,
        )
        Event.objects.create(
            project=project,
            actor=creator,
            action="token_created",
            after=role.label,
            note=f"{name} ({token.prefix}…)"[:2000],
            created_at=now,
        )
    return IssuedToken(token=token, secret=secret)


def token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke ``token`` for good; False when it was revoked already."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return False
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        Event.objects.create(
            project_id=locked.project_id,
            actor=actor,
            action="token_revoked",
            before=Role(locked.role).label,
            note=f"{locked.name} ({locked.prefix}…)"[:2000],
            created_at=locked.revoked_at,
        )
    token.revoked_at, token.revoked_by = locked.revoked_at, locked.revoked_by
    return True


def token_authenticate(secret: str) -> TokenGrant | None:
    """The grant of a presented token, or None when it grants nothing (see the module doc)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.filter(digest=_digest(secret), revoked_at__isnull=True)
        .select_related("project", "created_by")
        .first()
    )
    now = timezone.now()
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    held = access.role_for(token.created_by, token.project)
    if held is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return TokenGrant(token=token, role=min(Role(token.role), held))
