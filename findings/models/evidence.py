"""Git evidence: the linked repository, its commits, and checks of claimed fixes."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from findings.models.core import AppendOnlyError, AppendOnlyQuerySet, Finding, Project
from findings.models.documents import Claim


class Repository(models.Model):
    """The git repository a project is linked to (see docs/architecture.md, "Git evidence").

    ``kind`` says whether ``path`` is a local repository an administrator allowed, read in
    place, or auditdash's own bare clone of ``url`` under the data folder. The linking
    service mirrors ``path`` and ``branch`` into ``Project.repo_path`` and
    ``Project.default_branch``, which the ingestion pipeline and the scanners read.
    """

    class Kind(models.TextChoices):
        LOCAL = "local", "Local path"
        CLONE = "clone", "Clone"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="repository")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    url = models.CharField(max_length=2000, blank=True, help_text="Clone URL as validated.")
    path = models.CharField(max_length=1000, help_text="Where auditdash reads the repository.")
    branch = models.CharField(max_length=200)
    head_sha = models.CharField(max_length=64, blank=True)
    commits_read_to = models.CharField(
        max_length=64, blank=True, help_text="Branch tip up to which commits are stored."
    )
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_ok = models.BooleanField(null=True, blank=True)
    fetch_message = models.TextField(blank=True)
    read_note = models.TextField(
        blank=True,
        help_text="What the last read of commits could not read (objects git could not read, "
        "and the commits read only in part), in words for a page.",
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    linked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.project_id}: {self.url or self.path} ({self.branch})"

    @property
    def head_short(self) -> str:
        return self.head_sha[:12]

    @property
    def shown_name(self) -> str:
        """How pages name the repository: its clone URL, or the name of its folder when it
        lives on the server (a local path or a ``file://`` URL): pages show no server paths."""
        if self.url and not self.url.startswith(("file:", "/")):
            return self.url
        return f"{PurePosixPath(self.url or self.path).name}, a folder on the server"


class Commit(models.Model):
    """A commit of a project's linked repository, read in as far as findings need it."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="commits", db_index=False
    )
    sha = models.CharField(max_length=64)
    short_sha = models.CharField(max_length=16)
    author_name = models.CharField(max_length=300, blank=True)
    author_email = models.CharField(max_length=300, blank=True)
    authored_at = models.DateTimeField()
    committed_at = models.DateTimeField()
    message = models.TextField(blank=True)
    parents = models.JSONField(default=list, blank=True)
    files = models.JSONField(
        default=list, blank=True, help_text='[{"change": "M", "path": ..., "old_path": ...}]'
    )

    class Meta:
        ordering = ["-committed_at", "sha"]
        constraints = [
            models.UniqueConstraint(fields=["project", "sha"], name="commit_once_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.short_sha} {self.summary}"

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0]


class CommitLink(models.Model):
    """A commit whose message cites a finding's key ("Fixes LILY-42", "refs LILY-7")."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="commit_links")
    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="finding_links")
    verb = models.CharField(max_length=20, help_text="fixes, closes, resolves or refs.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["commit__committed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "commit", "verb"], name="commit_link_once"),
        ]

    def __str__(self) -> str:
        return f"{self.commit_id} {self.verb} finding {self.finding_id}"


class Check(models.Model):
    """One piece of machine evidence about a claimed fix, at the commit it was made at.

    Append-only like Event: a later run adds rows (same ``run`` for one verification of one
    claim), it never rewrites what an earlier run found.
    """

    class Result(models.TextChoices):
        PASS = "pass", "pass"  # noqa: S105 - a result, not a password
        FAIL = "fail", "fail"
        CANNOT_CHECK = "cannot_check", "cannot check"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="checks", db_index=False
    )
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="checks")
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="checks"
    )
    run = models.UUIDField(db_index=True)
    name = models.CharField(max_length=40)
    path = models.CharField(max_length=1000, blank=True)
    result = models.CharField(max_length=12, choices=Result.choices)
    reason = models.TextField()
    commit = models.CharField(max_length=64, blank=True, help_text="The commit checked at.")
    side = models.CharField(max_length=10, blank=True, help_text="Diff side matched: old/new.")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.result}"

    def save(self, *args, **kwargs) -> None:  # noqa: DJ012
        if self.pk is not None:
            raise AppendOnlyError("checks are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("checks are append-only")


class EvidenceLevel(models.TextChoices):
    """How far the machine evidence for a claimed fix goes, weakest first."""

    UNVERIFIED = "unverified", "unverified"
    COMMIT_LINKED = "commit-linked", "commit-linked"
    CODE_CHECKED = "code-checked", "code-checked"
    SCAN_CONFIRMED = "scan-confirmed", "scan-confirmed"

    @classmethod
    def rank(cls, level: str) -> int:
        # Asked for every card of every board: a dict, not a search of the enum's values.
        return _EVIDENCE_RANKS[level]

    @classmethod
    def proves_fix(cls, level: str) -> bool:
        """Whether ``level`` is evidence enough to call a fix *verified*: a code check that
        passed, or a re-scan that no longer reports the finding."""
        return cls.rank(level) >= cls.rank(cls.CODE_CHECKED)


_EVIDENCE_RANKS = {level: rank for rank, level in enumerate(EvidenceLevel.values)}


class ClaimEvidence(models.Model):
    """The newest verification of one claim: its evidence level and the run of Checks behind
    it. Rewritten by each verification; the Checks and Events keep the history."""

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="verification")
    level = models.CharField(
        max_length=20, choices=EvidenceLevel.choices, default=EvidenceLevel.UNVERIFIED
    )
    run = models.UUIDField()
    commit = models.CharField(max_length=64, blank=True, help_text="The fix commit checked.")
    head_sha = models.CharField(max_length=64, blank=True)
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"claim {self.claim_id}: {self.level}"

    @property
    def checks(self) -> models.QuerySet[Check]:
        """The Checks of this run, in the order they were made."""
        return Check.objects.filter(run=self.run).order_by("id")
