"""What one request costs: queries that do not grow with the findings, a member's role read
once per request, and a session written only when it is due for renewal."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from auditdash.sessions import RENEWED_KEY
from findings import access
from findings.models import Role
from findings.services import membership_set, token_create
from tests.findings.test_dashboard_board import make_findings

pytestmark = pytest.mark.django_db

STATUSES = ("open", "regressed", "claimed", "verified", "signed_off", "false_positive")


def _queries(client: Client, url: str, **headers) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return [query["sql"] for query in captured.captured_queries]


def _fill(project, per_status: int, assignee) -> None:
    for i, status in enumerate(STATUSES):
        make_findings(
            project, per_status, status=status, tool=("bandit", "ruff")[i % 2], assignee=assignee
        )


PAGES = (
    ("/p/ACME/", {}),
    ("/p/ACME/?triaged=1", {}),
    ("/p/ACME/?severity=high", {"HTTP_HX_REQUEST": "true"}),
    ("/p/ACME/?severity=high&tool=ruff&path=src/", {"HTTP_HX_REQUEST": "true"}),
    ("/p/ACME/?q=eval", {"HTTP_HX_REQUEST": "true"}),
    ("/p/ACME/findings/3/", {}),
)


def test_board_and_finding_pages_ask_as_many_queries_for_a_hundred_findings_as_for_two(
    acme, manager, client_for
):
    client = client_for(manager)
    _fill(acme, 2, manager)
    client.get("/p/ACME/")  # the first view after signing in renews the session
    few = {url: len(_queries(client, url, **headers)) for url, headers in PAGES}
    _fill(acme, 100, manager)
    many = {url: len(_queries(client, url, **headers)) for url, headers in PAGES}
    assert many == few


def test_the_board_reads_its_columns_in_one_query_and_their_counts_in_one_more(
    acme, manager, client_for
):
    _fill(acme, 20, manager)
    client = client_for(manager)
    for url in ("/p/ACME/?severity=high", "/p/ACME/?tool=ruff&path=src/"):
        queries = _queries(client, url, HTTP_HX_REQUEST="true")
        cards = [sql for sql in queries if 'AS "title"' in sql and "findings_finding" in sql]
        assert len(cards) == (1 if connection.vendor == "postgresql" else 5)
        counts = [sql for sql in queries if "COUNT(" in sql or 'SUM("findings_statuscount' in sql]
        assert len(counts) == 1
    page = client.get("/p/ACME/?tool=ruff&path=src/", HTTP_HX_REQUEST="true").content.decode()
    assert 'title="findings in this column">20</span>' in page  # ruff: regressed, verified...
    assert 'title="findings in this column">0</span>' in page  # ... and none open (bandit)


def test_a_member_role_is_read_once_per_request(acme, manager, developer, client_for):
    _fill(acme, 3, manager)
    for user in (manager, developer):
        for url, headers in PAGES:
            queries = _queries(client_for(user), url, **headers)
            assert sum("findings_membership" in sql for sql in queries) == 1, url


def test_a_role_changed_during_a_request_is_not_answered_from_memory(acme, developer, rf):
    request = rf.get("/p/ACME/")
    request.user = developer
    access.require(request, "ACME", Role.VIEWER)
    assert access.role_for(request.user, acme) == Role.DEVELOPER
    membership_set(project=acme, user=request.user, role=Role.VIEWER)
    assert access.role_for(request.user, acme) == Role.VIEWER
    with pytest.raises(PermissionDenied):
        access.require(request, acme, Role.DEVELOPER)


def test_the_api_list_asks_as_many_queries_for_a_hundred_findings_as_for_two(acme, manager):
    secret = token_create(project=acme, creator=manager, name="ci", role=Role.VIEWER).secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = "/api/v1/projects/ACME/findings?limit=50"
    _fill(acme, 2, manager)
    client.get(url)  # the token's first use writes its last-used time once
    few = _queries(client, url)
    _fill(acme, 100, manager)
    many = _queries(client, url)
    assert len(many) == len(few)
    assert not any("django_session" in sql for sql in many)


def _expiry(client: Client):
    return Session.objects.get(pk=client.session.session_key).expire_date


def test_a_page_view_renews_the_session_only_when_its_last_renewal_is_old(acme, developer):
    client = Client()
    client.force_login(developer)
    client.get("/p/ACME/")  # the first view after signing in records a renewal
    renewed = _expiry(client)
    queries = _queries(client, "/p/ACME/")
    assert _expiry(client) == renewed
    assert not any(sql.startswith("UPDATE") and "django_session" in sql for sql in queries)

    session = client.session
    session[RENEWED_KEY] = int(time.time()) - settings.SESSION_RENEW_AFTER - 1
    session.save()
    Session.objects.filter(pk=session.session_key).update(expire_date=renewed - timedelta(hours=1))
    client.get("/p/ACME/")
    assert _expiry(client) > renewed - timedelta(seconds=1)
    assert client.session[RENEWED_KEY] >= int(time.time()) - 5


def test_signing_out_leaves_no_session_behind(acme, developer):
    client = Client()
    client.force_login(developer)
    client.get("/p/ACME/")
    client.post("/accounts/logout/")
    assert not Session.objects.exists()
    assert client.get("/p/ACME/").status_code == 302


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_narrowed_column_is_counted_from_the_filter_index_alone(acme, manager):
    if connection.vendor != "postgresql":
        pytest.skip("index-only scans are PostgreSQL's")
    for i, tool in enumerate(("bandit", "ruff", "semgrep", "gitleaks")):
        for status in ("open", "claimed"):
            make_findings(acme, 800, status=status, tool=tool, path=f"src/mod{i}/a.py")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE findings_finding")  # index-only needs the visibility map
    client = Client()
    client.force_login(manager)
    queries = _queries(
        client, "/p/ACME/?severity=high&tool=ruff&path=src/mod1/", HTTP_HX_REQUEST="true"
    )
    (count,) = [sql for sql in queries if "COUNT(*)" in sql]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + count)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Index Only Scan using finding_filter" in plan, plan
    assert "Seq Scan" not in plan, plan
