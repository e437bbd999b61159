"""Who sees and does what: each persona against each page and action, and no leaks."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from findings import access
from findings.models import Claim, Event, Finding, FindingLink, Membership, Project, Report, Role
from findings.selectors.metrics import project_overview
from tests.conftest import make_document, make_finding

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "outsider", "viewer", "developer", "reviewer", "manager", "owner"]


@pytest.fixture
def world(acme, request, client_for):
    """ACME with a finding of each kind of interest, a scan report, a document and a link;
    and a client for every persona (owner is a site admin)."""
    users = {name: request.getfixturevalue(name) for name in PERSONAS[1:]}
    open_finding = make_finding(acme, title="Open eval")
    claimed = make_finding(acme, status="claimed", title="Claimed fix")
    scan = Report.objects.create(
        project=acme, sha256="a" * 64, filename="bandit.json", state=Report.State.DONE
    )
    document = make_document(acme)
    claim = Claim.objects.create(
        project=acme,
        report=document,
        first_report=document,
        finding=claimed,
        document_identity="handoff",
        claim_key="claimed fix",
        key="F1",
        title="Claimed fix",
        status=Claim.Status.FIXED,
    )
    link = FindingLink.objects.create(claim=claim, finding=open_finding, score=80, reason="same")
    clients = {name: client_for(user) for name, user in users.items()}
    clients["anonymous"] = Client()
    return {
        "clients": clients,
        "open": open_finding,
        "claimed": claimed,
        "scan": scan,
        "document": document,
        "link": link,
    }


def _expect(persona: str, allowed: set[str], *, ok: int = 200) -> int:
    if persona == "anonymous":
        return 302
    if persona == "outsider":
        return 404
    return ok if persona in allowed else 403


READERS = {"viewer", "developer", "reviewer", "manager", "owner"}
DEVELOPERS = {"developer", "reviewer", "manager", "owner"}
REVIEWERS = {"reviewer", "manager", "owner"}
MANAGERS = {"manager", "owner"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "page",
    ["board", "detail", "report", "document", "members", "health", "roadmap", "sprints"],
)
def test_each_persona_gets_each_page_as_its_role_allows(world, persona, page):
    urls = {
        "board": "/p/ACME/",
        "detail": f"/p/ACME/findings/{world['open'].number}/",
        "report": f"/imports/{world['scan'].pk}/",
        "document": f"/imports/{world['document'].pk}/document/",
        "members": "/p/ACME/members/",
        "health": "/p/ACME/health/",
        "roadmap": "/p/ACME/roadmap/",
        "sprints": "/p/ACME/sprints/",
    }
    allowed = MANAGERS if page == "members" else READERS
    response = world["clients"][persona].get(urls[page])
    assert response.status_code == _expect(persona, allowed)


@pytest.mark.parametrize("persona", PERSONAS)
def test_triage_needs_a_developer(world, persona):
    finding = world["open"]
    response = world["clients"][persona].post(
        f"/p/ACME/findings/{finding.number}/transition/",
        {"event": "accept_risk", "reason": "behind the VPN until Q3"},
    )
    assert response.status_code == _expect(persona, DEVELOPERS, ok=302)
    finding.refresh_from_db()
    expected = "accepted_risk" if persona in DEVELOPERS else "open"
    assert finding.status == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_sign_off_needs_a_reviewer(world, persona):
    finding = world["claimed"]
    response = world["clients"][persona].post(
        f"/p/ACME/findings/{finding.number}/review/", {"verdict": "approve", "comment": "ok"}
    )
    assert response.status_code == _expect(persona, REVIEWERS, ok=302)
    finding.refresh_from_db()
    assert finding.status == ("signed_off" if persona in REVIEWERS else "claimed")


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_managers_change_members(world, persona, viewer):
    response = world["clients"][persona].post(
        "/p/ACME/members/", {"username": viewer.username, "role": "reviewer"}
    )
    assert response.status_code == _expect(persona, MANAGERS, ok=302)
    role = Membership.objects.get(project__key="ACME", user=viewer).role
    assert role == (Role.REVIEWER if persona in MANAGERS else Role.VIEWER)


@pytest.mark.parametrize("persona", PERSONAS)
def test_confirming_a_link_needs_a_developer(world, persona):
    link = world["link"]
    response = world["clients"][persona].post(f"/links/{link.pk}/confirm/")
    assert response.status_code == _expect(persona, DEVELOPERS, ok=302)
    link.refresh_from_db()
    assert link.state == ("confirmed" if persona in DEVELOPERS else "suggested")


def test_a_viewer_is_not_offered_actions_and_a_developer_is_not_offered_sign_off(world):
    number = world["claimed"].number
    as_viewer = world["clients"]["viewer"].get(f"/p/ACME/findings/{number}/").content.decode()
    assert "Nothing you can change here as viewer" in as_viewer
    assert "Record review" not in as_viewer
    as_dev = world["clients"]["developer"].get(f"/p/ACME/findings/{number}/").content.decode()
    assert "Change status" in as_dev and "Record review" not in as_dev
    as_reviewer = world["clients"]["reviewer"].get(f"/p/ACME/findings/{number}/")
    assert "Record review" in as_reviewer.content.decode()


def test_a_developer_cannot_sign_off_through_the_transition_form(world):
    finding = world["claimed"]
    response = world["clients"]["developer"].post(
        f"/p/ACME/findings/{finding.number}/transition/", {"event": "sign_off"}, follow=True
    )
    finding.refresh_from_db()
    assert finding.status == "claimed"
    assert "Select a valid choice" in response.content.decode()


def test_a_reason_is_required_to_mark_a_false_positive(world):
    finding = world["open"]
    response = world["clients"]["developer"].post(
        f"/p/ACME/findings/{finding.number}/transition/",
        {"event": "mark_false_positive", "reason": "  "},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="finding-actions"' in page
    assert "needs a reason" in page
    finding.refresh_from_db()
    assert finding.status == "open"


def test_a_transition_through_htmx_returns_the_panel_and_announces_the_change(world):
    finding = world["open"]
    response = world["clients"]["developer"].post(
        f"/p/ACME/findings/{finding.number}/transition/",
        {"event": "wont_fix", "reason": "legacy module, removed next quarter"},
        HTTP_HX_REQUEST="true",
    )
    assert "finding-changed" in response["HX-Trigger"]
    assert "<html" not in response.content.decode()
    event = Event.objects.get(finding=finding, action="wont_fix")
    assert event.actor.username == "dana" and event.note.startswith("legacy module")


def test_an_outsider_sees_no_trace_of_another_project(world):
    outsider = world["clients"]["outsider"]
    overview = outsider.get("/").content.decode()
    assert "ACME" not in overview and "OTHER" in overview
    imports = outsider.get("/imports/").content.decode()
    assert "bandit.json" not in imports and "handoff.md" not in imports
    assert outsider.get("/p/ACME/?q=eval").status_code == 404
    assert outsider.get("/p/ACME/", HTTP_HX_REQUEST="true").status_code == 404
    assert outsider.get(f"/imports/{world['scan'].pk}/", HTTP_HX_REQUEST="true").status_code == 404


def test_a_missing_project_and_a_hidden_one_look_the_same(world):
    outsider = world["clients"]["outsider"]
    hidden = outsider.get("/p/ACME/")
    missing = outsider.get("/p/NOPE/")
    assert hidden.status_code == missing.status_code == 404
    hidden_finding = outsider.get(f"/p/ACME/findings/{world['open'].number}/")
    assert hidden_finding.status_code == 404
    assert outsider.post(f"/links/{world['link'].pk}/undo/").status_code == 404


def test_counts_only_cover_the_projects_a_user_may_see(world, outsider):
    from findings.services import project_get_or_create

    other, _ = project_get_or_create(key="OTHER")
    make_finding(other, title="Other project's only finding")
    rows = {
        row["project"].key: row for row in project_overview(projects=access.projects_for(outsider))
    }
    assert list(rows) == ["OTHER"]


def test_a_developer_uploads_into_their_project_but_cannot_create_one(world, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    developer = world["clients"]["developer"]
    upload = SimpleUploadedFile("empty.json", b"[]")
    page = developer.post("/imports/", {"project": "NEWKEY", "files": [upload]}, follow=True)
    assert "There is no project NEWKEY you may upload to" in page.content.decode()
    upload = SimpleUploadedFile("empty.json", b"[]")
    page = developer.post("/imports/", {"project": "ACME", "files": [upload]}, follow=True)
    assert "queued as report" in page.content.decode()
    viewer = world["clients"]["viewer"]
    upload = SimpleUploadedFile("other.json", b"null")
    page = viewer.post("/imports/", {"project": "ACME", "files": [upload]}, follow=True)
    assert "Your role in ACME is viewer; uploading needs developer." in page.content.decode()
    assert not Report.objects.filter(filename="other.json").exists()


def test_a_refused_new_key_is_said_beside_the_key_and_everything_typed_is_kept(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("empty.json", b"[]")
    page = world["clients"]["developer"].post(
        "/imports/", {"project": "NEWKEY", "files": [upload], "branch": "release-2"}
    )

    assert page.status_code == 403
    html = page.content.decode()
    assert 'name="project" value="NEWKEY"' in html and 'value="release-2"' in html
    assert "There is no project NEWKEY you may upload to; a site admin creates projects." in html
    assert not Project.objects.filter(key="NEWKEY").exists()


def test_an_outsider_uploading_to_a_hidden_key_learns_nothing(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.json", b"[]")
    page = world["clients"]["outsider"].post(
        "/imports/", {"project": "ACME", "files": [upload]}, follow=True
    )
    assert "There is no project ACME you may upload to" in page.content.decode()
    assert not Report.objects.filter(filename="x.json").exists()


def test_require_answers_404_for_hidden_and_403_for_too_low(world, viewer, outsider, acme):
    assert access.require(viewer, "ACME", Role.VIEWER) == acme
    with pytest.raises(PermissionDenied, match="is viewer; this needs reviewer"):
        access.require(viewer, acme, Role.REVIEWER)
    with pytest.raises(Http404):
        access.require(outsider, "ACME")
    with pytest.raises(Http404):
        access.require(viewer, "NOPE")


def test_a_deactivated_member_loses_every_right(world, manager, acme):
    manager.is_active = False
    manager.save()
    assert access.role_for(manager, acme) is None
    assert not access.projects_for(manager).exists()


def test_site_admins_act_as_managers_everywhere_without_a_membership(world, owner, acme):
    assert access.role_for(owner, acme) == Role.MANAGER
    assert not Membership.objects.filter(user=owner).exists()
    assert access.can_create_projects(owner)


def test_changing_a_role_is_recorded_in_the_audit_log(world, viewer):
    world["clients"]["manager"].post(
        "/p/ACME/members/", {"username": viewer.username, "role": "developer"}
    )
    event = Event.objects.filter(action="member_role", note="vic").latest("id")
    assert (event.before, event.after, event.actor.username) == ("viewer", "developer", "mona")
    world["clients"]["manager"].post(
        "/p/ACME/members/", {"username": viewer.username, "role": "viewer", "remove": "1"}
    )
    assert not Membership.objects.filter(user=viewer).exists()
    assert Event.objects.filter(action="member_removed", note="vic").exists()


def test_logout_is_post_only(world):
    client = world["clients"]["viewer"]
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_finding_number_of_another_project_is_not_reachable_through_a_visible_one(world):
    from findings.services import project_get_or_create

    other, _ = project_get_or_create(key="OTHER")
    hidden = make_finding(other, title="Secret", number=99)
    client = world["clients"]["viewer"]
    assert client.get(f"/p/ACME/findings/{hidden.number}/").status_code == 404
    assert Finding.objects.filter(number=99, project__key="ACME").count() == 0
