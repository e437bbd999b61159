"""The pages' access-controlled actions: reviews and hand-made transitions on the finding page,
and the members page of a project.

Each view checks the role first (``findings.access``), then validates a form and calls one
service. Mutations are POST with CSRF; htmx gets the finding's action panel back (and a
``finding-changed`` client event), a plain form a redirect with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from findings import access, lifecycle, services
from findings.access import Role
from findings.forms import MemberForm, ReviewForm, TransitionForm
from findings.models import Finding, Membership, Project
from findings.services.reviews import REVIEWABLE


def get_finding(project: Project, number: int) -> Finding:
    """The project's finding ``number``; Http404 when there is none."""
    finding = Finding.objects.filter(project=project, number=number).select_related("project")
    found = finding.first()
    if found is None:
        raise Http404("No such finding.")
    return found


def actions_context(request: HttpRequest, finding: Finding) -> dict:
    """What the finding page's action panel shows to this user: only what their role allows."""
    role = access.role_for(request.user, finding.project)
    events = access.events_for(role, lifecycle.allowed_events(finding.status))
    may_review = role is not None and role >= Role.REVIEWER and finding.status in REVIEWABLE
    return {
        "role": role,
        "transition_form": TransitionForm(events=events) if events else None,
        "review_form": ReviewForm() if may_review else None,
        "is_fix_author": may_review and request.user.pk in services.fix_authors(finding=finding),
        "reviews": finding.reviews.select_related("reviewer", "claim").order_by(
            "-created_at", "-id"
        )[:100],
    }


@login_required
@require_POST
@vary_on_headers("HX-Request")
def finding_review(request: HttpRequest, key: str, number: int) -> HttpResponse:
    project = access.require(request, key, access.ACTION_ROLES["review"])
    finding = get_finding(project, number)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _respond(request, finding, _form_errors(form), failed=True)
    try:
        review = services.review_record(
            finding=finding,
            reviewer=request.user,
            verdict=form.cleaned_data["verdict"],
            comment=form.cleaned_data["comment"],
        )
    except services.ReviewError as error:
        return _respond(request, finding, str(error), failed=True)
    text = f"{finding.key}: {review.get_verdict_display().lower()} recorded."
    return _respond(request, finding, text, failed=False)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def finding_transition(request: HttpRequest, key: str, number: int) -> HttpResponse:
    project = access.require(request, key, Role.VIEWER)
    finding = get_finding(project, number)
    event = request.POST.get("event", "")
    needed = access.minimum_role_for_event(event)
    if needed is not None:
        # A visible project but too low a role is a 403, not a form error.
        access.require(request, project, needed)
    role = access.role_for(request.user, project)
    form = TransitionForm(
        request.POST, events=access.events_for(role, lifecycle.allowed_events(finding.status))
    )
    if not form.is_valid():
        return _respond(request, finding, _form_errors(form), failed=True)
    try:
        finding = services.finding_transition(
            finding=finding,
            event=form.cleaned_data["event"],
            actor=request.user,
            reason=form.cleaned_data["reason"].strip(),
        )
    except services.TransitionError as error:
        return _respond(request, finding, str(error), failed=True)
    label = lifecycle.Event(form.cleaned_data["event"]).label
    return _respond(request, finding, f"{finding.key}: {label.lower()}.", failed=False)


def _respond(request: HttpRequest, finding: Finding, text: str, *, failed: bool) -> HttpResponse:
    if request.htmx:
        finding.refresh_from_db()
        response = render(
            request,
            "findings/finding_detail.html#finding-actions",
            {
                "project": finding.project,
                "finding": finding,
                "notice": text,
                "notice_failed": failed,
                **actions_context(request, finding),
            },
        )
        if not failed:
            trigger_client_event(response, "finding-changed")
        return response
    (messages.error if failed else messages.success)(request, text)
    target = reverse("findings:detail", args=[finding.project.key, finding.number])
    return redirect(f"{target}#actions")


def _form_errors(form) -> str:
    return " ".join(
        f"{'' if field == '__all__' else field + ': '}{message}"
        for field, errors in form.errors.items()
        for message in errors
    )


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, key: str) -> HttpResponse:
    """A project's members and their roles; managers (and site admins) change them."""
    project = access.require(request, key, access.ACTION_ROLES["members"])
    form = MemberForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            _change_member(request, project, form.cleaned_data)
        else:
            messages.error(request, _form_errors(form))
        return redirect("findings:members", project.key)
    return render(
        request,
        "findings/members.html",
        {
            "project": project,
            "form": form,
            "memberships": Membership.objects.filter(project=project)
            .select_related("user")
            .order_by("-role", "user__username"),
            "roles": [role.label for role in Role],
        },
    )


def _change_member(request: HttpRequest, project: Project, data: dict) -> None:
    user = get_user_model().objects.filter(username=data["username"], is_active=True).first()
    if user is None:
        messages.error(request, f"There is no active user {data['username']!r}.")
        return
    if request.POST.get("remove"):
        removed = services.membership_remove(project=project, user=user, actor=request.user)
        text = "removed" if removed else "was not a member"
        messages.success(request, f"{user.get_username()} {text}.")
        return
    role = Role.from_name(data["role"])
    services.membership_set(project=project, user=user, role=role, actor=request.user)
    messages.success(request, f"{user.get_username()} is now {role.label} of {project.key}.")
