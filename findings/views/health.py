"""System health: a project's health panels, declared status beside what its findings imply."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from findings import access
from findings.access import Role
from findings.selectors.health import health_groups, health_panels
from findings.views.helpers import HtmxHttpRequest


@login_required
def health(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """A project's system health panels: declared vs implied, with the trend, grouped by the
    document that read each area last."""
    project = access.require(request, key, Role.VIEWER)
    panels = health_panels(projects=[project.pk]).get(project.pk, [])
    groups = health_groups(panels, project=project)
    context = {"project": project, "panels": panels, "groups": groups}
    return render(request, "findings/health.html", context)
