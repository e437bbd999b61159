"""Planning pages: the roadmap, and sprint planning (backlog, sprints, burn-down, inline plans).

Reading needs viewer; creating sprints and planning findings needs the ``plan`` role
(developer). Inline plans are htmx posts that return the finding's updated row and tell the
sprint panel to refresh (``finding-changed``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from findings import access, services
from findings import dashboard_plan_selectors as planning
from findings.access import Role
from findings.dashboard_views import _board_filters, _query
from findings.forms import PlanForm, SprintForm
from findings.models import Finding, Phase, Project, Sprint


@login_required
@require_GET
def roadmap(request: HttpRequest, key: str) -> HttpResponse:
    """Phases in order with their window, items, progress from linked findings and lateness."""
    project = access.require(request, key, Role.VIEWER)
    return render(
        request,
        "findings/roadmap.html",
        {"project": project, "phases": planning.roadmap(project=project)},
    )


def _selected_sprint(project: Project, raw: str | None) -> Sprint | None:
    if raw:
        try:
            return (
                Sprint.objects.filter(project=project, pk=int(raw))
                .select_related("project")
                .first()
            )
        except ValueError:
            return None
    return planning.current_sprint(project=project)


def _sprint_context(request: HttpRequest, project: Project) -> dict:
    sprint = _selected_sprint(project, request.GET.get("sprint_id"))
    return {
        "project": project,
        "sprint": sprint,
        "summary": planning.sprint_summary(sprint=sprint) if sprint else None,
        "sprint_rows": planning.sprint_findings(sprint=sprint) if sprint else [],
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def sprints(request: HttpRequest, key: str) -> HttpResponse:
    """Sprint planning: the backlog, the selected sprint's findings and burn-down; new sprints."""
    project = access.require(request, key, Role.VIEWER)
    may_plan = access.can(request.user, project, access.ACTION_ROLES["plan"])
    form = SprintForm(request.POST or None)
    if request.method == "POST":
        access.require(request, project, access.ACTION_ROLES["plan"])
        if form.is_valid():
            try:
                sprint = services.sprint_create(
                    project=project, actor=request.user, **form.cleaned_data
                )
            except services.PlanningError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"Created the sprint {sprint.name!r}.")
                return redirect(
                    reverse("findings:sprints", args=[project.key]) + f"?sprint_id={sprint.pk}"
                )
        else:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    context = _sprint_context(request, project)
    if request.htmx and request.GET.get("panel") == "sprint":
        return render(request, "findings/sprints.html#sprint-panel", context)
    filter_form, filters = _board_filters(project, request.GET)
    context.update(
        form=form,
        filter_form=filter_form,
        may_plan=may_plan,
        query=_query(request.GET),
        backlog=planning.backlog(project=project, filters=filters),
        **planning.planning_choices(project=project),
    )
    if request.htmx:
        return render(request, "findings/sprints.html#backlog", context)
    return render(request, "findings/sprints.html", context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def finding_plan(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """Set one finding's sprint, phase and assignee from its inline form."""
    project = access.require(request, key, access.ACTION_ROLES["plan"])
    finding = Finding.objects.filter(project=project, number=number).first()
    if finding is None:
        raise Http404("No such finding.")
    form = PlanForm(request.POST)
    error = ""
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
    else:
        data = form.cleaned_data
        sprint = Sprint.objects.filter(project=project, pk=data["sprint"]).first()
        phase = Phase.objects.filter(project=project, pk=data["phase"]).first()
        if data["sprint"] and sprint is None:
            error = f"{project.key} has no such sprint."
        elif data["phase"] and phase is None:
            error = f"{project.key} has no such phase."
        else:
            try:
                finding = services.finding_plan(
                    finding=finding,
                    actor=request.user,
                    sprint=sprint,
                    phase=phase,
                    assignee_username=data["assignee"].strip() or None,
                )
            except services.PlanningError as failure:
                error = str(failure)
    text = error or f"{project.key}-{number} planned."
    if request.htmx:
        row = planning.row_for(finding=finding)
        response = render(
            request,
            "findings/sprints.html#plan-row",
            {
                "project": project,
                "row": row,
                "notice": text,
                "notice_failed": bool(error),
                "may_plan": True,
                **planning.planning_choices(project=project),
            },
        )
        if not error:
            trigger_client_event(response, "finding-changed")
        return response
    (messages.error if error else messages.success)(request, text)
    return redirect("findings:sprints", project.key)
