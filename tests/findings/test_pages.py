"""The pages as a signed-in user sees them, through Django's test client."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from findings.models import Finding, Project, Report
from findings.services.ingest import Options, ingest_file
from tests.conftest import run_tool

pytestmark = pytest.mark.django_db

VULNERABLE = """import subprocess


def run(command):
    return subprocess.call(command, shell=True)


def calculate(expression):
    return eval(expression)
"""


@pytest.fixture
def bandit_report(tmp_path) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(VULNERABLE)
    report = tmp_path / "bandit.json"
    report.write_text(run_tool("bandit", "-q", "-r", ".", "-f", "json", cwd=source))
    return report


@pytest.fixture
def lily(bandit_report) -> Project:
    ingest_file(bandit_report, project_key="LILY", options=Options(commit="a" * 40))
    return Project.objects.get(key="LILY")


@pytest.mark.parametrize(
    "url",
    ["/", "/imports/", "/p/LILY/", "/p/LILY/findings/1/", "/imports/1/"],
)
def test_every_page_asks_an_anonymous_visitor_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_overview_shows_open_findings_per_project_by_severity(owner_client, lily):
    page = owner_client.get("/").content.decode()
    assert "LILY" in page
    high = Finding.objects.filter(project=lily, severity=2).count()
    assert high >= 1
    assert f'<td class="num sev-cell-high">{high}</td>' in page


def test_an_empty_install_tells_the_user_what_to_do_next(owner_client):
    page = owner_client.get("/").content.decode()
    assert "No projects yet" in page and "Upload a report" in page


def test_the_board_counts_findings_by_severity_and_status(owner_client, lily):
    page = owner_client.get("/p/LILY/").content.decode()
    total = Finding.objects.filter(project=lily).count()
    assert f"{total} findings on the board" in page
    assert "LILY-1" in page


def test_board_filters_return_only_the_columns_for_htmx(owner_client, lily):
    response = owner_client.get("/p/LILY/?severity=high", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and 'id="board-columns"' in page
    highs = Finding.objects.filter(project=lily, severity=2)
    assert f"{highs.count()} finding" in page
    for finding in Finding.objects.filter(project=lily).exclude(severity=2):
        assert f'id="card-{finding.number}"' not in page
    assert "HX-Request" in response["Vary"]


def test_a_filter_with_no_match_says_so(owner_client, lily):
    page = owner_client.get("/p/LILY/?q=no-such-thing-anywhere").content.decode()
    assert "0 findings match these filters" in page


def test_an_unknown_project_is_not_found(owner_client):
    assert owner_client.get("/p/NOPE/").status_code == 404


def test_finding_detail_shows_its_timeline_and_code(owner_client, lily):
    finding = Finding.objects.get(project=lily, rule_id="B307")
    page = owner_client.get(f"/p/LILY/findings/{finding.number}/").content.decode()
    assert finding.title in page
    assert "first reported" in page
    assert "eval(expression)" in page


def test_uploading_a_report_imports_it_and_the_history_shows_the_counts(
    owner_client, bandit_report, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("bandit.json", bandit_report.read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("findings:imports"), {"project": "web", "files": [upload]})
    response = owner_client.get(reverse("findings:imports"))
    page = response.content.decode()
    report = Report.objects.get()
    assert report.state == "done" and report.project.key == "WEB"
    assert f"queued as report #{report.pk}" in page
    assert f'<td class="num">{report.new}</td>' in page
    assert report.new == Finding.objects.filter(project__key="WEB").count() > 0


def test_uploading_the_same_bytes_twice_says_it_changed_nothing(
    owner_client, bandit_report, django_capture_on_commit_callbacks
):
    for _ in range(2):
        upload = SimpleUploadedFile("bandit.json", bandit_report.read_bytes())
        with django_capture_on_commit_callbacks(execute=True):  # the first import runs
            response = owner_client.post(
                reverse("findings:imports"), {"project": "WEB", "files": [upload]}, follow=True
            )
    assert "already imported as report" in response.content.decode()
    assert Report.objects.count() == 1


def test_a_document_can_be_uploaded_as_a_document_by_choosing_it(
    owner_client, django_capture_on_commit_callbacks
):
    page = owner_client.get(reverse("findings:imports")).content.decode()
    assert "remediation document (Markdown)" in page
    text = b"# Fix report\n\n## Fix 1: SQL injection in `api.py` line 45\n\n**Status:** FIXED\n"
    upload = SimpleUploadedFile("handoff.txt", text)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("findings:imports"),
            {"project": "WEB", "format": "markdown", "files": [upload]},
        )
    report = Report.objects.get()
    assert (report.state, report.kind, report.format) == ("done", "document", "markdown")


def test_a_broken_upload_is_kept_as_a_failed_import_with_its_reason(
    owner_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("broken.sarif", b'{"version": "2.1.0", "runs": [')
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("findings:imports"), {"project": "WEB", "files": [upload]})
    response = owner_client.get(reverse("findings:imports"))
    report = Report.objects.get()
    assert report.state == "failed"
    assert "broken.sarif" in report.error
    assert "broken.sarif" in response.content.decode()
    assert Finding.objects.count() == 0


def test_polling_a_finished_report_stops_the_polling(owner_client, lily):
    report = Report.objects.get(project=lily)
    response = owner_client.get(f"/imports/{report.pk}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert f'id="report-{report.pk}"' in response.content.decode()


def _recount(project):
    from django.db.models import Count

    return {
        (row["severity"], row["status"]): row["n"]
        for row in Finding.objects.filter(project=project)
        .values("severity", "status")
        .annotate(n=Count("id"))
    }


def test_the_status_summary_matches_the_findings_after_imports_and_transitions(lily, owner):
    from findings.models import StatusCount
    from findings.services import finding_transition

    def summary():
        return {
            (c.severity, c.status): c.n for c in StatusCount.objects.filter(project=lily) if c.n
        }

    assert summary() == _recount(lily)
    finding = Finding.objects.filter(project=lily).first()
    finding_transition(finding=finding, event="wont_fix", actor=owner, reason="legacy code")
    assert summary() == _recount(lily)


def test_the_board_lists_worst_first_then_newest(owner_client, lily):
    page = owner_client.get("/p/LILY/").content.decode()
    ordered = list(Finding.objects.filter(project=lily).order_by("severity", "-number"))
    positions = [page.index(f'id="card-{f.number}"') for f in ordered]
    assert positions == sorted(positions)
