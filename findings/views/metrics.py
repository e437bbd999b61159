"""The overview of every project a user may see, and a project's metrics as charts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from findings import access, lifecycle
from findings.access import Role
from findings.models import Severity
from findings.rules import charts
from findings.selectors import fixes
from findings.selectors import metrics as selectors
from findings.selectors.health import health_glance, health_panels
from findings.views.helpers import HtmxHttpRequest


@login_required
def overview(request: HtmxHttpRequest) -> HttpResponse:
    """Every project the user may see: open by severity, the week's changes, SLA, health."""
    visible = access.projects_for(request.user)
    projects = list(visible)
    ids = [project.pk for project in projects]
    summary = fixes.fix_summary(projects=ids)
    rows = selectors.project_overview(projects=projects, summary=summary)
    changes = selectors.recent_changes(projects=ids, summary=summary)
    breaches = selectors.sla_breaches(projects=visible)
    panels = health_panels(projects=visible)
    for row in rows:
        pk = row["project"].pk
        row["changes"] = changes[pk]
        row["fixes_now"] = [(w.key, row["fixes"].get(w.key, 0)) for w in lifecycle.FIX_WORDS]
        row["fixes_recent"] = [(w.key, row["changes"].get(w.key, 0)) for w in lifecycle.FIX_WORDS]
        row["breaches"] = breaches.get(pk, {})
        row["breach_total"] = sum(row["breaches"].values())
        row["glance"] = health_glance(panels[pk]) if panels.get(pk) else None
    return render(
        request,
        "findings/overview.html",
        {
            "rows": rows,
            "words": lifecycle.FIX_WORDS,
            "sla": {Severity(k).label: v for k, v in selectors.sla_days().items()},
        },
    )


@login_required
@require_GET
def metrics(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Charts of the project's remediation over time, each with its numbers as a table."""
    project = access.require(request, key, Role.VIEWER)
    data = selectors.project_metrics(project=project)
    past_sla = [(row["severity"], sum(row["buckets"][1:])) for row in data["aging"]]
    return render(
        request,
        "findings/metrics.html",
        {
            "project": project,
            "data": data,
            "aging_labels": selectors.AGING_BUCKETS,
            "open_chart": charts.line_chart(data["open_series"], data["labels"]),
            "fixed_chart": charts.bar_chart(data["fixed_per_week"]),
            "mttf_chart": charts.bar_chart(data["mttf"], patterned=True, unit=" d"),
            "sla_chart": charts.bar_chart(past_sla, patterned=True),
            "evidence_chart": charts.bar_chart(data["evidence"], patterned=True),
            "words": lifecycle.FIX_WORDS,
            "fix_rows": _fix_rows(data["fixes"]),
            "recent_days": fixes.RECENT_DAYS,
        },
    )


def _fix_rows(summary: dict[str, dict[str, int]]) -> list[dict]:
    """The metrics page's table of the words for "fixed": meaning, count now and recently."""
    return [
        {
            "word": word,
            "now": summary["now"].get(word.key, 0),
            "recent": summary["recent"].get(word.key, 0),
        }
        for word in lifecycle.FIX_WORDS
    ]
