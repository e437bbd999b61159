"""System health: a project's health panels, declared status beside what its findings imply."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from findings import access
from findings.access import Role
from findings.selectors.health import health_panels


@login_required
def health(request: HttpRequest, key: str) -> HttpResponse:
    """A project's system health panels: declared vs implied, with the trend."""
    project = access.require(request, key, Role.VIEWER)
    panels = health_panels(projects=[project.pk]).get(project.pk, [])
    return render(request, "findings/health.html", {"project": project, "panels": panels})
