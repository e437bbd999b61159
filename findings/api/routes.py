"""The API's operations: projects, report uploads and their status, findings, transitions.

Each operation is short, like a page view: resolve the project through ``auth.project_for``
(404 or 403), validate, call one service or a few selectors, answer. Uploads go through the
same path as the Imports page (``findings.services.ingest.uploads.queue_upload``), so a
report sent by CI is checked, stored and imported exactly like one uploaded by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from ninja import Query, Router
from ninja import Status as Reply
from ninja.errors import HttpError
from ninja.renderers import JSONRenderer

from findings import access, lifecycle, services
from findings.api import schemas
from findings.api.auth import Caller, caller_of, project_for, role_of, visible_projects
from findings.api.selectors import (
    MAX_PAGE,
    CursorError,
    FindingQuery,
    finding_detail,
    finding_out,
    finding_page,
    finding_page_prefix,
    report_out,
    report_page,
)
from findings.lifecycle import Status
from findings.models import Membership, Report, Role, Severity
from findings.selectors.board import BoardFilter
from findings.selectors.fixes import fix_summary
from findings.selectors.metrics import project_overview, recent_changes, sla_breaches
from findings.selectors.sarif import sarif_log
from findings.services.ingest import DOCUMENT_FORMAT, IngestError, Options
from findings.services.ingest.results import only_paths
from findings.services.ingest.uploads import queue_upload
from findings.uploads import UploadError, UploadTooLarge, inflate_upload
from findings.views.helpers import finding_or_404
from scanners import registry
from scanners.files import ReportTooLarge

router = Router(tags=["auditdash"])

_COMMIT = re.compile(r"^[0-9a-fA-F]{4,40}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CHUNK = 1 << 16
# Multipart framing around one file: a generous allowance over the report limit.
_MULTIPART_SLACK = 1 << 20
_ERRORS = {400: schemas.Problem, 401: schemas.Problem, 403: schemas.Problem, 404: schemas.Problem}

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {}},
        "text/markdown": {"schema": {"type": "string"}},
    },
    "description": "One report: a multipart field 'file', or the raw bytes as the body. "
    "gzip is recognised by its bytes and inflated under the size limit.",
}


@router.get("/projects", response=list[schemas.ProjectOut], summary="Projects you may see")
def projects(request: HttpRequest):
    caller = caller_of(request)
    rows = project_overview(projects=visible_projects(request))
    roles = _roles(caller)
    return [
        {
            "key": row["project"].key,
            "name": row["project"].name,
            "role": roles.get(row["project"].pk, Role.MANAGER).label,
            "open_by_severity": dict(row["open"]),
            "url": reverse("findings:board", args=[row["project"].key]),
        }
        for row in rows
    ]


@router.get("/projects/{key}/summary", response={200: schemas.SummaryOut, **_ERRORS})
def summary(request: HttpRequest, key: str):
    """Open findings and the fixes by word (claimed fixed, verified, signed off), now and in
    the last 7 days: the numbers of the overview, the metrics page and the status report."""
    project = project_for(request, key)
    counts = fix_summary(projects=[project.pk])
    row = project_overview(projects=[project], summary=counts)[0]
    changes = recent_changes(projects=[project.pk], summary=counts)[project.pk]
    breaches = sla_breaches(projects=[project.pk]).get(project.pk, {})
    return {
        "project": project.key,
        "open": row["open_total"],
        "open_by_severity": dict(row["open"]),
        "fixes": {word.key: row["fixes"].get(word.key, 0) for word in lifecycle.FIX_WORDS},
        "last_7_days": changes,
        "past_sla": sum(breaches.values()),
        "words": {word.key: word.meaning for word in lifecycle.FIX_WORDS},
    }


# A module-level default: a list parameter's Query made in the signature would be a call
# in an argument default.
_ONLY = Query(
    None,
    description="A partial scan: a directory or file it covered, relative to the repository "
    "root (repeat the parameter for several, at most 100). Open findings elsewhere are not "
    "closed; they are marked 'not seen since'. Leave out for a scan of the whole tree.",
)


@router.post(
    "/projects/{key}/reports",
    response={202: schemas.ReportOut, 411: schemas.Problem, 413: schemas.Problem, **_ERRORS},
    summary="Upload a scanner report or a remediation document",
    openapi_extra={"requestBody": _UPLOAD_BODY},
    url_name="upload",
)
def upload(
    request: HttpRequest,
    key: str,
    commit: str = "",
    branch: str = "",
    root: str = "",
    format: str = "",
    filename: str = "",
    only: list[str] | None = _ONLY,
):
    """Queue one report for import and answer at once with its id and status URL.

    The import runs as a background task; poll ``status_url`` until ``state`` is ``done``
    (with the final counts) or ``failed`` (with the error). The same bytes twice are refused
    with 400, naming the report that already holds them.
    """
    project = project_for(request, key, access.ACTION_ROLES["upload"])
    options = _options(commit=commit, branch=branch, root=root, format=format, only=only or [])
    report_file = _received_file(request, filename)
    try:
        received = inflate_upload(report_file)
        if filename:
            received.name = report_file.name
        report = queue_upload(
            project_key=project.key, upload=received, options=options, user=caller_of(request).user
        )
    except (ReportTooLarge, UploadTooLarge) as error:
        raise HttpError(413, str(error)) from None
    except (IngestError, UploadError) as error:
        raise HttpError(400, str(error)) from None
    report.refresh_from_db()
    return Reply(202, report_out(report))


@router.get("/reports/{report_id}", response={200: schemas.ReportOut, **_ERRORS}, url_name="report")
def report(request: HttpRequest, report_id: int):
    """A report's state and progress; once ``done``, its final counts."""
    found = (
        Report.objects.filter(pk=report_id, project__in=visible_projects(request))
        .select_related("project")
        .first()
    )
    if found is None:
        raise HttpError(404, f"No report {report_id} that you may see.")
    return report_out(services.report_fail_if_stale(report=found))


@router.get("/projects/{key}/reports", response={200: schemas.ReportPage, **_ERRORS})
def reports(request: HttpRequest, key: str, after: int | None = None, limit: int = 50):
    """The project's reports, newest first; follow ``next`` for older ones."""
    project = project_for(request, key)
    limit = _limit(limit)
    mine = visible_projects(request).filter(pk=project.pk)
    services.report_fail_stale(projects=mine)  # a dead worker's import reads as failed
    rows, more = report_page(projects=mine, after=after, limit=limit)
    base = reverse("api-1:reports", args=[project.key])
    return {
        "results": [report_out(row) for row in rows],
        "next": f"{base}?after={more}&limit={limit}" if more else None,
    }


@router.get("/projects/{key}/findings", response={200: schemas.FindingPage, **_ERRORS})
def findings(
    request: HttpRequest,
    key: str,
    status: str = Query("", description="Comma-separated statuses, e.g. open,regressed."),
    severity: str = Query("", description="critical, high, medium, low or info."),
    tool: str = "",
    rule: str = "",
    path: str = Query("", description="A path prefix, e.g. src/api/."),
    q: str = Query("", max_length=200, description="Words in the title or rule."),
    sprint: int | None = None,
    phase: int | None = None,
    after: str = Query("", description="The cursor from the previous page's 'next'."),
    limit: int = 100,
):
    """The project's findings, worst first then newest, a page at a time (keyset pagination)."""
    project = project_for(request, key)
    statuses = tuple(part.strip() for part in status.split(",") if part.strip())
    unknown = [part for part in statuses if part not in Status.values]
    if unknown:
        raise HttpError(
            400, f"status: unknown {', '.join(unknown)}; use {', '.join(Status.values)}"
        )
    if severity and severity not in Severity.labels:
        raise HttpError(400, f"severity: unknown {severity!r}; use {', '.join(Severity.labels)}")
    for name, value in (("tool", tool), ("path", path), ("q", q), ("rule", rule)):
        if "\x00" in value:
            raise HttpError(400, f"{name}: must not contain NUL characters")
    query = FindingQuery(
        statuses=statuses,
        board=BoardFilter(
            severity=severity, tool=tool, path=path, q=q.strip(), phase=phase, sprint=sprint
        ),
        rule=rule,
        after=after,
        limit=_limit(limit),
    )
    try:
        rows, cursor = finding_page(project=project, query=query)
    except CursorError as error:
        raise HttpError(400, str(error)) from None
    next_url = None
    if cursor:
        params = request.GET.copy()
        params["after"] = cursor
        next_url = f"{request.path}?{params.urlencode()}"
    prefix = finding_page_prefix(project)
    page = {
        "results": [finding_out(row, project, page_prefix=prefix) for row in rows],
        "next": next_url,
    }
    # Rendered as it is: ``finding_out`` builds exactly the FindingPage fields, and having
    # pydantic validate a hundred of them again was half the CPU of the request under load
    # (the OpenAPI schema still says FindingPage; tests compare the two).
    content = _RENDERER.render(request, page, response_status=200)
    return HttpResponse(
        content, content_type=f"{_RENDERER.media_type}; charset={_RENDERER.charset}"
    )


_RENDERER = JSONRenderer()


_SARIF_RESPONSE = {
    "responses": {
        200: {
            "description": "A SARIF 2.1.0 log, streamed.",
            "content": {"application/sarif+json": {"schema": {"type": "object"}}},
        }
    }
}


@router.get(
    "/projects/{key}/sarif",
    response={200: None, **_ERRORS},
    summary="The project's open findings as a SARIF 2.1.0 log",
    openapi_extra=_SARIF_RESPONSE,
    url_name="sarif",
)
def sarif(request: HttpRequest, key: str, with_fixed: bool = False, with_triaged: bool = False):
    """Every open finding (open, regressed, claimed; with ``with_fixed``, verified and signed
    off too, as ``absent``; with ``with_triaged``, accepted risks, false positives, won't-fix
    and suppressed findings too, each with a SARIF ``suppression``), one run per tool,
    category and branch, with its lifecycle and evidence in ``properties.auditdash`` and its
    ``baselineState``. Streamed: the size of the project does not matter. The same log as
    ``manage.py export --format sarif``.
    """
    project = project_for(request, key)
    response = StreamingHttpResponse(
        sarif_log(project=project, with_fixed=with_fixed, with_triaged=with_triaged),
        content_type="application/sarif+json",
    )
    response["Content-Disposition"] = f'attachment; filename="{project.key}.sarif"'
    return response


@router.get("/projects/{key}/findings/{number}", response={200: schemas.FindingDetail, **_ERRORS})
def finding(request: HttpRequest, key: str, number: int):
    """One finding with its timeline: events, sightings, claims with evidence, reviews."""
    project = project_for(request, key)
    found = finding_or_404(project, number)
    return {
        **finding_detail(finding=found, project=project),
        "allowed_events": _allowed(request, found),
    }


@router.post(
    "/projects/{key}/findings/{number}/transition",
    response={200: schemas.FindingDetail, 409: schemas.Problem, **_ERRORS},
)
def transition(request: HttpRequest, key: str, number: int, body: schemas.TransitionIn):
    """Apply a lifecycle event by hand, as on the finding page (same roles, same table).

    Sign-off and rejection are reviews, made on the finding page by a reviewer, never here.
    """
    project = project_for(request, key)
    found = finding_or_404(project, number)
    event = body.event.strip()
    if event in access.REVIEW_EVENTS:
        raise HttpError(
            400, f"'{event}' is a review: a reviewer records it on the finding page, not the API"
        )
    needed = access.minimum_role_for_event(event)
    if needed is None:
        known = ", ".join(
            sorted(e for e in lifecycle.Event.values if access.minimum_role_for_event(e))
        )
        raise HttpError(400, f"event: unknown or automatic {event!r}; use one of {known}")
    project_for(request, key, needed)
    if event in lifecycle.REQUIRES_REASON and not body.reason.strip():
        raise HttpError(400, f"reason: '{event}' needs a reason")
    try:
        changed = services.finding_transition(
            finding=found,
            event=event,
            actor=caller_of(request).user,
            reason=body.reason.strip(),
        )
    except services.TransitionError as error:
        raise HttpError(409, f"{found.key}: {error}") from None
    changed.project = project
    return {
        **finding_detail(finding=changed, project=project),
        "allowed_events": _allowed(request, changed),
    }


def _roles(caller: Caller) -> dict[int, Role]:
    """The caller's role per project id, in one query (site admins: manager everywhere)."""
    if caller.token is not None:
        assert caller.token_role is not None  # BearerToken gives a token caller its role
        return {caller.token.project_id: caller.token_role}
    if access.is_site_admin(caller.user):
        return {}
    return {
        project_id: Role(role)
        for project_id, role in Membership.objects.filter(user=caller.user).values_list(
            "project_id", "role"
        )
    }


def _allowed(request: HttpRequest, finding) -> list[str]:
    """The events the caller may apply here: "verify" only when evidence supports it."""
    role = role_of(caller_of(request), finding.project)
    events = access.events_for(role, lifecycle.allowed_events(finding.status))
    if lifecycle.Event.VERIFY in events and services.verify_refusal(finding):
        events.remove(lifecycle.Event.VERIFY)
    return [str(e) for e in events]


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise HttpError(400, f"limit: {limit} is out of range; use 1 to {MAX_PAGE}")
    return limit


def _options(*, commit: str, branch: str, root: str, format: str, only: list[str]) -> Options:
    if commit and not _COMMIT.match(commit):
        raise HttpError(400, f"commit: {commit[:50]!r} is not a commit hash (4-40 hex digits)")
    for name, value, most in (("branch", branch, 200), ("root", root, 1000)):
        if len(value) > most or _CONTROL.search(value):
            raise HttpError(400, f"{name}: at most {most} characters, no control characters")
    formats = [*registry.FORMATS, DOCUMENT_FORMAT]
    if format and format not in formats:
        raise HttpError(400, f"format: unknown {format!r}; use one of {', '.join(formats)}")
    try:
        covered = only_paths([line for value in only for line in value.splitlines()])
    except ValueError as error:
        raise HttpError(400, f"only: {error}") from None
    return Options(commit=commit.lower(), branch=branch, root=root, format=format, only=covered)


def _received_file(request: HttpRequest, filename: str):
    """The uploaded report: a multipart field ``file``, else the raw body, streamed to disk.

    Refused before reading: a body larger than the report limit (413) and a raw body without
    a Content-Length (411).
    """
    limit = settings.MAX_REPORT_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "Content-Length is not a number") from None
    content_type = request.content_type or ""
    name = Path(filename).name[:200] if filename else ""
    if _CONTROL.search(name):
        raise HttpError(400, "filename: no control characters")
    if content_type == "multipart/form-data":
        if declared > limit + _MULTIPART_SLACK:
            raise HttpError(413, f"the upload is over the limit of {limit:,} bytes for one report")
        try:
            files = request.FILES.getlist("file")
        except (MultiPartParserError, SuspiciousOperation) as error:
            raise HttpError(400, f"the multipart body cannot be read: {error}") from None
        if len(files) != 1 or len(request.FILES) != 1:
            raise HttpError(400, "send exactly one file, in the multipart field 'file'")
        if name:
            files[0].name = name
        return files[0]
    if declared <= 0:
        raise HttpError(
            411, "send the report as the request body with a Content-Length, or as multipart"
        )
    if declared > limit:
        raise HttpError(
            413,
            f"{name or 'the report'}: {declared:,} bytes is over the limit of {limit:,} bytes "
            "(AUDITDASH_MAX_REPORT_BYTES)",
        )
    received = TemporaryUploadedFile(name or "report", content_type, declared, None)
    size = 0
    while chunk := request.read(_CHUNK):
        size += len(chunk)
        received.write(chunk)
    if size != declared:
        received.close()
        raise HttpError(400, f"the body ended after {size:,} of {declared:,} bytes (cut short)")
    received.size = size
    received.seek(0)
    return received
