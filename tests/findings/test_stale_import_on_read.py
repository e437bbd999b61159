"""Reading an import never shows it running for good: the imports page, the report page (and
its polled row), the API's report and its list of reports each end a running import whose
heartbeat went silent, as the sweeper would, so a site without celery beat is covered too."""

from __future__ import annotations

import pytest

from findings.models import Event, Report, Role
from findings.services import token_create
from tests.findings.test_import_sweeper import STOPPED, left_by_a_worker

pytestmark = pytest.mark.django_db


def _failed_once(report: Report) -> Report:
    report.refresh_from_db()
    assert report.state == "failed" and report.finished_at is not None
    assert report.error.startswith(f"{report.filename}: {STOPPED}.")
    assert Event.objects.filter(report=report, action="report_failed").count() == 1
    return report


def test_the_imports_page_ends_a_silent_import_and_leaves_a_live_one(acme, viewer, client_for):
    from findings.services import project_get_or_create

    silent = left_by_a_worker(acme, state="running", silent_for=61)
    other, _ = project_get_or_create(key="OTHER")
    live = left_by_a_worker(other, state="running", silent_for=5)
    hidden, _ = project_get_or_create(key="HIDDEN")
    unseen = left_by_a_worker(hidden, state="running", silent_for=600)

    page = client_for(viewer).get("/imports/")

    assert page.status_code == 200
    assert STOPPED in page.content.decode()
    _failed_once(silent)
    assert Report.objects.get(pk=live.pk).state == "running"
    # The viewer's page speaks only for the projects they may see; the sweeper does the rest.
    assert Report.objects.get(pk=unseen.pk).state == "running"
    client_for(viewer).get("/imports/")
    _failed_once(silent)


def test_the_report_page_and_its_polled_row_end_a_silent_import(acme, viewer, client_for):
    page_read = left_by_a_worker(acme, state="running", silent_for=120)
    from findings.services import project_get_or_create

    polled_project, _ = project_get_or_create(key="POLL")
    polled = left_by_a_worker(polled_project, state="running", silent_for=120)
    from findings.services import membership_set

    membership_set(project=polled_project, user=viewer, role=Role.VIEWER)
    client = client_for(viewer)

    page = client.get(f"/imports/{page_read.pk}/")
    row = client.get(f"/imports/{polled.pk}/", HTTP_HX_REQUEST="true")

    assert page.status_code == 200 and STOPPED in page.content.decode()
    assert row.status_code == 286  # htmx stops polling: the import has ended
    assert STOPPED in row.content.decode()
    _failed_once(page_read)
    _failed_once(polled)


def test_a_live_import_still_reads_running_on_its_page(acme, viewer, client_for):
    live = left_by_a_worker(acme, state="running", silent_for=3, progress=40)

    row = client_for(viewer).get(f"/imports/{live.pk}/", HTTP_HX_REQUEST="true")

    assert row.status_code == 200  # polling goes on
    assert Report.objects.get(pk=live.pk).state == "running"


def test_the_api_report_and_report_list_end_a_silent_import(acme, manager, client):
    secret = token_create(project=acme, creator=manager, name="CI", role=Role.VIEWER).secret
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    one = left_by_a_worker(acme, state="running", silent_for=61)

    answer = client.get(f"/api/v1/reports/{one.pk}", **auth)

    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "failed" and STOPPED in body["error"]
    _failed_once(one)

    listed = left_by_a_worker(acme, state="running", silent_for=61)  # a failed one blocks nothing
    page = client.get("/api/v1/projects/ACME/reports", **auth)

    assert page.status_code == 200
    rows = {row["id"]: row for row in page.json()["results"]}
    assert rows[listed.pk]["state"] == "failed" and STOPPED in rows[listed.pk]["error"]
    _failed_once(listed)


def test_the_api_ends_nothing_for_a_caller_who_may_not_see_the_report(acme, outsider, client_for):
    silent = left_by_a_worker(acme, state="running", silent_for=61)

    answer = client_for(outsider).get(f"/api/v1/reports/{silent.pk}")

    assert answer.status_code == 404
    assert Report.objects.get(pk=silent.pk).state == "running"
