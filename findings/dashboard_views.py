"""Dashboard pages: overview, status board, system health, review queue, metrics, reports out.

Each view checks access (``findings.access``), validates with a form, calls selectors or one
service and renders. htmx requests get the partial named after the element they replace.
Planning pages (roadmap, sprints) live in ``findings.dashboard_plan_views``.
"""

from __future__ import annotations

import csv
import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from findings import access, dashboard_metrics, lifecycle, selectors, services
from findings import dashboard_charts as charts
from findings import dashboard_report as report
from findings import dashboard_review as review
from findings import dashboard_selectors as dash
from findings.access import Role
from findings.forms import BoardFilterForm, ReviewForm
from findings.models import Finding, Project, Sprint

MOVE_LABELS = {
    lifecycle.Event.CLAIM: "Claim fixed",
    lifecycle.Event.VERIFY: "Mark verified",
    lifecycle.Event.REOPEN: "Reopen",
}
"""Board buttons say what they do; the lifecycle's labels say what happened."""

BOARD_KEYS = ("severity", "tool", "path", "q", "phase", "sprint", "area", "triaged")


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Every project the user may see: open by severity, the week's changes, SLA, health."""
    projects = access.projects_for(request.user)
    rows = selectors.project_overview(projects=projects)
    changes = dash.recent_changes(projects=projects)
    breaches = dash.sla_breaches(projects=projects)
    panels = dash.health_panels(projects=projects)
    for row in rows:
        pk = row["project"].pk
        row["changes"] = changes.get(pk, {"new": 0, "fixed": 0, "regressed": 0, "signed_off": 0})
        row["breaches"] = breaches.get(pk, {})
        row["breach_total"] = sum(row["breaches"].values())
        row["panels"] = panels.get(pk, [])
    return render(
        request,
        "findings/overview.html",
        {"rows": rows, "sla": {dash.Severity(k).label: v for k, v in dash.sla_days().items()}},
    )


def _board_filters(project: Project, data: QueryDict) -> tuple[BoardFilterForm, dash.BoardFilter]:
    form = BoardFilterForm(data or None)
    if not form.is_valid():
        return form, dash.BoardFilter()
    clean = form.cleaned_data
    return form, dash.BoardFilter(
        severity=clean["severity"],
        tool=clean["tool"],
        path=clean["path"].strip(),
        q=clean["q"].strip(),
        phase=clean["phase"],
        sprint=clean["sprint"],
        area=clean["area"],
    )


def _query(data: QueryDict) -> str:
    """The board's filters as a query string, for links that keep them."""
    kept = QueryDict(mutable=True)
    for key in BOARD_KEYS:
        if data.get(key):
            kept[key] = data[key]
    return kept.urlencode()


def _columns_context(request: HttpRequest, project: Project, data: QueryDict) -> dict:
    form, filters = _board_filters(project, data)
    triaged = bool(form.is_valid() and form.cleaned_data["triaged"])
    role = access.role_for(request.user, project)
    columns = dash.board_columns(project=project, filters=filters, triaged=triaged)
    for column in columns:
        column.moves = _moves(role, column.status)
    return {
        "project": project,
        "form": form,
        "columns": columns,
        "total": sum(column.count for column in columns),
        "total_capped": any(column.capped for column in columns),
        "query": _query(data),
        "triaged": triaged,
        "may_move": bool(role and role >= Role.DEVELOPER),
    }


def _moves(role: Role | None, status: str) -> list[dict]:
    """The buttons a card in ``status`` offers this role: event, label and target column."""
    events = access.events_for(role, lifecycle.allowed_events(status))
    moves = []
    for event in events:
        if event in lifecycle.REQUIRES_REASON:
            continue  # triage needs a written reason: the finding page asks for it
        target = lifecycle.next_state(status, event)
        if target != status:
            moves.append(
                {
                    "event": event,
                    "label": MOVE_LABELS.get(event, lifecycle.Event(event).label),
                    "to": target.value,
                }
            )
    return moves


@login_required
@require_GET
@vary_on_headers("HX-Request")
def board(request: HttpRequest, key: str) -> HttpResponse:
    """The status board: one column per lifecycle state, filters in the URL."""
    project = access.require(request, key, Role.VIEWER)
    context = _columns_context(request, project, request.GET)
    if request.htmx:
        return render(request, "findings/board.html#board-columns", context)
    context.update(dash.board_choices(project=project))
    context["triaged_total"] = dash.triaged_count(project=project)
    context["matrix"] = selectors.status_matrix(project=project)
    context["can_manage"] = access.can(request.user, project, access.ACTION_ROLES["members"])
    return render(request, "findings/board.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def board_more(request: HttpRequest, key: str, status: str) -> HttpResponse:
    """The next cards of one column after the cursor ``after`` (htmx appends them)."""
    project = access.require(request, key, Role.VIEWER)
    try:
        status = lifecycle.Status(status)
    except ValueError:
        raise Http404("No such column.") from None
    _, filters = _board_filters(project, request.GET)
    column = dash.board_column(
        project=project, status=status, filters=filters, after=request.GET.get("after", "")
    )
    column.moves = _moves(access.role_for(request.user, project), status)
    context = {
        "project": project,
        "column": column,
        "query": _query(request.GET),
        "may_move": access.can(request.user, project, Role.DEVELOPER),
    }
    if request.htmx:
        return render(request, "findings/board.html#column-items", context)
    return render(request, "findings/board_column.html", context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def board_move(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """Move a card: a lifecycle event the table allows and the user's role may apply."""
    project = access.require(request, key, Role.VIEWER)
    finding = Finding.objects.filter(project=project, number=number).first()
    if finding is None:
        raise Http404("No such finding.")
    event = request.POST.get("event", "")
    needed = access.minimum_role_for_event(event)
    if needed is not None:
        access.require(request, project, needed)
    role = access.role_for(request.user, project)
    allowed = {move["event"] for move in _moves(role, finding.status)}
    error = ""
    if event not in allowed:
        error = _refusal(finding, event)
    else:
        try:
            finding = services.finding_transition(finding=finding, event=event, actor=request.user)
        except services.TransitionError as failure:
            error = str(failure)
    text = error or f"{project.key}-{number} moved to {finding.get_status_display()}."
    if request.htmx:
        context = _columns_context(request, project, request.POST)
        context.update(notice=text, notice_failed=bool(error))
        response = render(request, "findings/board.html#board-columns", context)
        if not error:
            trigger_client_event(response, "finding-changed")
        return response
    (messages.error if error else messages.success)(request, text)
    query = _query(request.POST)
    return redirect(reverse("findings:board", args=[project.key]) + (f"?{query}" if query else ""))


def _refusal(finding: Finding, event: str) -> str:
    key = f"{finding.project.key}-{finding.number}"
    if event in access.REVIEW_EVENTS:
        return f"{key}: signing off or rejecting a fix is a review; open the review queue."
    if event in lifecycle.REQUIRES_REASON:
        return f"{key}: this needs a written reason; change it on the finding's page."
    status = finding.get_status_display().lower()
    return f"{key} is {status}: it cannot be moved that way (or your role may not)."


@login_required
def health(request: HttpRequest, key: str) -> HttpResponse:
    """A project's system health panels: declared vs implied, with the trend."""
    project = access.require(request, key, Role.VIEWER)
    panels = dash.health_panels(projects=[project.pk]).get(project.pk, [])
    return render(request, "findings/health.html", {"project": project, "panels": panels})


@login_required
@require_GET
def review_queue(request: HttpRequest, key: str) -> HttpResponse:
    """Claimed and verified fixes awaiting sign-off, strongest evidence first."""
    project = access.require(request, key, Role.VIEWER)
    severity = request.GET.get("severity", "")
    if severity not in dash.Severity.labels:
        severity = ""
    context = review.review_queue(project=project, severity=severity)
    context.update(
        project=project,
        severity=severity,
        severities=dash.Severity.labels,
        may_review=access.can(request.user, project, access.ACTION_ROLES["review"]),
        me=request.user.get_username(),
        form=ReviewForm(),
    )
    return render(request, "findings/review_queue.html", context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def review_decide(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """Approve, reject or ask for work on one fix, through ``services.review_record``."""
    project = access.require(request, key, access.ACTION_ROLES["review"])
    finding = (
        Finding.objects.filter(project=project, number=number).select_related("project").first()
    )
    if finding is None:
        raise Http404("No such finding.")
    form = ReviewForm(request.POST)
    error = ""
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
    else:
        try:
            verdict = services.review_record(
                finding=finding,
                reviewer=request.user,
                verdict=form.cleaned_data["verdict"],
                comment=form.cleaned_data["comment"],
            )
        except services.ReviewError as failure:
            error = str(failure)
    key_text = f"{project.key}-{number}"
    text = error or f"{key_text}: {verdict.get_verdict_display().lower()} recorded."
    if request.htmx:
        finding.refresh_from_db()
        response = render(
            request,
            "findings/review_queue.html#review-outcome",
            {
                "project": project,
                "number": number,
                "key": key_text,
                "text": text,
                "failed": bool(error),
                "status": finding.get_status_display(),
            },
        )
        if not error:
            trigger_client_event(response, "finding-changed")
        return response
    (messages.error if error else messages.success)(request, text)
    return redirect("findings:reviews", project.key)


@login_required
@require_GET
def metrics(request: HttpRequest, key: str) -> HttpResponse:
    """Charts of the project's remediation over time, each with its numbers as a table."""
    project = access.require(request, key, Role.VIEWER)
    data = dashboard_metrics.project_metrics(project=project)
    past_sla = [(row["severity"], sum(row["buckets"][1:])) for row in data["aging"]]
    return render(
        request,
        "findings/metrics.html",
        {
            "project": project,
            "data": data,
            "aging_labels": dashboard_metrics.AGING_BUCKETS,
            "open_chart": charts.line_chart(data["open_series"], data["labels"]),
            "fixed_chart": charts.bar_chart(data["fixed_per_week"]),
            "mttf_chart": charts.bar_chart(data["mttf"], patterned=True, unit=" d"),
            "sla_chart": charts.bar_chart(past_sla, patterned=True),
            "evidence_chart": charts.bar_chart(data["evidence"], patterned=True),
        },
    )


class _Echo:
    """A file-like sink for csv.writer that hands each row back to the streaming response."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def status_report(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    """The project's (``?sprint=<id>``: one sprint's) status report as Markdown or CSV."""
    project = access.require(request, key, Role.VIEWER)
    if fmt not in ("md", "csv"):
        raise Http404("Reports come as .md or .csv.")
    sprint = None
    if raw := request.GET.get("sprint", ""):
        if raw.isdigit():
            sprint = Sprint.objects.filter(project=project, pk=int(raw)).first()
        if sprint is None:
            raise Http404("No such sprint.")
    stem = f"{project.key}-status" + (f"-sprint-{sprint.pk}" if sprint else "")
    if fmt == "md":
        response = HttpResponse(
            report.markdown(project=project, sprint=sprint),
            content_type="text/markdown; charset=utf-8",
        )
    else:
        writer = csv.DictWriter(_Echo(), fieldnames=report.CSV_FIELDS)
        rows = (writer.writerow(row) for row in report.fixes(project=project, sprint=sprint))
        header = ",".join(report.CSV_FIELDS) + "\r\n"
        response = StreamingHttpResponse(
            itertools.chain([header], rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response
