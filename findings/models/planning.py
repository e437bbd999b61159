"""Planning made in auditdash: sprints."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from findings.models.core import Project
from findings.models.documents import Phase


class Sprint(models.Model):
    """A time box of a project's work; findings join it through ``Finding.sprint``.

    ``capacity`` is how many findings the team means to close in it (a count, not points).
    ``phase`` is the document's sprint or next-steps section it was adopted from, if any: one
    sprint per section, so adopting it twice finds the first.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sprints")
    name = models.CharField(max_length=200)
    start = models.DateField()
    end = models.DateField()
    capacity = models.PositiveIntegerField(default=0)
    phase = models.OneToOneField(
        Phase,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="adopted_sprint",
        help_text="The document section this sprint was adopted from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="sprint_name_once"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="sprint_ends"),
        ]

    def __str__(self) -> str:
        return self.name
