"""A project's members and their roles; managers (and site admins) change them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from findings import access, services
from findings.access import Role
from findings.forms import MemberForm
from findings.models import Project
from findings.selectors import members as selectors
from findings.views.helpers import HtmxHttpRequest, form_errors


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """A project's members and their roles; managers (and site admins) change them."""
    project = access.require(request, key, access.ACTION_ROLES["members"])
    form = MemberForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            _change_member(request, project, form.cleaned_data)
        else:
            messages.error(request, form_errors(form))
        return redirect("findings:members", project.key)
    return render(
        request,
        "findings/members.html",
        {
            "project": project,
            "form": form,
            "memberships": selectors.project_memberships(project=project),
            "roles": [role.label for role in Role],
        },
    )


def _change_member(request: HtmxHttpRequest, project: Project, data: dict) -> None:
    user = selectors.active_user(username=data["username"])
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
