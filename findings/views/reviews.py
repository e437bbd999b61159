"""Reviews: the queue of claimed and verified fixes awaiting sign-off, and recording a verdict.

A review is recorded by one view, :func:`review_record`, through ``services.review_record``.
It answers the page it was posted from: the review queue (``findings:review_decide``) gets
the item's outcome, the finding page (``findings:review``) its action panel.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from findings import access, services
from findings.access import Role
from findings.forms import ReviewForm
from findings.models import Finding, Severity
from findings.selectors import reviews as selectors
from findings.views.finding import actions_response
from findings.views.helpers import HtmxHttpRequest, finding_or_404, form_errors, mutation_response

FROM_QUEUE = "review_decide"
"""The URL name of a review posted from the queue (``findings:review`` is the finding page)."""


@login_required
@require_GET
def review_queue(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Claimed and verified fixes awaiting sign-off, strongest evidence first."""
    project = access.require(request, key, Role.VIEWER)
    severity = request.GET.get("severity", "")
    if severity not in Severity.labels:
        severity = ""
    context = selectors.review_queue(project=project, severity=severity)
    context.update(
        project=project,
        severity=severity,
        severities=Severity.labels,
        may_review=access.can(request.user, project, access.ACTION_ROLES["review"]),
        me=request.user.get_username(),
        form=ReviewForm(),
    )
    return render(request, "findings/review_queue.html", context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def review_record(request: HtmxHttpRequest, key: str, number: int) -> HttpResponse:
    """Approve, reject or ask for work on one fix, through ``services.review_record``."""
    project = access.require(request, key, access.ACTION_ROLES["review"])
    finding = finding_or_404(project, number)
    form = ReviewForm(request.POST)
    error = ""
    if not form.is_valid():
        error = form_errors(form)
    else:
        try:
            review = services.review_record(
                finding=finding,
                reviewer=request.user,
                verdict=form.cleaned_data["verdict"],
                comment=form.cleaned_data["comment"],
            )
        except services.ReviewError as failure:
            error = str(failure)
    text = error or f"{finding.key}: {review.get_verdict_display().lower()} recorded."
    # No resolver match (the view called directly, as in a unit test): the finding page's answer.
    match = request.resolver_match
    if match is not None and match.url_name == FROM_QUEUE:
        return _queue_response(request, finding, text, failed=bool(error))
    return actions_response(request, finding, text, failed=bool(error))


def _queue_response(
    request: HtmxHttpRequest, finding: Finding, text: str, *, failed: bool
) -> HttpResponse:
    """The answer to a review from the queue: the item's outcome, or back to the queue."""

    def context() -> dict:
        finding.refresh_from_db()
        return {
            "project": finding.project,
            "number": finding.number,
            "key": finding.key,
            "text": text,
            "failed": failed,
            "status": finding.get_status_display(),
        }

    return mutation_response(
        request,
        text=text,
        failed=failed,
        partial="findings/review_queue.html#review-outcome",
        context=context,
        target=reverse("findings:reviews", args=[finding.project.key]),
    )
