"""Imports: uploading reports (by hand; CI uses the API) and following their progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from findings import access, services
from findings.forms import UploadForm
from findings.selectors import imports as selectors
from findings.services.ingest import IngestError, Options
from findings.services.ingest.uploads import queue_upload
from findings.uploads import UploadError, inflate_upload
from findings.views.helpers import HtmxHttpRequest


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        options = Options(
            commit=data["commit"],
            branch=data["branch"],
            root=data["root"],
            format=data["format"],
            only=data["only"],
        )
        refusal = _upload_refusal(request.user, data["project"])
        if refusal:
            # Shown beside the key, with everything typed kept (a browser cannot refill files).
            form.add_error("project", refusal)
            return _imports_page(request, form, status=403)
        for upload in data["files"]:
            try:
                report = queue_upload(
                    project_key=data["project"],
                    upload=inflate_upload(upload),
                    options=options,
                    user=request.user,
                )
            except (IngestError, UploadError) as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"{report.filename}: queued as report #{report.pk}")
        return redirect("findings:imports")
    return _imports_page(request, form, status=400 if form.errors else 200)


def _imports_page(request: HtmxHttpRequest, form: UploadForm, *, status: int) -> HttpResponse:
    projects = access.projects_for(request.user)
    # Without celery beat nothing else would end an import whose worker died.
    services.report_fail_stale(projects=projects)
    return render(
        request,
        "findings/imports.html",
        {"form": form, "reports": selectors.recent_reports(projects=projects)},
        status=status,
    )


@login_required
@vary_on_headers("HX-Request")
def report_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_for(projects=access.projects_for(request.user), pk=pk)
    if report is None:
        raise Http404("No such report.")
    report = services.report_fail_if_stale(report=report)
    if request.htmx:
        response = render(request, "findings/imports.html#report-row", {"report": report})
        if report.is_finished:
            # 286 tells htmx to stop polling; the body still replaces the row.
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return stop
        return response
    return render(request, "findings/report_detail.html", {"report": report})


def _upload_refusal(user, key: str) -> str:
    """Why ``user`` may not upload into project ``key``, or "" when they may.

    A project the user may not see reads the same as one that does not exist.
    """
    project = selectors.project_by_key(key=key)
    if project is None:
        if access.can_create_projects(user):
            return ""
        return f"There is no project {key} you may upload to; a site admin creates projects."
    role = access.role_for(user, project)
    if role is None:
        return f"There is no project {key} you may upload to; a site admin creates projects."
    if role < access.ACTION_ROLES["upload"]:
        return f"Your role in {key} is {role.label}; uploading needs developer."
    return ""
