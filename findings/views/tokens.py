"""A project's API tokens: managers create them (shown once), see when each was last used,
and revoke them. Tokens are for CI and scripts calling ``/api/v1/`` (``findings.api``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from findings import access, services
from findings.forms import TokenForm
from findings.models import Role
from findings.selectors import tokens as selectors
from findings.views.helpers import HtmxHttpRequest


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def tokens(request: HtmxHttpRequest, key: str) -> HttpResponse:
    project = access.require(request, key, access.ACTION_ROLES["members"])
    held = access.role_for(request.user, project)
    if held is None:  # require() has just found a role: only a membership gone since gets here
        raise Http404("No such project, or you may not see it.")
    form = TokenForm(request.POST or None, roles=[role for role in Role if role <= held])
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.token_create(
                project=project,
                creator=request.user,
                name=data["name"],
                role=Role.from_name(data["role"]),
                days=data["days"],
            )
        except services.TokenError as error:
            form.add_error(None, str(error))
        else:
            form = TokenForm(roles=[role for role in Role if role <= held])
    status = 400 if request.method == "POST" and issued is None else 200
    return render(
        request,
        "findings/tokens.html",
        {
            "project": project,
            "form": form,
            # Rendered into this response only: never stored, never redirected through a message.
            "issued": issued,
            "tokens": selectors.project_tokens(project=project),
        },
        status=status,
    )


@login_required
@require_POST
def token_revoke(request: HtmxHttpRequest, key: str, pk: int) -> HttpResponse:
    project = access.require(request, key, access.ACTION_ROLES["members"])
    token = selectors.project_token(project=project, pk=pk)
    if token is None:
        raise Http404("No such token.")
    if services.token_revoke(token=token, actor=request.user):
        messages.success(request, f"Token {token.name} ({token.prefix}…) revoked.")
    else:
        messages.info(request, f"Token {token.name} was revoked already.")
    return redirect("findings:tokens", project.key)
