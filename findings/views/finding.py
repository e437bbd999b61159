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


def hand_events(request: HtmxHttpRequest, finding: Finding, role: Role | None) -> list[str]:
    """The status changes this user may make by hand here: what their role allows, with
    "verified by evidence" only when evidence supports it, else a reviewer's decision when
    they neither claimed nor committed the fix."""
    events: list[str] = list(access.events_for(role, lifecycle.allowed_events(finding.status)))
    if lifecycle.Event.VERIFY in events and services.verify_refusal(finding):
        events.remove(lifecycle.Event.VERIFY)
    if (
        role is not None
        and role >= Role.REVIEWER
        and finding.status == lifecycle.Status.CLAIMED
        and services.may_decide(finding=finding, reviewer=request.user)
    ):
        events.append(lifecycle.Event.VERIFY_BY_DECISION)
    return events


def actions_context(request: HtmxHttpRequest, finding: Finding) -> dict:
    """What the finding page's action panel shows to this user: only what their role allows."""
    role = access.role_for(request.user, finding.project)
    events = hand_events(request, finding, role)
    may_review = (
        role is not None and role >= Role.REVIEWER and finding.status in lifecycle.REVIEWABLE
    )
    return {
        "role": role,
        "verify_hint": _verify_hint(request, finding, role, events),
        "transition_form": TransitionForm(events=events) if events else None,
        "review_form": ReviewForm() if may_review else None,
        "is_fix_author": may_review and request.user.pk in services.fix_authors(finding=finding),
        "reviews": finding_reviews(finding=finding),
    }


def _verify_hint(
    request: HtmxHttpRequest, finding: Finding, role: Role | None, events: list[str]
) -> str:
    """What the action panel says about verifying a claimed fix, to a reviewer."""
    if finding.status != lifecycle.Status.CLAIMED or role is None or role < Role.REVIEWER:
        return ""
    if lifecycle.Event.VERIFY in events:
        return "Evidence supports this fix: it may be marked verified by evidence."
    if lifecycle.Event.VERIFY_BY_DECISION in events:
        return (
            "No passing check or re-scan proves this fix, so verifying it is your decision as "
            "a reviewer: give a reason. The audit log records it as a decision, not evidence."
        )
    return _refusal(request, finding, lifecycle.Event.VERIFY_BY_DECISION)


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
            "oob": True,  # the header's status badge is swapped out of band
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
    event = request.POST.get("event", "")
    role = event_role(request, project, event)
    form = TransitionForm(request.POST, events=hand_events(request, finding, role))
    if not form.is_valid():
        refusal = _refusal(request, finding, event)
        return actions_response(request, finding, refusal or form_errors(form), failed=True)
    event, reason = form.cleaned_data["event"], form.cleaned_data["reason"].strip()
    try:
        if event == lifecycle.Event.VERIFY_BY_DECISION:
            finding = services.review_verify(finding=finding, reviewer=request.user, reason=reason)
        else:
            finding = services.finding_transition(
                finding=finding, event=event, actor=request.user, reason=reason
            )
    except (services.TransitionError, services.ReviewError) as error:
        return actions_response(request, finding, str(error), failed=True)
    label = lifecycle.Event(event).label
    return actions_response(request, finding, f"{finding.key}: {label.lower()}.", failed=False)


def _refusal(request: HtmxHttpRequest, finding: Finding, event: str) -> str:
    """Why a verification the form did not offer is refused, in the services' words; "" for
    other events (the form's own message then says what was wrong)."""
    if event == lifecycle.Event.VERIFY:
        return services.verify_refusal(finding)
    if event == lifecycle.Event.VERIFY_BY_DECISION:
        if not access.can(request.user, finding.project, Role.REVIEWER):
            return f"{finding.key}: only a reviewer may verify a fix by decision."
        try:
            services.decision_check(finding=finding, reviewer=request.user)
        except services.ReviewError as error:
            return str(error)
    return ""
