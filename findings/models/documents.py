"""Remediation documents: what they claim, and the planning and health they declare."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from findings.models.core import Finding, Project, Report, Severity


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
        """Each cited file with its line ranges as a reader writes them ("66, 115-125, ~406")."""
        return [
            (
                ref.get("path") or "(no file named)",
                ", ".join(
                    ("~" if [a, b] in (ref.get("approximate") or []) else "")
                    + (str(a) if a == b else f"{a}-{b}")
                    for a, b in ref.get("lines") or []
                ),
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
    """What one document declares about an area, dated by the document: one per document and
    moment (before its fixes, now, projected)."""

    area = models.ForeignKey(HealthArea, on_delete=models.CASCADE, related_name="readings")
    status = models.CharField(max_length=20)
    raw = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)
    score = models.CharField(
        max_length=40, blank=True, help_text='The score the reading gives, as written ("35/100").'
    )
    date = models.DateField(null=True, blank=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="health_readings")
    document_identity = models.CharField(max_length=300)
    line = models.PositiveIntegerField(default=0)
    when = models.CharField(
        max_length=10,
        choices=[("before", "before"), ("current", "now"), ("projected", "projected")],
        default="current",
        db_default="current",
        help_text="When the document says the state holds: before its fixes, now, or projected.",
    )

    class Meta:
        ordering = ["area", "-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "document_identity", "when"], name="reading_once_per_moment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.status}"

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ")
