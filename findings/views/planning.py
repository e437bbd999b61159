"""Planning pages: the roadmap, and sprint planning (backlog, sprints, burn-down, inline plans,
sprints that documents propose).

Reading needs viewer; creating or adopting sprints and planning findings needs the ``plan``
role (developer). Inline plans are htmx posts that return the finding's updated row and tell
the sprint panel to refresh (``finding-changed``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from findings import access, services
from findings.access import Role
from findings.forms import AdoptForm, PlanForm, SprintForm
from findings.models import Finding, Project
from findings.selectors import planning as selectors
from findings.selectors import roadmap as roadmaps
from findings.views.board import board_filters, board_query
from findings.views.helpers import HtmxHttpRequest, finding_or_404, form_errors, mutation_response


@login_required
@require_GET
def roadmap(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Each document's phases in order, with windows, progress, lateness and a timeline."""
    project = access.require(request, key, Role.VIEWER)
    return render(
        request,
        "findings/roadmap.html",
        {"project": project, "roadmap": roadmaps.roadmap(project=project)},
    )


def _sprint_context(request: HtmxHttpRequest, project: Project) -> dict:
    raw = request.GET.get("sprint_id")
    if raw:
        sprint = selectors.project_sprint(project=project, pk=raw)
    else:
        sprint = selectors.current_sprint(project=project)
    return {
        "project": project,
        "sprint": sprint,
        "summary": selectors.sprint_summary(sprint=sprint) if sprint else None,
        "sprint_rows": selectors.sprint_findings(sprint=sprint) if sprint else [],
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def sprints(request: HtmxHttpRequest, key: str) -> HttpResponse:
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
            messages.error(request, form_errors(form))
    context = _sprint_context(request, project)
    if request.htmx and request.GET.get("panel") == "sprint":
        return render(request, "findings/sprints.html#sprint-panel", context)
    filter_form, filters = board_filters(request.GET)
    context.update(
        form=form,
        filter_form=filter_form,
        may_plan=may_plan,
        query=board_query(request.GET),
        backlog=selectors.backlog(project=project, filters=filters),
        offers=roadmaps.sprint_offers(project=project),
        **selectors.planning_choices(project=project),
    )
    if request.htmx:
        return render(request, "findings/sprints.html#backlog", context)
    return render(request, "findings/sprints.html", context)


@login_required
@require_POST
def sprint_adopt(request: HtmxHttpRequest, key: str, pk: int) -> HttpResponse:
    """Adopt a document's sprint or next-steps section as a sprint; again, show the first."""
    project = access.require(request, key, access.ACTION_ROLES["plan"])
    phase = roadmaps.offered_phase(project=project, pk=pk)
    if phase is None:
        raise Http404(f"{project.key} has no document section {pk} to adopt as a sprint.")
    form = AdoptForm(request.POST)
    target = reverse("findings:sprints", args=[project.key])
    if not form.is_valid():
        messages.error(request, f"Could not adopt {phase.name!r}: {form_errors(form)}")
        return redirect(target)
    try:
        adoption = services.sprint_adopt(phase=phase, actor=request.user, **form.cleaned_data)
    except services.PlanningError as error:
        messages.error(request, str(error))
        return redirect(target)
    sprint = adoption.sprint
    if adoption.created:
        messages.success(
            request,
            f"Adopted {phase.name!r} as the sprint {sprint.name!r}: "
            f"{adoption.planned} finding{'s' if adoption.planned != 1 else ''} planned into it.",
        )
    else:
        messages.info(request, f"{phase.name!r} was already adopted as the sprint {sprint.name!r}.")
    return redirect(f"{target}?sprint_id={sprint.pk}")


@login_required
@require_POST
@vary_on_headers("HX-Request")
def finding_plan(request: HtmxHttpRequest, key: str, number: int) -> HttpResponse:
    """Set one finding's sprint, phase and assignee from its inline form."""
    project = access.require(request, key, access.ACTION_ROLES["plan"])
    finding = finding_or_404(project, number)
    form = PlanForm(request.POST)
    error = form_errors(form) if not form.is_valid() else ""
    if not error:
        finding, error = _plan(request, project, finding, form.cleaned_data)
    text = error or f"{project.key}-{number} planned."

    def context() -> dict:
        return {
            "project": project,
            "row": selectors.row_for(finding=finding),
            "notice": text,
            "notice_failed": bool(error),
            "may_plan": True,
            **selectors.planning_choices(project=project),
        }

    return mutation_response(
        request,
        text=text,
        failed=bool(error),
        partial="findings/sprints.html#plan-row",
        context=context,
        target=reverse("findings:sprints", args=[project.key]),
    )


def _plan(
    request: HtmxHttpRequest, project: Project, finding: Finding, data: dict
) -> tuple[Finding, str]:
    """Apply a valid plan form: the finding as planned (or unchanged) and an error or ""."""
    sprint = selectors.project_sprint(project=project, pk=data["sprint"])
    phase = selectors.project_phase(project=project, pk=data["phase"])
    if data["sprint"] and sprint is None:
        return finding, f"{project.key} has no such sprint."
    if data["phase"] and phase is None:
        return finding, f"{project.key} has no such phase."
    try:
        planned = services.finding_plan(
            finding=finding,
            actor=request.user,
            sprint=sprint,
            phase=phase,
            assignee_username=data["assignee"].strip() or None,
        )
    except services.PlanningError as failure:
        return finding, str(failure)
    return planned, ""
