"""The REST API for CI and scripts, under ``/api/v1/`` (django-ninja; schema at
``/api/v1/openapi.json``).

Callers authenticate with a project API token (``Authorization: Bearer adt_…``, created on the
project's *API tokens* page) or a signed-in session (unsafe methods then need the CSRF token).
Every error of an operation is JSON ``{"detail": "…"}`` saying what was wrong and where (a
method a path does not have answers 405 with an ``Allow`` header); nothing answers 500 on bad
input. ``/api/v1/health`` and ``/api/v1/ready`` are for load balancers and
orchestrators and need no credentials: they reveal only whether the service works.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from findings.api import probes, routes
from findings.api.auth import AUTH, BearerToken, Session

log = logging.getLogger(__name__)


def _schema_needs_a_caller(view):
    """The schema is for callers: a token or a session, like every other operation."""

    def guarded(request: HttpRequest, *args, **kwargs):
        caller = BearerToken()(request) or Session(csrf=False)(request)
        if not caller:
            return _problem(request, 401, _UNAUTHORIZED)
        return view(request, *args, **kwargs)

    return guarded


api = NinjaAPI(
    title="auditdash API",
    version="1",
    description=__doc__,
    urls_namespace="api-1",
    auth=AUTH,
    docs_url=None,
    docs_decorator=_schema_needs_a_caller,
)
api.add_router("", routes.router)
api.add_router("", probes.router)

_UNAUTHORIZED = (
    "Send 'Authorization: Bearer <token>' with a project API token (a manager creates one on "
    "the project's API tokens page), or sign in."
)


def _problem(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    response = api.create_response(request, {"detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="auditdash"'
    return response


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _problem(request, 401, _UNAUTHORIZED)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return _problem(request, 404, str(error) or "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return _problem(request, 403, str(error) or "Your role does not allow this.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return _problem(request, error.status_code, str(error))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    parts = []
    for item in error.errors:
        where = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return _problem(request, 400, "; ".join(parts) or "the request is not valid")


__all__ = ["api"]
