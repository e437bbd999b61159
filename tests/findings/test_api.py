"""The REST API as CI and scripts use it: tokens, uploads and their status, findings, transitions,
and the answers to every kind of bad request."""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from findings.models import ApiToken, Event, Finding, Report, Role, Rule
from findings.services import (
    finding_transition,
    membership_remove,
    membership_set,
    token_create,
    token_revoke,
)
from tests.conftest import make_finding

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BANDIT = SAMPLES / "bandit" / "context_and_errors.json"

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(django_capture_on_commit_callbacks):
    """A test client whose uploads are imported before the response returns, as they are
    outside a test's transaction (they are queued on commit)."""

    class Committing(Client):
        def request(self, **request):
            with django_capture_on_commit_callbacks(execute=True):
                return super().request(**request)

    return Committing()


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def dev_token(acme, manager) -> str:
    return token_create(project=acme, creator=manager, name="CI", role=Role.DEVELOPER).secret


@pytest.fixture
def viewer_token(acme, manager) -> str:
    return token_create(project=acme, creator=manager, name="Reader", role=Role.VIEWER).secret


def upload(client: Client, secret: str, body: bytes, *, key: str = "ACME", query: str = ""):
    return client.post(
        f"/api/v1/projects/{key}/reports{query}",
        data=body,
        content_type="application/octet-stream",
        **bearer(secret),
    )


# --- tokens ----------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_only_its_hash_is_stored(acme, manager):
    issued = token_create(project=acme, creator=manager, name="GitHub Actions", role=Role.DEVELOPER)

    stored = ApiToken.objects.get()
    assert issued.secret.startswith("adt_") and len(issued.secret) > 40
    assert issued.secret not in (stored.digest, stored.prefix, stored.name)
    assert issued.secret.startswith(stored.prefix)
    assert Event.objects.filter(action="token_created", actor=manager).exists()


def test_a_token_never_grants_more_than_its_creator_has(acme, manager, reviewer, developer):
    from findings.services import TokenError

    with pytest.raises(TokenError, match="Only managers"):
        token_create(project=acme, creator=developer, name="mine", role=Role.VIEWER)
    membership_set(project=acme, user=reviewer, role=Role.MANAGER)
    token = token_create(project=acme, creator=reviewer, name="ci", role=Role.MANAGER).secret
    # The creator is demoted: the token falls with them.
    membership_set(project=acme, user=reviewer, role=Role.VIEWER)
    client = Client()

    response = upload(client, token, BANDIT.read_bytes())

    assert response.status_code == 403
    assert "viewer" in response.json()["detail"] and "developer" in response.json()["detail"]


def test_revoked_expired_and_orphaned_tokens_answer_401(acme, manager, client):
    revoked = token_create(project=acme, creator=manager, name="old", role=Role.VIEWER)
    token_revoke(token=revoked.token, actor=manager)
    expired = token_create(project=acme, creator=manager, name="short", role=Role.VIEWER, days=1)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now())
    orphan = token_create(project=acme, creator=manager, name="left", role=Role.VIEWER)

    membership_remove(project=acme, user=manager)

    for secret in (revoked.secret, expired.secret, orphan.secret, "adt_not-a-token", "x"):
        response = client.get("/api/v1/projects", **bearer(secret))
        assert response.status_code == 401, secret
        assert "Bearer" in response["WWW-Authenticate"]
        assert "Authorization: Bearer" in response.json()["detail"]


def test_no_credentials_answer_401_everywhere_but_the_probes(client, acme):
    make_finding(acme)
    for path in (
        "/api/v1/projects",
        "/api/v1/projects/ACME/findings",
        "/api/v1/projects/ACME/findings/1",
        "/api/v1/projects/ACME/reports",
        "/api/v1/reports/1",
        "/api/v1/openapi.json",
    ):
        assert client.get(path).status_code == 401, path
    assert (
        client.post("/api/v1/projects/ACME/reports", data=b"{}", content_type="x/y").status_code
        == 401
    )
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    ready = client.get("/api/v1/ready").json()
    assert ready["checks"]["database"] == "ok" and ready["checks"]["data_dir"] == "ok"


def test_last_use_is_recorded(client, dev_token):
    assert ApiToken.objects.get().last_used_at is None

    client.get("/api/v1/projects", **bearer(dev_token))

    assert ApiToken.objects.get().last_used_at is not None


def test_the_tokens_page_creates_shows_once_and_revokes(client_for, acme, manager, developer):
    page = client_for(manager)

    created = page.post("/p/ACME/tokens/", {"name": "GitHub Actions", "role": "developer"})

    assert created.status_code == 200
    token = ApiToken.objects.get()
    secret = created.context["issued"].secret
    assert (
        secret in created.content.decode() and "will not be shown again" in created.content.decode()
    )
    listing = page.get("/p/ACME/tokens/").content.decode()
    assert secret not in listing and token.prefix in listing
    page.post(f"/p/ACME/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == manager
    assert client_for(developer).get("/p/ACME/tokens/").status_code == 403


def test_the_tokens_page_says_plainly_how_to_send_a_token(client_for, acme, manager):
    page = client_for(manager).get("/p/ACME/tokens/").content.decode()

    assert "Send it as <code>Authorization: Bearer &lt;token&gt;</code>." in page
    assert page.count("Send it as") == 1


def test_a_manager_cannot_create_a_token_above_their_role_through_the_form(
    client_for, acme, manager
):
    response = client_for(manager).post("/p/ACME/tokens/", {"name": "x", "role": "site-admin"})

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


# --- uploads and their status ----------------------------------------------------------------


def test_a_ci_upload_is_answered_with_a_status_url_that_ends_with_the_final_counts(
    client, dev_token, manager
):
    response = client.post(
        "/api/v1/projects/ACME/reports?commit=4f2a9c1&branch=main",
        data={"file": BANDIT.open("rb")},
        **bearer(dev_token),
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status_url"] == f"/api/v1/reports/{body['id']}"
    status = client.get(body["status_url"], **bearer(dev_token)).json()
    assert status["state"] == "done" and status["tool"] == "bandit"
    assert status["commit"] == "4f2a9c1" and status["branch"] == "main"
    found = Finding.objects.filter(project__key="ACME").count()
    assert status["counts"]["new"] == found > 0
    report = Report.objects.get(pk=body["id"])
    assert report.uploaded_by == manager  # a token acts for its creator


def test_a_raw_gzip_body_is_recognised_by_its_bytes(client, dev_token):
    response = upload(
        client, dev_token, gzip.compress(BANDIT.read_bytes()), query="?filename=b.json"
    )

    assert response.status_code == 202, response.content
    status = client.get(response.json()["status_url"], **bearer(dev_token)).json()
    assert status["filename"] == "b.json" and status["state"] == "done"
    assert status["counts"]["new"] > 0


def test_the_same_bytes_twice_are_refused_naming_the_first_report(client, dev_token):
    first = upload(client, dev_token, BANDIT.read_bytes()).json()

    again = upload(client, dev_token, BANDIT.read_bytes())

    assert again.status_code == 400
    assert f"report #{first['id']}" in again.json()["detail"]
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "query", "status", "words"),
    [
        (b"", "", 411, "Content-Length"),
        (b'{"results": [', "", 202, ""),
        (b'{"results": ["\xc3\x28"]}', "", 202, ""),
        (b"{}", "?commit=not-a-sha", 400, "commit"),
        (b"{}", "?format=excel", 400, "format: unknown 'excel'"),
        (b"{}", "?branch=a%0Ab", 400, "branch"),
    ],
)
def test_bad_uploads_say_what_and_where_and_leave_nothing_half_written(
    client, dev_token, body, query, status, words
):
    response = upload(client, dev_token, body, query=query)

    assert response.status_code == status, response.content
    if status != 202:
        assert words in response.json()["detail"]
        assert not Report.objects.exists()
        return
    # Accepted, then refused by the import: the report says why and nothing else was written.
    report = client.get(response.json()["status_url"], **bearer(dev_token)).json()
    assert report["state"] == "failed" and report["counts"] is None
    assert report["error"].startswith("report: ")  # the file, then the place and the problem
    assert not Finding.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"--xx\r\nbroken", "multipart/form-data; boundary=xx", "exactly one file"),
        (b"--xx\r\n", "multipart/form-data", "multipart body cannot be read"),
        (
            b'--xx\r\nContent-Disposition: form-data; name="other"; filename="a"\r\n\r\nx\r\n--xx--',
            "multipart/form-data; boundary=xx",
            "field 'file'",
        ),
    ],
)
def test_a_malformed_multipart_body_is_a_400_naming_the_problem(
    client, dev_token, body, content_type, words
):
    response = client.post(
        "/api/v1/projects/ACME/reports", data=body, content_type=content_type, **bearer(dev_token)
    )

    assert response.status_code == 400, response.content
    assert words in response.json()["detail"]
    assert not Report.objects.exists()


def test_an_oversized_body_or_zip_bomb_is_refused_before_it_is_stored(client, dev_token, settings):
    settings.MAX_REPORT_BYTES = 10_000
    uploads = Path(settings.DATA_DIR) / "uploads"
    before = set(uploads.iterdir()) if uploads.exists() else set()

    too_big = upload(client, dev_token, b"[" + b" " * 20_000 + b"]")
    bomb = upload(client, dev_token, gzip.compress(b"[" + b" " * 5_000_000 + b"]"))
    big_part = client.post(
        "/api/v1/projects/ACME/reports",
        data={"file": SimpleUploadedFile("big.json", b"[" + b" " * 20_000 + b"]")},
        **bearer(dev_token),
    )

    assert too_big.status_code == 413 and "limit" in too_big.json()["detail"]
    assert bomb.status_code == 413 and "inflates to more than" in bomb.json()["detail"]
    assert big_part.status_code == 413 and "big.json" in big_part.json()["detail"]
    assert not Report.objects.exists()
    assert (set(uploads.iterdir()) if uploads.exists() else set()) == before


def test_a_viewer_token_may_read_but_not_upload(client, viewer_token):
    assert client.get("/api/v1/projects/ACME/findings", **bearer(viewer_token)).status_code == 200

    response = upload(client, viewer_token, BANDIT.read_bytes())

    assert response.status_code == 403
    assert "needs developer" in response.json()["detail"]


def test_a_token_sees_only_its_own_project(client, dev_token, outsider):
    from findings.models import Project

    other = Project.objects.get(key="OTHER")
    make_finding(other)
    theirs = upload(
        client,
        token_create(project=other, creator=outsider, name="theirs", role=Role.DEVELOPER).secret,
        BANDIT.read_bytes(),
        key="OTHER",
    ).json()

    assert [p["key"] for p in client.get("/api/v1/projects", **bearer(dev_token)).json()] == [
        "ACME"
    ]
    for path in (
        "/api/v1/projects/OTHER/findings",
        "/api/v1/projects/OTHER/findings/1",
        "/api/v1/projects/OTHER/reports",
        f"/api/v1/reports/{theirs['id']}",
        "/api/v1/projects/NOPE/findings",
    ):
        response = client.get(path, **bearer(dev_token))
        assert response.status_code == 404, path
    assert upload(client, dev_token, b"{}", key="OTHER").status_code == 404


# --- findings --------------------------------------------------------------------------------


@pytest.mark.parametrize("statuses", ["", "open,verified"])
def test_findings_come_worst_first_in_pages_that_chain_without_gaps(
    client, acme, viewer_token, statuses
):
    # Statuses are read one by one along the column index and merged: spread the findings
    # over four of them, and severities so that pages end inside and between severities.
    spread = ["open", "claimed", "verified", "wont_fix"]
    for number in range(1, 15):
        finding = make_finding(acme, title=f"Problem {number}")
        Finding.objects.filter(pk=finding.pk).update(
            severity=1 + number % 3, status=spread[number * 7 % 4]
        )

    seen, url = [], "/api/v1/projects/ACME/findings?limit=3"
    if statuses:
        url += f"&status={statuses}"
    while url:
        page = client.get(url, **bearer(viewer_token)).json()
        seen += [(row["severity"], row["number"]) for row in page["results"]]
        url = page["next"]

    wanted = Finding.objects.all()
    if statuses:
        wanted = wanted.filter(status__in=statuses.split(","))
    expected = sorted(wanted.values_list("severity", "number"), key=lambda row: (row[0], -row[1]))
    names = {1: "critical", 2: "high", 3: "medium"}
    assert len(expected) == (14 if not statuses else 7)
    assert seen == [(names[s], n) for s, n in expected]


def test_findings_filter_by_status_severity_and_text(client, acme, viewer_token, developer):
    make_finding(acme, title="Use of eval")
    pickle = make_finding(acme, title="Unsafe pickle load")
    finding_transition(finding=pickle, event="claim", actor=developer)

    def keys(query: str) -> list[str]:
        response = client.get(f"/api/v1/projects/ACME/findings?{query}", **bearer(viewer_token))
        assert response.status_code == 200, response.content
        return [row["key"] for row in response.json()["results"]]

    assert keys("status=claimed") == [f"ACME-{pickle.number}"]
    assert keys("status=open,claimed&q=pickle") == [f"ACME-{pickle.number}"]
    assert keys("severity=low") == []
    assert len(keys("severity=high")) == 2


def test_the_finding_list_is_exactly_what_its_schema_declares(
    client, acme, viewer_token, developer
):
    # The list is rendered without pydantic's second pass (the rows are built field by
    # field): what it sends must still be the FindingPage the OpenAPI document promises.
    from ninja.renderers import JSONRenderer

    from findings.api.schemas import FindingPage

    finding = make_finding(acme, title="Use of eval")
    finding_transition(finding=finding, event="claim", actor=developer)
    make_finding(acme, title="Unsafe pickle load")
    response = client.get("/api/v1/projects/ACME/findings?limit=1", **bearer(viewer_token))

    assert response["Content-Type"] == "application/json; charset=utf-8"
    sent = response.json()
    assert set(sent["results"][0]) == set(
        FindingPage.model_fields["results"].annotation.__args__[0].model_fields
    )
    # What ninja sends for a validated FindingPage, byte for byte.
    validated = FindingPage.model_validate(sent).model_dump()
    assert JSONRenderer().render(None, validated, response_status=200) == response.content.decode()
    assert sent["next"].startswith("/api/v1/projects/ACME/findings?")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("status=fixed", "status: unknown fixed"),
        ("severity=urgent", "severity: unknown 'urgent'"),
        ("limit=0", "limit: 0 is out of range"),
        ("limit=abc", "limit"),
        ("after=2.x", "not a cursor"),
        ("q=ev%00al", "q: must not contain NUL"),
        ("path=src%00", "path: must not contain NUL"),
    ],
)
def test_bad_finding_queries_say_which_parameter(client, acme, viewer_token, query, words):
    response = client.get(f"/api/v1/projects/ACME/findings?{query}", **bearer(viewer_token))

    assert response.status_code == 400
    assert words in response.json()["detail"]


def test_one_finding_comes_with_its_timeline(client, acme, developer, viewer_token):
    finding = make_finding(acme, title="Use of eval")
    finding_transition(finding=finding, event="claim", actor=developer)

    body = client.get(f"/api/v1/projects/ACME/findings/{finding.number}", **bearer(viewer_token))

    data = body.json()
    assert data["key"] == f"ACME-{finding.number}" and data["status"] == "claimed"
    assert [(e["action"], e["actor"]) for e in data["events"]] == [("claim", "dana")]
    assert data["allowed_events"] == []  # a viewer may only read


def test_one_finding_says_what_the_scanner_said_of_it_and_of_its_rule(client, acme, viewer_token):
    finding = make_finding(acme, title="SQL injection")
    Finding.objects.filter(pk=finding.pk).update(extra={"baseline_state": "new"})
    Rule.objects.create(
        project=acme,
        tool=finding.tool,
        rule_id=finding.rule_id,
        details={"help_uri": "https://example.test/rule", "precision": "high"},
        updated_at=timezone.now(),
    )

    data = client.get(
        f"/api/v1/projects/ACME/findings/{finding.number}", **bearer(viewer_token)
    ).json()

    assert data["details"] == {"baseline_state": "new"}
    assert data["rule"] == {"help_uri": "https://example.test/rule", "precision": "high"}


def test_a_transition_through_the_api_is_recorded_for_the_tokens_creator(
    client, acme, dev_token, manager
):
    finding = make_finding(acme)
    url = f"/api/v1/projects/ACME/findings/{finding.number}/transition"

    claimed = client.post(
        url, {"event": "claim"}, content_type="application/json", **bearer(dev_token)
    )
    no_reason = client.post(
        url, {"event": "wont_fix"}, content_type="application/json", **bearer(dev_token)
    )
    sign_off = client.post(
        url, {"event": "sign_off"}, content_type="application/json", **bearer(dev_token)
    )
    illegal = client.post(
        url, {"event": "reopen"}, content_type="application/json", **bearer(dev_token)
    )
    verify = client.post(
        url, {"event": "verify"}, content_type="application/json", **bearer(dev_token)
    )

    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert Event.objects.get(finding=finding, action="claim").actor == manager
    assert no_reason.status_code == 400 and "needs a reason" in no_reason.json()["detail"]
    assert sign_off.status_code == 400 and "review" in sign_off.json()["detail"]
    assert illegal.status_code == 409 and "reopen" in illegal.json()["detail"]
    assert verify.status_code == 403 and "needs reviewer" in verify.json()["detail"]


def test_a_session_may_read_but_must_send_the_csrf_token_to_write(acme, developer):
    finding = make_finding(acme)
    session = Client(enforce_csrf_checks=True)
    session.force_login(developer)

    listing = session.get("/api/v1/projects/ACME/findings")
    forged = session.post(
        f"/api/v1/projects/ACME/findings/{finding.number}/transition",
        {"event": "claim"},
        content_type="application/json",
    )

    assert listing.status_code == 200
    assert forged.status_code == 403
    finding.refresh_from_db()
    assert finding.status == "open"


def test_the_openapi_schema_is_served_to_callers(client, viewer_token):
    schema = client.get("/api/v1/openapi.json", **bearer(viewer_token)).json()

    assert schema["openapi"].startswith("3.")
    assert "/api/v1/projects/{key}/reports" in schema["paths"]
    assert schema["components"]["securitySchemes"]


def test_tokens_never_reach_the_logs(client, dev_token, caplog, settings):
    settings.DEBUG = True
    with caplog.at_level(logging.DEBUG):
        client.get("/api/v1/projects", **bearer(dev_token))
        client.get("/api/v1/projects", HTTP_AUTHORIZATION=f"Token {dev_token}")
        upload(client, dev_token, b"not json")

    assert dev_token not in caplog.text
    assert dev_token[4:] not in json.dumps([r.getMessage() for r in caplog.records])


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_ci_upload_is_imported_by_the_real_worker(celery_worker_process, acme, manager):
    secret = token_create(project=acme, creator=manager, name="CI", role=Role.DEVELOPER).secret
    client = Client()

    accepted = client.post(
        "/api/v1/projects/ACME/reports", data={"file": BANDIT.open("rb")}, **bearer(secret)
    ).json()

    deadline = time.monotonic() + 60
    status = accepted
    while status["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.get(accepted["status_url"], **bearer(secret)).json()
    assert accepted["state"] in ("queued", "running", "done")
    assert status["state"] == "done", status
    assert status["counts"]["new"] == Finding.objects.filter(project=acme).count() > 0
    again = client.get(accepted["status_url"], **bearer(secret)).json()
    assert again["counts"] == status["counts"]


def test_a_session_lists_its_projects_with_its_role_in_each(acme, developer, owner, outsider):
    session = Client()
    session.force_login(developer)
    admin = Client()
    admin.force_login(owner)

    mine = session.get("/api/v1/projects").json()
    everything = admin.get("/api/v1/projects").json()

    assert [(p["key"], p["role"]) for p in mine] == [("ACME", "developer")]
    assert [(p["key"], p["role"]) for p in everything] == [
        ("ACME", "manager"),
        ("OTHER", "manager"),
    ]
    assert mine[0]["open_by_severity"] == {
        s: 0 for s in ("critical", "high", "medium", "low", "info")
    }


def test_a_token_made_on_the_command_line_is_printed_once_and_works(acme, manager, client):
    import io

    from django.core.management import CommandError, call_command

    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_token",
        "--project",
        "ACME",
        "--user",
        "mona",
        "--name",
        "CI",
        stdout=out,
        stderr=err,
    )
    secret = out.getvalue().strip()

    assert secret.startswith("adt_") and "shown once" in err.getvalue()
    assert client.get("/api/v1/projects", **bearer(secret)).status_code == 200
    with pytest.raises(CommandError, match="Only managers of ACME"):
        membership_set(project=acme, user=manager, role=Role.DEVELOPER)
        call_command("create_token", "--project", "ACME", "--user", "mona", "--name", "x")
    membership_set(project=acme, user=manager, role=Role.MANAGER)
    call_command(
        "create_token", "--project", "ACME", "--user", "mona", "--revoke", secret[:10], stdout=out
    )
    assert client.get("/api/v1/projects", **bearer(secret)).status_code == 401
