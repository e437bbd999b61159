"""`manage.py link_repo`: local repositories under allowed folders, clones of URLs, hostile
input refused with the reason, and fetching clones on demand and from the beat task."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bench.git_repo_gen import ScratchRepo
from findings.models import Commit, Event, Project, Repository
from findings.tasks import fetch_repositories, fetch_repository
from tests.findings.test_evidence import roots  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def upstream(roots: Path) -> ScratchRepo:  # noqa: F811 - the fixture above
    repo = ScratchRepo(roots / "upstream")
    repo.commit("First", {"app.py": "print('hi')\n"})
    repo.commit("Second", {"app.py": "print('hello')\n"})
    return repo


def link(*args: str) -> dict:
    out = StringIO()
    call_command("link_repo", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_local_repository_is_linked_in_place_and_its_commits_read(upstream: ScratchRepo) -> None:
    facts = link("--project", "LILY", str(upstream.path))

    assert facts["kind"] == "local" and facts["branch"] == "main"
    assert facts["head"] == upstream.head() and facts["commits"] == 2
    project = Project.objects.get(key="LILY")
    # The pipeline and the scanners read these.
    assert project.repo_path == str(upstream.path.resolve())
    assert project.default_branch == "main"
    assert Event.objects.filter(project=project, action="repository_linked").exists()
    first = Commit.objects.get(project=project, message="First")
    assert first.files == [{"change": "A", "path": "app.py"}]
    assert first.author_email == "ada@example.com" and first.parents == []


def test_a_relative_path_is_taken_as_that_folder(upstream: ScratchRepo, monkeypatch) -> None:
    monkeypatch.chdir(upstream.path.parent)

    facts = link("--project", "LILY", "upstream")

    assert facts["path"] == str(upstream.path.resolve())


def test_a_file_url_is_cloned_into_the_data_folder_and_fetched_later(
    upstream: ScratchRepo, settings
) -> None:
    facts = link("--project", "LILY", f"file://{upstream.path}")

    clone = Path(settings.DATA_DIR) / "repos" / "LILY"
    assert facts["kind"] == "clone" and Path(facts["path"]) == clone.resolve()
    assert facts["head"] == upstream.head()
    third = upstream.commit("Third", {"app.py": "print('hey')\n"})

    result = fetch_repository(Project.objects.get(key="LILY").pk)

    assert result["ok"] and result["head"] == third and result["commits"] == 1
    assert "main" in result["message"]
    repository = Repository.objects.get(project__key="LILY")
    assert repository.fetch_ok and repository.fetched_at is not None
    assert repository.head_sha == third


def test_a_force_push_upstream_is_recorded_by_the_fetch(upstream: ScratchRepo) -> None:
    link("--project", "LILY", f"file://{upstream.path}")
    upstream.git("reset", "-q", "--hard", "HEAD~1")
    rewritten = upstream.commit("Second, rewritten", {"app.py": "print('hullo')\n"})

    result = fetch_repository(Project.objects.get(key="LILY").pk)

    assert "force-pushed" in result["message"]
    assert result["head"] == rewritten
    assert Commit.objects.filter(sha=rewritten).exists()


def test_the_beat_task_fetches_every_linked_repository(upstream: ScratchRepo) -> None:
    link("--project", "LILY", f"file://{upstream.path}")
    link("--project", "FERN", str(upstream.path))

    assert fetch_repositories() == 2

    assert set(Repository.objects.values_list("fetch_ok", flat=True)) == {True}


def test_a_fetch_that_fails_is_recorded_not_raised(upstream: ScratchRepo) -> None:
    link("--project", "LILY", f"file://{upstream.path}")
    moved = upstream.path.with_name("gone")
    upstream.path.rename(moved)

    result = fetch_repository(Project.objects.get(key="LILY").pk)

    assert result["ok"] is False
    repository = Repository.objects.get(project__key="LILY")
    assert repository.fetch_ok is False
    # The page shows the message: words, not the server's folders or git's own output.
    assert repository.fetch_message == (
        "the origin of the linked repository no longer exists or is no longer allowed"
    )


def test_an_unknown_branch_is_refused_listing_the_branches(upstream: ScratchRepo) -> None:
    with pytest.raises(CommandError, match=r"no branch 'develop'.*branches: main"):
        link("--project", "LILY", str(upstream.path), "--branch", "develop")
    assert not Repository.objects.exists()


def test_a_local_path_outside_the_allowed_folders_is_refused(tmp_path: Path, settings) -> None:
    settings.AUDITDASH_REPO_ROOTS = str(tmp_path / "allowed")
    elsewhere = ScratchRepo(tmp_path / "elsewhere")
    elsewhere.commit("First", {"a": "a\n"})

    with pytest.raises(CommandError, match="outside|not inside|allowed"):
        link("--project", "LILY", str(elsewhere.path))
    assert not Repository.objects.exists()


def test_a_folder_that_is_not_a_repository_says_so(roots: Path) -> None:  # noqa: F811
    (roots / "plain").mkdir()

    with pytest.raises(CommandError, match="not a git repository"):
        link("--project", "LILY", str(roots / "plain"))


HOSTILE = [
    ("--upload-pack=touch /tmp/pwned", "starts with '-'|whitespace"),
    ("-cprotocol.ext.allow=always", "starts with '-'"),
    ("ext::sh -c touch% /tmp/pwned", "remote helpers|whitespace"),
    ("fd::17", "remote helpers"),
    ("http://github.com/acme/lily.git", "http:// scheme is not allowed"),
    ("git://github.com/acme/lily.git", "git:// scheme is not allowed"),
    ("https://github.com/acme/lily.git?x=--upload-pack=touch", "upload-pack"),
    ("https://user:secret@github.com/acme/lily.git", "credentials|password"),
    ("ssh://-oProxyCommand=touch/repo", "starts with '-'"),
    ("../../etc", "outside the allowed folders"),
    ("relative/repo", "not an absolute local path"),
]


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_hostile_urls_are_refused_with_the_reason_and_nothing_is_stored(
    url: str,
    why: str,
    roots: Path,  # noqa: F811
) -> None:
    with pytest.raises(CommandError, match=why) as refused:
        # After "--", so even a leading dash reaches the command rather than argparse.
        call_command("link_repo", "--project", "LILY", "--", url)

    assert "LILY:" in str(refused.value) and "secret" not in str(refused.value)
    assert not Repository.objects.exists()
    assert not (roots / "data" / "repos" / "LILY").exists()
