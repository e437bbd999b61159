"""Projects, reports, findings, their sightings, the status summary and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Left

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
        """The severity labelled ``name`` ("high"); KeyError for an unknown name."""
        return {member.label: member for member in cls}[name]


class ScanChange(models.TextChoices):
    """How the newest scan that spoke of a finding saw it move or go, beyond its status: a
    finding found again under another path, a flagged line edited but still reported, and the
    three ways a scan can stop reporting one (see findings/services/scan/moves.py)."""

    MOVED = "moved", "moved"
    EDITED = "edited", "still present (changed)"
    REMOVED = "removed", "fixed (code removed)"
    CHANGED = "changed", "fixed (code changed)"
    UNSCANNED = "unscanned", "gone (no longer scanned)"


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
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The import's last sign of life: while queued, when its task was last sent; "
        "while running, written every few seconds by the worker. The sweeper ends a running "
        "report that stays silent, and sends again a queued one that no task will run.",
    )

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
        indexes = [
            models.Index(fields=["project", "-created_at"]),
            # The sweeper's look at the few unfinished reports.
            models.Index(
                fields=["state", "heartbeat_at"],
                condition=Q(state__in=["queued", "running"]),
                name="report_unfinished",
            ),
        ]

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
    # The project and report pointers carry no database FK check: PostgreSQL queues one per
    # inserted or rewritten row, and the scan merge writes every finding a report sees (a
    # third of an import's time at 100,000 findings; docs/architecture.md, "Ingestion
    # speed"). The merge only writes findings of the project row it holds locked, and
    # Django's collector does the cascades.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="findings",
        db_index=False,
        db_constraint=False,
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
    # The fingerprint without the path or the ordinal (scanners.normalise.content_key): what a
    # moved finding still shares with itself. Empty for findings imported before it existed.
    content_key = models.CharField(max_length=32, blank=True, default="", db_default="")
    scan_change = models.CharField(
        max_length=10, choices=ScanChange.choices, blank=True, default="", db_default=""
    )
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
            # Project first: a project's findings sit together, so an import's inserts land
            # in the project's own pages, not all over the index (see ScanMerge._absorb).
            models.UniqueConstraint(fields=["project", "fingerprint"], name="finding_fingerprint"),
            models.UniqueConstraint(fields=["project", "number"], name="finding_number"),
        ]
        # Every index here is paid for on each finding an import inserts: each one has a
        # page or a query that needs it (docs/architecture.md, "Ingestion speed").
        indexes = [
            # A board column: one status, worst first, newest first (first N along the index).
            # Lists across statuses read each status along it and merge (API finding pages).
            models.Index(
                fields=["project", "status", "severity", "-number"], name="finding_column_order"
            ),
            # A board column narrowed by tool (and severity): its first cards along the index,
            # and its capped count from the index alone (path included for the path filter).
            models.Index(
                fields=["project", "status", "tool", "severity", "-number"],
                include=["path"],
                name="finding_filter",
            ),
            # The board's path filter is a prefix ("src/api/"): a pattern-ops btree serves it.
            models.Index(
                fields=["project", "path"],
                name="finding_path",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            # The text filter reads findings by the rule ids it found in RuleTitle.
            models.Index(fields=["project", "rule_id"], name="finding_rule"),
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
            # The few findings a scan saw moved or edited: cleared when seen again in place.
            models.Index(
                fields=["project"],
                condition=Q(scan_change__in=["moved", "edited"]),
                name="finding_moved",
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


class RuleTitle(models.Model):
    """One distinct (tool, rule id, title) among a project's findings: a few hundred rows
    where the project has hundreds of thousands of findings.

    Written by the scan merge for the findings it inserts, and by database triggers for every
    other insert and for a changed title (migration ``0042_rule_titles``). The board's text
    filter finds the words here and then reads findings by rule id (one btree index, cheap to
    keep up on import); the tool menu lists tools from here. A pair whose last finding moved
    on stays listed and matches nothing: the filter always checks the findings' own values.
    No unique constraint: three texts of up to 1,000 characters would not fit a btree entry;
    the writers skip pairs already present, and a rare duplicate changes no result.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="rule_titles", db_index=False
    )
    tool = models.CharField(max_length=200)
    rule_id = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500)

    class Meta:
        indexes = [
            # The writers' "already recorded?" probe: a rule can have thousands of titles
            # (tools that title a finding by its message), so the title is part of the key,
            # cut to fit a btree entry.
            models.Index(F("project"), F("rule_id"), Left("title", 200), name="rule_title_lookup"),
            # The board's tool menu, one probe per tool.
            models.Index(fields=["project", "tool"], name="rule_title_tool"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.tool} {self.rule_id}: {self.title}"


class Rule(models.Model):
    """What a scanner's report says of one of its rules (a SARIF log's ``tool.driver.rules``):
    name, help link, tags, precision, security severity, CWEs.

    One row per project, tool and rule id, from the last imported report that described the
    rule, instead of a copy on each of the rule's findings: a SARIF log repeats nothing, and
    neither does the database. The finding page shows it beside the finding's own details.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="rules", db_index=False
    )
    tool = models.CharField(max_length=200)
    rule_id = models.CharField(max_length=300)
    details = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "tool", "rule_id"], name="rule_once"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.tool} {self.rule_id}"


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
