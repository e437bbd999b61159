"""Reports out: a project's (or one sprint's) status report as Markdown or streamed CSV."""

from __future__ import annotations

import csv
import itertools

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from findings import access
from findings.access import Role
from findings.selectors import reports as report
from findings.selectors.planning import project_sprint
from findings.views.helpers import HtmxHttpRequest


class _Echo:
    """A file-like sink for csv.writer that hands each row back to the streaming response."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def status_report(request: HtmxHttpRequest, key: str, fmt: str) -> HttpResponseBase:
    """The project's (``?sprint=<id>``: one sprint's) status report as Markdown or CSV."""
    project = access.require(request, key, Role.VIEWER)
    if fmt not in ("md", "csv"):
        raise Http404("Reports come as .md or .csv.")
    sprint = None
    if raw := request.GET.get("sprint", ""):
        if raw.isdigit():
            sprint = project_sprint(project=project, pk=raw)
        if sprint is None:
            raise Http404("No such sprint.")
    stem = f"{project.key}-status" + (f"-sprint-{sprint.pk}" if sprint else "")
    response: HttpResponseBase
    if fmt == "md":
        response = HttpResponse(
            report.markdown(project=project, sprint=sprint),
            content_type="text/markdown; charset=utf-8",
        )
    else:
        writer = csv.DictWriter(_Echo(), fieldnames=report.CSV_FIELDS)
        rows = (
            writer.writerow(report.csv_safe(row))
            for row in itertools.chain(
                report.fixes(project=project, sprint=sprint),
                report.open_findings(project=project, sprint=sprint),
            )
        )
        header = ",".join(report.CSV_FIELDS) + "\r\n"
        response = StreamingHttpResponse(
            itertools.chain([header], rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response
