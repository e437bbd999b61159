"""Session renewal without a database write on every request.

A session ends ``SESSION_COOKIE_AGE`` seconds after it was last renewed. Saving it on every
request (``SESSION_SAVE_EVERY_REQUEST``) would renew it to the second, but turns every page
view into an ``UPDATE`` of the session row: under load that was a write, a WAL flush and a
row lock per request. Instead a signed-in session is renewed when its last renewal is at
least ``SESSION_RENEW_AFTER`` seconds old, so the idle timeout is between
``SESSION_COOKIE_AGE - SESSION_RENEW_AFTER`` and ``SESSION_COOKIE_AGE``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

RENEWED_KEY = "_auditdash_renewed"
"""The session's own record of its last renewal (whole seconds since the epoch)."""


class SessionRenewalMiddleware:
    """Marks a session that was read and is due for renewal as modified, so that Django's
    ``SessionMiddleware`` (listed before this one) saves it with a new expiry date.

    Sessions that the request did not read (API calls with a token), that are empty (signed
    out) or that are saved anyway (a sign-in, a sign-out) are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.accessed or session.modified or session.is_empty():
            return response
        now = int(time.time())
        if now - int(session.get(RENEWED_KEY, 0)) >= settings.SESSION_RENEW_AFTER:
            session[RENEWED_KEY] = now
        return response
