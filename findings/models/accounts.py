"""Accounts: per-project roles and reviews (sign-off)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from findings.models.core import AppendOnlyError, AppendOnlyQuerySet, Finding, Project
from findings.models.documents import Claim


class Role(models.IntegerChoices):
    """A member's rights in one project, ordered: each role can do everything the lower can.

    Site admins (``User.is_superuser``) hold no memberships; they act as managers everywhere.
    """

    VIEWER = 1, "viewer"
    DEVELOPER = 2, "developer"
    REVIEWER = 3, "reviewer"
    MANAGER = 4, "manager"

    @classmethod
    def from_name(cls, name: str) -> Role:
        """The role labelled ``name`` ("reviewer"); ValueError naming the choices otherwise."""
        for role in cls:
            if role.label == name.strip().lower():
                return role
        raise ValueError(f"unknown role {name!r}: use one of {', '.join(cls.names_lower())}")

    @classmethod
    def names_lower(cls) -> list[str]:
        return [role.label for role in cls]


class Membership(models.Model):
    """One user's role in one project; a user without one does not see the project at all."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.PositiveSmallIntegerField(choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {Role(self.role).label} of {self.project}"


class Review(models.Model):
    """A reviewer's verdict on a finding's fix, kept forever (append-only, like Event).

    ``evidence_level`` is what the evidence said when the verdict was given, so a later change
    of the evidence cannot rewrite why a fix was approved.
    """

    class Verdict(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"
        NEEDS_WORK = "needs_work", "Needs work"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reviews")
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="reviews")
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    status_before = models.CharField(max_length=20)
    status_after = models.CharField(max_length=20)
    evidence_level = models.CharField(max_length=30, default="unverified")
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["finding", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.verdict} of finding {self.finding_id} by {self.reviewer_id}"

    def save(self, *args, **kwargs) -> None:  # noqa: DJ012
        if self.pk is not None:
            raise AppendOnlyError("reviews are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("reviews are append-only")
