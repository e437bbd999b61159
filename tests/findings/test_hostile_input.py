"""Hostile reports through every entry point (``manage.py ingest``, the Imports page, the API):
each is refused with a message naming the file and the place, in bounded time and memory,
and writes nothing."""

from __future__ import annotations

import gzip
import json
import random
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from findings.models import Event, Finding, Report, Role
from findings.services import token_create

pytestmark = pytest.mark.django_db

SARIF_HEAD = '{"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", '


@pytest.fixture
def client(django_capture_on_commit_callbacks):
    """Uploads are imported before the response returns (they are queued on commit)."""

    class Committing(Client):
        def request(self, **request):
            with django_capture_on_commit_callbacks(execute=True):
                return super().request(**request)

    return Committing()


def _files(folder) -> set[Path]:
    return {p for p in Path(folder).rglob("*") if p.is_file()}


@pytest.fixture
def entry(client, acme, manager, tmp_path, settings):
    """``entry(kind, name, data, fmt="")``: the refusal a user reads for one upload, through
    ``cli``, ``web`` or ``api``; asserts that nothing was written."""
    settings.DATA_DIR = tmp_path / "data"
    secret = token_create(project=acme, creator=manager, name="CI", role=Role.DEVELOPER).secret
    web = Client()
    web.force_login(manager)

    def refusal(kind: str, name: str, data: bytes, fmt: str = "") -> str:
        findings, events = Finding.objects.count(), _finding_events()
        kept = _files(settings.DATA_DIR)
        if kind == "cli":
            path = tmp_path / name
            path.write_bytes(data)
            err = StringIO()
            with pytest.raises(CommandError):
                call_command("ingest", str(path), project="ACME", report_format=fmt, stderr=err)
            message = err.getvalue()
        elif kind == "api":
            query = f"?filename={name}" + (f"&format={fmt}" if fmt else "")
            response = client.post(
                f"/api/v1/projects/ACME/reports{query}",
                data=data,
                content_type="application/octet-stream",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )
            if response.status_code == 202:
                report = Report.objects.get(pk=response.json()["id"])
                assert report.state == Report.State.FAILED, report.note
                message = report.error
            else:
                assert response.status_code in (400, 413), response.content
                message = response.json()["detail"]
        else:
            with_commit = client if kind == "web" else web
            with_commit.force_login(manager)
            page = with_commit.post(
                "/imports/",
                {"project": "ACME", "files": [SimpleUploadedFile(name, data)], "format": fmt},
                follow=True,
            )
            shown = [str(m) for m in page.context["messages"]]
            failed = Report.objects.filter(state=Report.State.FAILED).order_by("-pk").first()
            queued = [m for m in shown if "queued as report" in m]
            assert not queued or failed is not None, shown
            message = failed.error if queued else " ".join(shown)
        assert Finding.objects.count() == findings and _finding_events() == events
        assert _files(settings.DATA_DIR) == kept  # no upload or report copy left behind
        assert not Report.objects.filter(state=Report.State.DONE, filename=name).exists()
        return message

    return refusal


ENTRIES = ("cli", "web", "api")


def _finding_events() -> int:
    """Events about anything but the upload itself (a queued upload's report is accepted,
    then marked failed: those two are the record of the refusal)."""
    return Event.objects.exclude(action__startswith="report_").count()


def deep(levels: int, *, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * levels + closer * levels


def sarif_with_bag(bag: bytes) -> bytes:
    return (
        SARIF_HEAD.encode()
        + b'"runs": [{"tool": {"driver": {"name": "probe"}}, "results": [{"ruleId": "r1", '
        + b'"message": {"text": "m"}, "properties": {"deep": '
        + bag
        + b"}}]}]}"
    )


def bandit_with_bag(bag: bytes) -> bytes:
    return (
        b'{"results": [{"test_id": "B101", "issue_severity": "LOW", "issue_confidence": "HIGH", '
        b'"filename": "a.py", "line_number": 1, "issue_text": "assert", "more": ' + bag + b"}]}"
    )


@pytest.mark.parametrize("kind", ENTRIES)
@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("lists.json", deep(100_000), ""),
        ("objects.json", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, ""),
        ("objects-forced.json", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "bandit"),
        ("bag.sarif", sarif_with_bag(deep(100_000)), ""),
        ("bag.json", bandit_with_bag(deep(100_000)), ""),
    ],
)
def test_json_nested_a_hundred_thousand_deep_is_refused_quickly_saying_so(
    entry, kind, name, data, fmt
):
    started = time.perf_counter()

    message = entry(kind, name, data, fmt)

    assert name in message and "levels deep" in message, message
    assert "byte" in message
    assert time.perf_counter() - started < 20


@pytest.mark.parametrize("kind", ENTRIES)
def test_a_sarif_log_with_runs_twice_is_refused_naming_the_key(entry, kind):
    run = '{"tool": {"driver": {"name": "probe"}}, "results": []}'
    data = f'{SARIF_HEAD}"runs": [{run}], "runs": [{run}, {run}]}}'.encode()

    message = entry(kind, "twice.sarif", data)

    assert "twice.sarif" in message and '"runs" twice' in message, message


def _gzip_bodies() -> list[tuple[str, bytes]]:
    rng = random.Random(7)
    words = "".join(rng.choice("abcdefgh") for _ in range(300_000))
    report = json.dumps({"results": [], "errors": [], "padding": words}).encode()
    # mtime=0: the same bytes in every pytest-xdist worker, which each collect the tests
    # (a short body's bytes become its test id).
    packed = gzip.compress(report, mtime=0)
    return [
        ("one-byte", packed + b"x"),
        ("second-member", packed + gzip.compress(b"[]", mtime=0)),
        ("zeros", packed + b"\0" * 100_000),
        ("small", gzip.compress(b"[]", mtime=0) + b"tail"),
    ]


@pytest.mark.parametrize("kind", ("web", "api"))
@pytest.mark.parametrize(("label", "body"), _gzip_bodies())
def test_gzip_followed_by_trailing_bytes_is_refused_at_once(entry, kind, label, body):
    started = time.perf_counter()

    message = entry(kind, f"{label}.json.gz", body)

    assert time.perf_counter() - started < 10
    assert f"{label}.json.gz" in message and "after the end of its gzip stream" in message
    assert "byte " in message


# --- reports that name no tool ---------------------------------------------------------------

GITLEAKS_LEAK = [
    {
        "Description": "AWS access key",
        "StartLine": 3,
        "EndLine": 3,
        "StartColumn": 1,
        "EndColumn": 20,
        "Match": "key = AKIAABCDEFGHIJKLMNOP",
        "Secret": "AKIAABCDEFGHIJKLMNOP",
        "File": "settings.py",
        "RuleID": "aws-access-token",
        "Fingerprint": "settings.py:aws-access-token:3",
    }
]


def _open_gitleaks_finding(tmp_path) -> Finding:
    from findings.services.ingest import ingest_file

    path = tmp_path / "leaks.json"
    path.write_text(json.dumps(GITLEAKS_LEAK))
    ingest_file(path, project_key="ACME")
    return Finding.objects.get(tool="gitleaks")


@pytest.mark.parametrize("kind", ENTRIES)
@pytest.mark.parametrize(
    ("body", "fmt"), [(b"null", "gitleaks"), (b"[]", "pip_audit"), (b" [ ]\n", "pip_audit")]
)
def test_a_report_that_names_no_tool_is_refused_and_closes_nothing(
    entry, tmp_path, kind, body, fmt
):
    leak = _open_gitleaks_finding(tmp_path)

    message = entry(kind, "nothing.json", body)

    assert "nothing.json" in message and "names no tool" in message, message
    assert f"--format {fmt}" in message
    leak.refresh_from_db()
    assert leak.status == "open"


def test_an_empty_semgrep_shaped_report_names_no_tool_either(entry):
    message = entry("api", "empty.json", b'{"results": [], "errors": []}')

    assert "names no tool" in message and "--format semgrep" in message


@pytest.mark.parametrize("kind", ENTRIES)
def test_null_with_its_format_given_is_gitleaks_saying_it_found_nothing(
    client, acme, manager, tmp_path, kind
):
    leak = _open_gitleaks_finding(tmp_path)
    path = tmp_path / "none.json"
    path.write_bytes(b"null")

    if kind == "cli":
        call_command("ingest", str(path), project="ACME", report_format="gitleaks")
    elif kind == "web":
        client.force_login(manager)
        client.post(
            "/imports/",
            {
                "project": "ACME",
                "files": [SimpleUploadedFile("none.json", b"null")],
                "format": "gitleaks",
            },
        )
    else:
        secret = token_create(project=acme, creator=manager, name="CI", role=Role.DEVELOPER)
        client.post(
            "/api/v1/projects/ACME/reports?format=gitleaks",
            data=b"null",
            content_type="application/octet-stream",
            HTTP_AUTHORIZATION=f"Bearer {secret.secret}",
        )

    leak.refresh_from_db()
    assert leak.status == "verified"


@pytest.mark.parametrize("kind", ENTRIES)
def test_a_nul_inside_a_markdown_document_is_named_with_its_byte(entry, kind):
    text = b"# Handoff\n\nFix 1: the login form escapes its input.\n"
    data = text + b"Fix 2: \x00 the search page.\n"

    message = entry(kind, "handoff.md", data)

    assert "handoff.md" in message and f"byte {len(text) + 7}" in message, message
    assert "NUL" in message and "unknown report format" not in message
