"""What every view ends or starts with, written once: the request's type, the finding or a
404, the role a lifecycle event needs, a form's errors as one message, and the answer to a
mutation (the updated partial for htmx, else a redirect with a message).

The API imports :func:`finding_or_404` too: Django Ninja answers its ``Http404`` the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from findings import access
from findings.models import Finding, Project, Role
from findings.selectors.finding import finding_by_number


class HtmxHttpRequest(HttpRequest):
    """The request every view is given: django-htmx's middleware (in ``MIDDLEWARE``) sets
    ``htmx`` on each one, which ``HttpRequest`` does not declare. For type checking only."""

    htmx: HtmxDetails


CHANGED = "finding-changed"
"""The client event a successful mutation sends, so other panels of the page refresh."""


def finding_or_404(project: Project, number: int) -> Finding:
    """The project's finding ``number``, with its project; ``Http404`` when there is none."""
    finding = finding_by_number(project=project, number=number)
    if finding is None:
        raise Http404("No such finding.")
    return finding


def event_role(request: HttpRequest, project: Project, event: str) -> Role | None:
    """The user's role in ``project``, once it is checked to suffice for the lifecycle
    ``event``: a visible project but too low a role is a 403 (``PermissionDenied``), not a
    form error. An unknown event is left to the form or the table to refuse."""
    needed = access.minimum_role_for_event(event)
    if needed is not None:
        access.require(request, project, needed)
    return access.role_for(request.user, project)


def form_errors(form: forms.Form) -> str:
    """Every error of a bound form as one message: "field: message", form-wide ones bare."""
    return " ".join(
        f"{'' if field == '__all__' else field + ': '}{message}"
        for field, errors in form.errors.items()
        for message in errors
    )


def mutation_response(
    request: HtmxHttpRequest,
    *,
    text: str,
    failed: bool,
    partial: str,
    context: Callable[[], dict],
    target: str,
    event: str | None = CHANGED,
) -> HttpResponse:
    """How a mutation answers: htmx gets ``partial`` rendered with ``context()`` (called only
    then) and, on success, the client ``event``; a plain form gets ``text`` as a message and
    a redirect to ``target`` (a URL)."""
    if request.htmx:
        response = render(request, partial, context())
        if event and not failed:
            trigger_client_event(response, event)
        return response
    (messages.error if failed else messages.success)(request, text)
    return redirect(target)
