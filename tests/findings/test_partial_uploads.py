"""Partial scans offered where people and CI upload: the Imports form and the API take the
paths a scan covered, refuse paths that cannot name a part of the repository, and the
import really is partial: findings elsewhere stay open, "not seen since"."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from findings.models import Finding, Report, Role
from findings.services import token_create
from tests.conftest import sarif_log

pytestmark = pytest.mark.django_db


def sarif(*places: tuple[str, str]) -> bytes:
    return sarif_log("py/eval", "eval of input", list(places))


BEFORE = sarif(("src/api/views.py", "eval(request.body)"), ("lib/util.py", "eval(text)"))
# A rescan of src alone: the api finding again, and nothing from lib, which it did not read.
SRC_ONLY = sarif(("src/api/views.py", "eval(request.body)"))


@pytest.fixture
def ci(client, acme, manager, django_capture_on_commit_callbacks):
    """Uploads through the API as CI does, each imported before the answer returns."""
    secret = token_create(project=acme, creator=manager, name="CI", role=Role.DEVELOPER).secret

    def send(body: bytes, query: str = ""):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/api/v1/projects/ACME/reports{query}",
                data=body,
                content_type="application/octet-stream",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )

    return send


def _status(path: str) -> str:
    return Finding.objects.get(path=path).status


@pytest.mark.parametrize(
    ("query", "lib_status", "fixed"),
    [("?only=src", "open", 0), ("?only=src/api/&only=docs", "open", 0), ("", "verified", 1)],
)
def test_a_ci_upload_of_a_partial_scan_keeps_findings_elsewhere_open(ci, query, lib_status, fixed):
    assert ci(BEFORE).status_code == 202

    response = ci(SRC_ONLY, query)

    assert response.status_code == 202, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert report.state == "done" and report.fixed == fixed and report.still_open == 1
    assert _status("lib/util.py") == lib_status
    assert _status("src/api/views.py") == "open"
    if query:
        assert "the scan covered only src" in report.note
        assert report.options["only"] in ("src", "src/api\ndocs")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?only=/home/ci/src", "'/home/ci/src' is absolute: give it relative to the repository"),
        ("?only=C:%5Cwork%5Csrc", "'C:/work/src' is absolute"),
        ("?only=src/../../etc", "goes up with '..'"),
        ("?only=" + "a" * 1001, "at most 1000 characters a path"),
        ("?" + "&".join(f"only=p{n}" for n in range(101)), "101 paths: at most 100"),
        ("?only=src%0Alib%01", "control characters"),
    ],
)
def test_a_ci_upload_with_paths_outside_the_repository_is_refused_saying_why(ci, query, words):
    response = ci(SRC_ONLY, query)

    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert detail.startswith("only: ") and words in detail
    assert not Report.objects.exists()


def test_the_api_documents_the_partial_scan_parameter(owner_client):
    schema = owner_client.get("/api/v1/openapi.json").json()
    upload = schema["paths"]["/api/v1/projects/{key}/reports"]["post"]
    only = next(p for p in upload["parameters"] if p["name"] == "only")

    assert only["in"] == "query" and '"type": "array"' in json.dumps(only["schema"])
    assert "not seen since" in only["description"]


def _upload(client: Client, body: bytes, name: str, only: str, capture):
    data = {"project": "web", "files": [SimpleUploadedFile(name, body)], "only": only}
    with capture(execute=True):
        return client.post(reverse("findings:imports"), data)


def test_the_upload_form_imports_a_partial_scan_and_the_finding_says_not_seen_since(
    owner_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    _upload(owner_client, BEFORE, "before.sarif", "", capture)

    response = _upload(owner_client, SRC_ONLY, "src.sarif", " src/ \n\n", capture)

    assert response.status_code == 302
    report = Report.objects.get(filename="src.sarif")
    assert report.fixed == 0 and report.options["only"] == "src"
    kept = Finding.objects.get(path="lib/util.py")
    assert kept.status == "open"
    page = owner_client.get(reverse("findings:detail", args=["WEB", kept.number])).content
    assert b"not seen since" in page


@pytest.mark.parametrize(
    ("only", "words"),
    [
        ("/srv/app/src", "is absolute: give it relative to the repository root"),
        ("src\n../secrets", "goes up with &#x27;..&#x27;"),
        ("\n".join(f"dir{n}" for n in range(150)), "150 paths: at most 100"),
    ],
)
def test_the_upload_form_refuses_bad_paths_beside_the_field_and_imports_nothing(
    owner_client, django_capture_on_commit_callbacks, only, words
):
    response = _upload(
        owner_client, SRC_ONLY, "src.sarif", only, django_capture_on_commit_callbacks
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert words in page
    # The field is shown open with what was typed, so it can be corrected.
    assert "<details open>" in page and 'name="only"' in page
    assert not Report.objects.exists()
