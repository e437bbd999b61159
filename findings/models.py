"""The domain: projects, reports, findings, their sightings and the audit log.

Claims, checks, reviews and planning (phases, sprints, roadmap, health areas) arrive with
later work; see docs/architecture.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from findings.lifecycle import Status

PROJECT_KEY_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,19}$"


class Severity(models.IntegerChoices):
    """Ordered so that sorting ascending puts the worst first."""

    CRITICAL = 1, "critical"
    HIGH = 2, "high"
    MEDIUM = 3, "medium"
    LOW = 4, "low"
    INFO = 5, "info"

    @classmethod
    def from_name(cls, name: str) -> Severity:
        return {label: value for value, label in cls.choices}[name]


class Project(models.Model):
    key = models.CharField(
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(PROJECT_KEY_PATTERN, "2-20 characters of A-Z, 0-9 and '-'."),
        ],
    )
    name = models.CharField(max_length=200, blank=True)
    repo_path = models.CharField(
        max_length=1000, blank=True, help_text="Local path of the project's git repository."
    )
    default_branch = models.CharField(max_length=200, default="main")
    scan_root = models.CharField(
        max_length=1000,
        blank=True,
        help_text="The directory scans ran in, remembered to make absolute paths repo-relative.",
    )
    next_number = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Report(models.Model):
    class Kind(models.TextChoices):
        SCAN = "scan", "Scanner report"
        DOCUMENT = "document", "Remediation document"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SCAN)
    format = models.CharField(max_length=30, blank=True)
    tool = models.CharField(max_length=200, blank=True)
    tool_version = models.CharField(max_length=100, blank=True)
    filename = models.CharField(max_length=500)
    size = models.BigIntegerField(default=0)
    stored_path = models.CharField(max_length=1000, blank=True)
    commit = models.CharField(max_length=40, blank=True)
    branch = models.CharField(max_length=200, blank=True)
    order_at = models.DateTimeField(
        null=True, help_text="When the scanned code was current: commit date, else report date."
    )
    order_source = models.CharField(max_length=20, blank=True)
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    note = models.TextField(blank=True)
    total = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    still_open = models.PositiveIntegerField(default=0)
    fixed = models.PositiveIntegerField(default=0)
    regressed = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same bytes twice are one report; a failed attempt does not block a retry.
            models.UniqueConstraint(
                fields=["project", "sha256"],
                condition=~Q(state="failed"),
                name="report_unique_content_per_project",
            ),
        ]
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.project.key} report #{self.pk} ({self.filename})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


class ReportScope(models.Model):
    """One analysis a scan report speaks for: its tool, SARIF category and branch.

    Findings of a scope are closed only by a later report of the same scope.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="scopes")
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    tool = models.CharField(max_length=200)
    category = models.CharField(max_length=200, blank=True)
    branch = models.CharField(max_length=200, blank=True)
    order_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["project", "tool", "category", "branch", "order_at"])]

    def __str__(self) -> str:
        return f"{self.tool}/{self.category}@{self.branch}"


class Finding(models.Model):
    # Report pointers below carry no index and no database constraint: the scan merge rewrites
    # them for every finding a report sees, and an index or a deferred FK check on each would
    # multiply the cost of every import (see docs/architecture.md, "Ingestion speed").
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    number = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=80)
    tool = models.CharField(max_length=200)
    category = models.CharField(max_length=200, blank=True)
    branch = models.CharField(max_length=200, blank=True)
    rule_id = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500)
    message = models.TextField(blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    cwe = models.CharField(max_length=20, blank=True)
    path = models.CharField(max_length=1000, blank=True)
    start_line = models.PositiveIntegerField(null=True, blank=True)
    end_line = models.PositiveIntegerField(null=True, blank=True)
    snippet = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField()
    first_seen_report = models.ForeignKey(
        Report,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    last_seen_report = models.ForeignKey(
        Report,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    fixed_in_report = models.ForeignKey(
        Report,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    first_seen_commit = models.CharField(max_length=40, blank=True)
    last_seen_commit = models.CharField(max_length=40, blank=True)
    fixed_in_commit = models.CharField(max_length=40, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    fixed_at = models.DateTimeField(null=True, blank=True)
    sla_due = models.DateField(null=True, blank=True)
    # Planning, set by hand on the board and the sprint page. Their indexes are partial (only
    # rows that are set) and they carry no database FK check (PostgreSQL queues one per inserted
    # row even when NULL), so the scan merge, which inserts findings without them, pays nothing;
    # Django's collector still clears them when a user, sprint or phase is deleted.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_findings",
        db_index=False,
        db_constraint=False,
    )
    sprint = models.ForeignKey(
        "Sprint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    phase = models.ForeignKey(
        "Phase",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_findings",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["severity", "-first_seen_at", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "fingerprint"], name="finding_fingerprint"),
            models.UniqueConstraint(fields=["project", "number"], name="finding_number"),
        ]
        indexes = [
            models.Index(fields=["project", "status", "severity"]),
            # The board's order: worst first, newest first.
            models.Index(fields=["project", "severity", "-number"], name="finding_board_order"),
            models.Index(fields=["project", "tool", "category", "branch", "status"]),
            # A board column: one status, worst first, newest first (first N along the index).
            models.Index(
                fields=["project", "status", "severity", "-number"], name="finding_column_order"
            ),
            # The board's path filter is a prefix ("src/api/"): a pattern-ops btree serves it.
            models.Index(
                fields=["project", "path"],
                name="finding_path",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["assignee"], condition=Q(assignee__isnull=False), name="finding_assignee"
            ),
            models.Index(
                fields=["sprint", "severity"],
                condition=Q(sprint__isnull=False),
                name="finding_sprint",
            ),
            models.Index(
                fields=["phase", "severity"], condition=Q(phase__isnull=False), name="finding_phase"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"

    @property
    def severity_name(self) -> str:
        return Severity(self.severity).label


class Sighting(models.Model):
    """A finding as one report saw it: where it was at that commit."""

    # Written only by the scan merge, which joins existing rows; the composite indexes below
    # cover both lookups, so the single-column FK indexes and checks are left out.
    report = models.ForeignKey(
        Report,
        on_delete=models.CASCADE,
        related_name="sightings",
        db_index=False,
        db_constraint=False,
    )
    finding = models.ForeignKey(
        Finding,
        on_delete=models.CASCADE,
        related_name="sightings",
        db_index=False,
        db_constraint=False,
    )
    path = models.CharField(max_length=1000, blank=True)
    start_line = models.PositiveIntegerField(null=True, blank=True)
    end_line = models.PositiveIntegerField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)

    class Meta:
        # One index serves both "where was this finding seen" and "did this report see it".
        constraints = [
            models.UniqueConstraint(fields=["finding", "report"], name="sighting_once_per_report"),
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} in report {self.report_id}"


class StatusCount(models.Model):
    """How many of a project's findings have each severity and status.

    A summary the services keep (recomputed after each import, moved by each hand-made
    transition) so that boards and overviews never count millions of rows per request.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="status_counts", db_index=False
    )
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    n = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "severity", "status"], name="status_count_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.severity}/{self.status}: {self.n}"


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes; the database triggers refuse everything else."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")


class Event(models.Model):
    """The audit log. Rows are written once and never changed or deleted."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    finding = models.ForeignKey(
        Finding,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    report = models.ForeignKey(
        Report,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=40)
    before = models.CharField(max_length=200, blank=True)
    after = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["finding", "created_at"]),
            models.Index(fields=["project", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.before}->{self.after}"

    def save(self, *args, **kwargs) -> None:  # noqa: DJ012
        if self.pk is not None:
            raise AppendOnlyError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("events are append-only")


# --- Remediation documents: what they say, and the planning and health they declare --------


class Document(models.Model):
    """One imported version of a remediation document: its facts and its repaired text.

    ``identity`` says which versions are "the same document" (see docs/documents.md): a
    revised version shares it with the earlier ones, and its claims update theirs.
    """

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="document")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    identity = models.CharField(max_length=300)
    title = models.CharField(max_length=500, blank=True)
    date = models.DateField(null=True, blank=True)
    date_raw = models.CharField(max_length=100, blank=True)
    author = models.CharField(max_length=300, blank=True)
    repository = models.CharField(max_length=1000, blank=True)
    status_line = models.TextField(blank=True)
    commits = models.JSONField(default=list, blank=True)
    headline_claims = models.JSONField(default=list, blank=True)
    facts = models.JSONField(default=list, blank=True)
    encoding_repair = models.CharField(max_length=20, blank=True)
    text = models.TextField(
        help_text="The decoded text, mojibake repaired; line numbers refer to it."
    )
    unparsed = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "identity"])]

    def __str__(self) -> str:
        return self.title or self.report.filename


class Claim(models.Model):
    """What one document says about one finding, as of the newest version that says it."""

    class Status(models.TextChoices):
        FIXED = "fixed", "Fixed"
        PARTIALLY_FIXED = "partially_fixed", "Partially fixed"
        IDENTIFIED = "identified", "Identified"
        RECOMMENDED = "recommended", "Recommended"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="claims")
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="claims", help_text="Newest version."
    )
    first_report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="+", help_text="First version."
    )
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="claims")
    document_identity = models.CharField(max_length=300)
    claim_key = models.CharField(
        max_length=300, help_text="The claim within its document: normalised title."
    )
    key = models.CharField(max_length=20, help_text="The extractor's key in this version (F3).")
    ref = models.CharField(max_length=50, blank=True, help_text="The document's own label.")
    title = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=Status.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, null=True, blank=True)
    severity_raw = models.CharField(max_length=200, blank=True)
    files = models.JSONField(default=list, blank=True)
    commits = models.JSONField(default=list, blank=True)
    before = models.JSONField(default=list, blank=True)
    after = models.JSONField(default=list, blank=True)
    problem = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    fix = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)
    section = models.JSONField(default=list, blank=True)
    line = models.PositiveIntegerField(default=0)
    dropped = models.BooleanField(
        default=False, help_text="A newer version of the document no longer says it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["report_id", "line", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "document_identity", "claim_key"], name="claim_once_per_document"
            ),
        ]
        indexes = [models.Index(fields=["report", "line"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def severity_name(self) -> str:
        return Severity(self.severity).label if self.severity else ""

    @property
    def file_lines(self) -> list[tuple[str, str]]:
        """Each cited file with its line ranges as a reader writes them ("66, 115-125")."""
        return [
            (
                ref.get("path") or "(no file named)",
                ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ref.get("lines") or []),
            )
            for ref in self.files
        ]

    @property
    def code_pairs(self) -> list[tuple[str, str]]:
        """BEFORE and AFTER blocks side by side, in the order the document gives them."""
        count = max(len(self.before), len(self.after))
        return [
            (
                self.before[i] if i < len(self.before) else "",
                self.after[i] if i < len(self.after) else "",
            )
            for i in range(count)
        ]


class FindingLink(models.Model):
    """A claim matched to a finding that existed before it, with the score shown to users."""

    class State(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        CONFIRMED = "confirmed", "Confirmed"
        UNDONE = "undone", "Undone"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="links")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="links")
    score = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=500)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SUGGESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "finding"], name="link_once_per_pair"),
        ]

    def __str__(self) -> str:
        return f"claim {self.claim_id} -> finding {self.finding_id} ({self.score}, {self.state})"


class Phase(models.Model):
    """A roadmap phase, sprint, next-steps list or checklist a document declares."""

    class Kind(models.TextChoices):
        PHASE = "phase", "Phase"
        SPRINT = "sprint", "Sprint"
        NEXT_STEPS = "next_steps", "Next steps"
        CHECKLIST = "checklist", "Checklist"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=300)
    window = models.CharField(max_length=100, blank=True)
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PHASE)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="phases")
    document_identity = models.CharField(max_length=300)
    phase_key = models.CharField(max_length=300, help_text="Normalised name within its document.")
    section = models.JSONField(default=list, blank=True)
    line = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "document_identity", "phase_key"], name="phase_once_per_document"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoadmapItem(models.Model):
    """One planned or checked item of a phase; ``done`` is None when the document is silent."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="items")
    text = models.TextField()
    item_key = models.CharField(max_length=300, help_text="Normalised text within its phase.")
    done = models.BooleanField(null=True, blank=True)
    details = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=0)
    line = models.PositiveIntegerField(default=0)
    findings = models.ManyToManyField(Finding, blank=True, related_name="roadmap_items")

    class Meta:
        ordering = ["phase", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["phase", "item_key"], name="item_once_per_phase"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class HealthArea(models.Model):
    """A part of the system whose health documents declare ("Server Performance")."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="health_areas")
    name = models.CharField(max_length=200)
    area_key = models.CharField(max_length=200, help_text="Normalised name.")

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "area_key"], name="health_area_once"),
        ]

    def __str__(self) -> str:
        return self.name


class HealthReading(models.Model):
    """What one document declares about an area, dated by the document; one per document."""

    area = models.ForeignKey(HealthArea, on_delete=models.CASCADE, related_name="readings")
    status = models.CharField(max_length=20)
    raw = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)
    date = models.DateField(null=True, blank=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="health_readings")
    document_identity = models.CharField(max_length=300)
    line = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["area", "-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "document_identity"], name="reading_once_per_document"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.status}"

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ")


# --- Accounts: per-project roles and reviews ------------------------------------------------


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


# --- Planning made in auditdash: sprints -------------------------------------------------------


class Sprint(models.Model):
    """A time box of a project's work; findings join it through ``Finding.sprint``.

    ``capacity`` is how many findings the team means to close in it (a count, not points).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sprints")
    name = models.CharField(max_length=200)
    start = models.DateField()
    end = models.DateField()
    capacity = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="sprint_name_once"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="sprint_ends"),
        ]

    def __str__(self) -> str:
        return self.name


# --- Git evidence: the linked repository, its commits, and checks of claimed fixes ----------


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
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    linked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.project_id}: {self.url or self.path} ({self.branch})"

    @property
    def head_short(self) -> str:
        return self.head_sha[:12]


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
        return list(cls.values).index(level)


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
