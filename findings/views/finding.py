"""The finding page: what is known of one finding, and the actions its user's role allows
(hand-made transitions here; reviews in :mod:`findings.views.reviews`).

Mutations are POST with CSRF; htmx gets the finding's action panel back (and a
``finding-changed`` client event), a plain form a redirect with a message.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from findings import access, lifecycle, services
from findings.access import Role
from findings.forms import ReviewForm, TransitionForm
from findings.models import Finding
from findings.selectors import finding as selectors
from findings.selectors.reviews import finding_reviews
from findings.views.helpers import (
    HtmxHttpRequest,
    event_role,
    finding_or_404,
    form_errors,
    mutation_response,
)


@login_required
def finding_detail(request: HtmxHttpRequest, key: str, number: int) -> HttpResponse:
    project = access.require(request, key, Role.VIEWER)
    finding = finding_or_404(project, number)
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
            **actions_context(request, finding),
        },
    )


def actions_context(request: HtmxHttpRequest, finding: Finding) -> dict:
    """What the finding page's action panel shows to this user: only what their role allows."""
    role = access.role_for(request.user, finding.project)
    events = access.events_for(role, lifecycle.allowed_events(finding.status))
    may_review = (
        role is not None and role >= Role.REVIEWER and finding.status in lifecycle.REVIEWABLE
    )
    return {
        "role": role,
        "transition_form": TransitionForm(events=events) if events else None,
        "review_form": ReviewForm() if may_review else None,
        "is_fix_author": may_review and request.user.pk in services.fix_authors(finding=finding),
        "reviews": finding_reviews(finding=finding),
    }


def actions_response(
    request: HtmxHttpRequest, finding: Finding, text: str, *, failed: bool
) -> HttpResponse:
    """The answer to an action on the finding page: its action panel, or back to it."""

    def context() -> dict:
        finding.refresh_from_db()
        return {
            "project": finding.project,
            "finding": finding,
            "notice": text,
            "notice_failed": failed,
            **actions_context(request, finding),
        }

    target = reverse("findings:detail", args=[finding.project.key, finding.number])
    return mutation_response(
        request,
        text=text,
        failed=failed,
        partial="findings/finding_detail.html#finding-actions",
        context=context,
        target=f"{target}#actions",
    )


@login_required
@require_POST
@vary_on_headers("HX-Request")
def finding_transition(request: HtmxHttpRequest, key: str, number: int) -> HttpResponse:
    project = access.require(request, key, Role.VIEWER)
    finding = finding_or_404(project, number)
    role = event_role(request, project, request.POST.get("event", ""))
    form = TransitionForm(
        request.POST, events=access.events_for(role, lifecycle.allowed_events(finding.status))
    )
    if not form.is_valid():
        return actions_response(request, finding, form_errors(form), failed=True)
    try:
        finding = services.finding_transition(
            finding=finding,
            event=form.cleaned_data["event"],
            actor=request.user,
            reason=form.cleaned_data["reason"].strip(),
        )
    except services.TransitionError as error:
        return actions_response(request, finding, str(error), failed=True)
    label = lifecycle.Event(form.cleaned_data["event"]).label
    return actions_response(request, finding, f"{finding.key}: {label.lower()}.", failed=False)
