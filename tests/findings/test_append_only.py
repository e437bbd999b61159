"""Nobody edits or deletes an Event or a Review: not the ORM, not raw SQL, not the admin."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from findings.models import AppendOnlyError, Event, Finding, Report, Review
from findings.services import finding_transition, review_record
from tests.conftest import make_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(acme, developer, reviewer):
    """A finding with a claim Event and an approval Review."""
    finding = make_finding(acme)
    finding_transition(finding=finding, event="claim", actor=developer)
    review = review_record(finding=finding, reviewer=reviewer, verdict="approve", comment="ok")
    event = Event.objects.filter(finding=finding, action="claim").get()
    return {"finding": finding, "event": event, "review": review}


@pytest.mark.parametrize("kind", ["event", "review"])
def test_saving_a_changed_row_through_the_orm_is_refused(logged, kind):
    row = logged[kind]
    if kind == "event":
        row.note = "forged"
    else:
        row.comment = "forged"
    with pytest.raises(AppendOnlyError, match="append-only"):
        row.save()


@pytest.mark.parametrize("kind", ["event", "review"])
def test_deleting_a_row_through_the_orm_is_refused(logged, kind):
    with pytest.raises(AppendOnlyError):
        logged[kind].delete()


@pytest.mark.parametrize("model", [Event, Review])
def test_queryset_update_and_delete_are_refused(logged, model):
    with pytest.raises(AppendOnlyError):
        model.objects.all().update(created_at=timezone.now())
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        model.objects.bulk_update(list(model.objects.all()), ["created_at"])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE findings_event SET note = 'forged'",
        "DELETE FROM findings_event",
        "UPDATE findings_review SET verdict = 'reject'",
        "DELETE FROM findings_review",
    ],
)
def test_raw_sql_is_refused_by_the_database(logged, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert Event.objects.filter(pk=logged["event"].pk, note="").exists()
    assert Review.objects.get().verdict == "approve"


def test_deleting_a_project_with_history_is_refused_and_keeps_everything(logged, acme):
    events = Event.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        # Go under the model guards, as a cascade from a careless script would.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM findings_event WHERE project_id = %s", [acme.pk])
    with pytest.raises(Exception, match="protected|append-only"), transaction.atomic():
        acme.delete()
    assert Event.objects.count() == events
    assert Finding.objects.filter(pk=logged["finding"].pk).exists()


def test_deleting_a_report_cannot_blank_its_events(acme, developer):
    report = Report.objects.create(project=acme, sha256="b" * 64, filename="r.json")
    Event.objects.create(
        project=acme, report=report, action="report_queued", created_at=timezone.now()
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        report.delete()
    assert Event.objects.filter(report=report).count() == 1


def test_appending_still_works(logged, acme):
    Event.objects.create(project=acme, action="note", created_at=timezone.now())
    assert Event.objects.filter(action="note").count() == 1


@pytest.fixture
def admin_client_(client, owner):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    return client


@pytest.mark.parametrize("kind,model", [("event", "event"), ("review", "review")])
def test_the_admin_shows_events_and_reviews_but_cannot_change_or_delete_them(
    logged, admin_client_, kind, model
):
    row = logged[kind]
    base = f"/admin/findings/{model}/"
    assert admin_client_.get(base).status_code == 200
    view = admin_client_.get(f"{base}{row.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert admin_client_.post(f"{base}{row.pk}/change/", {"note": "x"}).status_code == 403
    assert admin_client_.get(f"{base}{row.pk}/delete/").status_code == 403
    assert admin_client_.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client_.get(f"{base}add/").status_code == 403
    bulk = admin_client_.post(
        base, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert type(row).objects.filter(pk=row.pk).exists()


def test_the_admin_cannot_delete_a_project(logged, admin_client_, acme):
    assert admin_client_.get(f"/admin/findings/project/{acme.pk}/delete/").status_code == 403
    assert acme.__class__.objects.filter(pk=acme.pk).exists()
