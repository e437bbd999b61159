"""API tokens: a project's credentials for CI and scripts, stored hashed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from findings.models.accounts import Role
from findings.models.core import Project


class ApiToken(models.Model):
    """One bearer token for one project, with at most its creator's role.

    Only the SHA-256 of the token is stored (tokens are 256 random bits, so a plain hash is
    enough: there is nothing to guess); ``prefix`` is its first characters, shown in lists so
    a person can tell their tokens apart. A token acts for its creator: what it writes is
    theirs in the audit log, and its rights are the lower of its own role and the creator's
    role at the time of each request, so it never grants more than its creator has.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    role = models.PositiveSmallIntegerField(choices=Role.choices)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["project", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project} token {self.name} ({self.prefix}…)"

    @property
    def role_name(self) -> str:
        return Role(self.role).label
