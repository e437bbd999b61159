"""Pages. Each view checks access, validates with a form, calls a service or selectors, renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from findings import access, action_views, selectors, services
from findings.access import Role
from findings.forms import UploadForm
from findings.models import Project, Report
from findings.services.ingest import IngestError, Options
from findings.services.ingest.uploads import queue_upload
from findings.uploads import UploadError, inflate_upload


@login_required
def finding_detail(request: HttpRequest, key: str, number: int) -> HttpResponse:
    project = access.require(request, key, Role.VIEWER)
    finding = action_views.get_finding(project, number)
    return render(
        request,
        "findings/finding_detail.html",
        {
            "project": project,
            "finding": finding,
            "claims": selectors.finding_claims(finding=finding),
            **selectors.finding_details(finding=finding),
            **selectors.finding_timeline(finding=finding),
            **selectors.finding_line_history(finding=finding),
            **selectors.finding_code_context(finding=finding),
            **action_views.actions_context(request, finding),
        },
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
        refusal = _upload_refusal(request.user, data["project"])
        if refusal:
            messages.error(request, refusal)
            return redirect("findings:imports")
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
    projects = access.projects_for(request.user)
    return render(
        request,
        "findings/imports.html",
        {"form": form, "reports": selectors.recent_reports(projects=projects)},
    )


@login_required
@vary_on_headers("HX-Request")
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    projects = access.projects_for(request.user)
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


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    projects = access.projects_for(request.user)
    report = (
        selectors.document_reports(projects=projects)
        .filter(pk=pk, document__isnull=False)
        .select_related("project", "document")
        .first()
    )
    if report is None:
        raise Http404("No such document, or it was not imported.")
    context = selectors.document_page(report=report)
    return render(request, "findings/document_detail.html", {"project": report.project, **context})


@login_required
@require_POST
@vary_on_headers("HX-Request")
def link_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide_link(request, pk, services.claim_link_confirm, "confirmed")


@login_required
@require_POST
@vary_on_headers("HX-Request")
def link_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide_link(request, pk, services.claim_link_undo, "undone")


def _decide_link(request: HttpRequest, pk: int, decide, done: str) -> HttpResponse:
    """Confirm or undo a link; htmx gets the claim card back, a plain form a redirect."""
    link = selectors.link_for_user(user=request.user, pk=pk)
    if link is None:
        raise Http404("No such link.")
    access.require(request, link.claim.project, access.ACTION_ROLES["link"])
    error = ""
    try:
        decide(link=link, user=request.user)
    except services.LinkError as failure:
        error = str(failure)
    text = error or f"Link {link.claim.title} → {link.finding.key} {done}."
    if request.htmx:
        claim = selectors.claim_card(claim_id=link.claim_id)
        return render(
            request,
            "findings/document_detail.html#claim-card",
            {"claim": claim, "decision": text, "decision_failed": bool(error)},
        )
    (messages.error if error else messages.success)(request, text)
    target = reverse("findings:document", args=[link.claim.report_id])
    return redirect(f"{target}#claim-{link.claim_id}")


def _upload_refusal(user, key: str) -> str:
    """Why ``user`` may not upload into project ``key``, or "" when they may.

    A project the user may not see reads the same as one that does not exist.
    """
    project = Project.objects.filter(key=key).first()
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
