"""Pages. Each view checks access, validates with a form, calls a service or selectors, renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from findings import selectors
from findings.forms import FilterForm, UploadForm
from findings.models import Finding, Project, Report
from scanners.pipeline import IngestError, Options, queue_upload


def _project_for_user(request: HttpRequest, key: str) -> Project:
    project = selectors.projects_for_user(request.user).filter(key=key).first()
    if project is None:
        raise Http404("No such project, or you may not see it.")
    return project


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    projects = selectors.projects_for_user(request.user)
    return render(
        request,
        "findings/overview.html",
        {"rows": selectors.project_overview(projects=projects)},
    )


@login_required
@vary_on_headers("HX-Request")
def board(request: HttpRequest, key: str) -> HttpResponse:
    project = _project_for_user(request, key)
    form = FilterForm(request.GET or None)
    filters = (
        selectors.FindingFilter(**form.cleaned_data)
        if form.is_valid()
        else selectors.FindingFilter()
    )
    try:
        page_number = int(request.GET.get("page", "1"))
    except ValueError:
        page_number = 1
    page = selectors.board_findings(project=project, filters=filters, page=page_number)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "project": project,
        "form": form,
        "page": page,
        "query": query.urlencode(),
    }
    if request.htmx:
        return render(request, "findings/board.html#finding-list", context)
    context["matrix"] = selectors.status_matrix(project=project)
    context["tools"] = selectors.project_tools(project=project)
    return render(request, "findings/board.html", context)


@login_required
def finding_detail(request: HttpRequest, key: str, number: int) -> HttpResponse:
    project = _project_for_user(request, key)
    finding = Finding.objects.filter(project=project, number=number).first()
    if finding is None:
        raise Http404("No such finding.")
    return render(
        request,
        "findings/finding_detail.html",
        {"project": project, "finding": finding, **selectors.finding_timeline(finding=finding)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        options = Options(
            commit=data["commit"], branch=data["branch"], root=data["root"], format=data["format"]
        )
        for upload in data["files"]:
            try:
                report = queue_upload(
                    project_key=data["project"], upload=upload, options=options, user=request.user
                )
            except IngestError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"{report.filename}: queued as report #{report.pk}")
        return redirect("findings:imports")
    projects = selectors.projects_for_user(request.user)
    return render(
        request,
        "findings/imports.html",
        {"form": form, "reports": selectors.recent_reports(projects=projects)},
    )


@login_required
@vary_on_headers("HX-Request")
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    projects = selectors.projects_for_user(request.user)
    report = Report.objects.filter(pk=pk, project__in=projects).select_related("project").first()
    if report is None:
        raise Http404("No such report.")
    if request.htmx:
        response = render(request, "findings/imports.html#report-row", {"report": report})
        if report.is_finished:
            # 286 tells htmx to stop polling; the body still replaces the row.
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return stop
        return response
    return render(request, "findings/report_detail.html", {"report": report})
