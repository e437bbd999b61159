"""Schemathesis against the API's own OpenAPI schema: every operation, generated requests
(valid and invalid), answered without a server error and as the schema says."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from auditdash.wsgi import application
from findings.api import api
from findings.models import Finding, Report, Role
from findings.services import finding_transition, token_create
from tests.conftest import make_finding

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_token(acme, manager, developer) -> str:
    """A developer token of ACME, which has three findings in different states."""
    make_finding(acme, title="Use of eval <script>alert(1)</script>")
    claimed = make_finding(acme, title="Unsafe pickle load")
    finding_transition(finding=claimed, event="claim", actor=developer)
    make_finding(acme, title="Hard-coded password")
    return token_create(project=acme, creator=manager, name="fuzz", role=Role.DEVELOPER).secret


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """The requests go through the real WSGI application, which closes the database connection
    when a request ends; inside a test that connection holds the test's transaction, so keep
    it open, as Django's own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _load_schema():
    """The schema the app serves at /api/v1/openapi.json (built from the same code, so it can
    be read before a test has a database and a token to fetch it with)."""
    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
    loaded.app = application
    return loaded


schema = _load_schema()


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    case, fuzz_token, wsgi_keeps_the_test_connection
):
    # Aim the generated requests at the project the token may see, and at its findings, so
    # they reach the filters and the lifecycle instead of stopping at "no such project".
    if "key" in (case.path_parameters or {}):
        case.path_parameters["key"] = "ACME"
    if isinstance((case.path_parameters or {}).get("number"), int):
        case.path_parameters["number"] = 1 + abs(case.path_parameters["number"]) % 4
    reports = Report.objects.count()

    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS
    )

    if response.status_code == 405:
        assert response.headers[
            "allow"
        ]  # a method the path does not have: the allowed ones are named
    elif response.status_code >= 400:
        assert response.json()["detail"], response.text
        assert Report.objects.count() == reports  # a refused upload stores nothing
    assert Finding.objects.filter(project__key="ACME").count() == 3
