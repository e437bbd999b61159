"""The account commands: create_user (password never on the command line) and set_role."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from findings import access
from findings.models import Event, Membership, Project, Role

pytestmark = pytest.mark.django_db


def _create_user(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("create_user", *args, stdout=out)
    finally:
        sys.stdin = saved
    return out.getvalue()


def test_create_user_reads_the_password_from_stdin_and_the_user_can_sign_in(client):
    output = _create_user(
        "nina",
        "--email",
        "nina@example.com",
        "--password-stdin",
        stdin="a-long-unusual-passphrase\n",
    )
    assert output.strip() == "Created user nina."
    user = get_user_model().objects.get(username="nina")
    assert user.email == "nina@example.com" and not user.is_superuser
    response = client.post(
        "/accounts/login/", {"username": "nina", "password": "a-long-unusual-passphrase"}
    )
    assert response.status_code == 302


def test_create_user_makes_a_site_admin_on_request():
    _create_user("root2", "--superuser", "--password-stdin", stdin="another-long-passphrase\n")
    assert access.is_site_admin(get_user_model().objects.get(username="root2"))


def test_create_user_has_no_password_argument_and_refuses_weak_or_missing_ones():
    with pytest.raises(CommandError, match="unrecognized arguments"):
        _create_user("eve", "--password", "hunter2hunter2")
    with pytest.raises(CommandError, match="the password is refused"):
        _create_user("eve", "--password-stdin", stdin="password\n")
    with pytest.raises(CommandError, match="held no password"):
        _create_user("eve", "--password-stdin", stdin="")
    with pytest.raises(CommandError, match="no terminal to prompt on"):
        _create_user("eve", stdin="")
    assert not get_user_model().objects.filter(username="eve").exists()


def test_create_user_refuses_an_existing_name(viewer):
    with pytest.raises(CommandError, match="exists already"):
        _create_user(viewer.username, "--password-stdin", stdin="a-long-unusual-passphrase\n")


def test_set_role_gives_changes_and_removes_a_role(acme, django_user_model):
    user = django_user_model.objects.create_user("sam")
    out = io.StringIO()
    call_command("set_role", "--project", "acme", "--user", "sam", "--role", "reviewer", stdout=out)
    assert out.getvalue().strip() == "sam is reviewer of ACME."
    assert access.role_for(user, acme) == Role.REVIEWER
    call_command("set_role", "--project", "ACME", "--user", "sam", "--role", "viewer", stdout=out)
    assert access.role_for(user, acme) == Role.VIEWER
    call_command("set_role", "--project", "ACME", "--user", "sam", "--remove", stdout=out)
    assert not Membership.objects.filter(user=user).exists()
    actions = list(Event.objects.filter(note="sam").values_list("action", "after"))
    assert actions == [
        ("member_role", "reviewer"),
        ("member_role", "viewer"),
        ("member_removed", ""),
    ]


def test_set_role_names_what_is_wrong(acme, viewer):
    with pytest.raises(CommandError, match="there is no project 'NOPE'"):
        call_command("set_role", "--project", "NOPE", "--user", viewer.username, "--role", "viewer")
    with pytest.raises(CommandError, match="there is no user 'ghost'"):
        call_command("set_role", "--project", "ACME", "--user", "ghost", "--role", "viewer")
    with pytest.raises(CommandError, match="invalid choice: 'owner'"):
        call_command("set_role", "--project", "ACME", "--user", viewer.username, "--role", "owner")


# --- ingest creating a project: who can see it --------------------------------------------

BANDIT = Path(__file__).resolve().parent.parent / "samples" / "bandit" / "context_and_errors.json"


def _ingest(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest", str(BANDIT), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingest_creating_a_project_says_no_one_is_a_member_and_how_to_fix_it(client):
    _, err = _ingest("--project", "LILY")

    assert "Created project LILY. No one is a member yet" in err
    assert "manage.py set_role --project LILY --user USERNAME --role manager" in err
    assert not Membership.objects.filter(project__key="LILY").exists()
    _, again = _ingest("--project", "LILY")  # an existing project is not announced again
    assert "Created project" not in again


def test_ingest_with_an_owner_makes_them_the_new_projects_manager_who_then_sees_it(client):
    user = get_user_model().objects.create_user("nina", password="a-long-unusual-passphrase")

    out, err = _ingest("--project", "LILY", "--owner", "nina", "--json")

    assert "Created project LILY; nina is its manager." in err
    assert json.loads(out)["project"] == "LILY"  # stdout stays pure JSON
    assert access.role_for(user, Project.objects.get(key="LILY")) == Role.MANAGER
    client.force_login(user)
    assert client.get("/p/LILY/").status_code == 200


def test_ingest_with_an_unknown_owner_stops_before_importing_anything():
    with pytest.raises(CommandError, match="--owner 'nobody': there is no active user"):
        _ingest("--project", "LILY", "--owner", "nobody")

    assert not Project.objects.filter(key="LILY").exists()
