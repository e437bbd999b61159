"""Linking a repository git cannot read whole: a damaged or missing object costs only what
needs it, is named in words, and a link whose history cannot be read is never stored."""

from __future__ import annotations

import json
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bench.git_repo_gen import ScratchRepo
from findings import services
from findings.models import Commit, Event, Project, Repository
from tests.findings.test_evidence import roots  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

LOADER = "".join(f"def step_{n}():\n    return {n}\n\n" for n in range(30))


def damage(repo: ScratchRepo, sha: str) -> None:
    """Overwrite the loose object ``sha`` with bytes that are not zlib data, and make sure
    git itself can no longer read it."""
    loose = repo.path / ".git" / "objects" / sha[:2] / sha[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"this is not an object\n" * 4)
    shown = subprocess.run(
        ["git", f"--git-dir={repo.path / '.git'}", "cat-file", "-p", sha],
        capture_output=True,
        check=False,
    )
    assert shown.returncode != 0, "the damaged object is still readable"


@pytest.fixture
def renamed(roots: Path) -> tuple[ScratchRepo, str, str]:  # noqa: F811 - the fixture above
    """Three commits; the second moves loader.py to steps.py with an edit, so listing its
    renames means reading the old file's content. Returns the repository, that commit and
    the old file's blob."""
    repo = ScratchRepo(roots / "lily")
    repo.commit("Add the loader", {"loader.py": LOADER, "README": "lily\n"})
    blob = repo.git("rev-parse", "HEAD:loader.py")
    moved = repo.commit(
        "Move the loader", {"loader.py": None, "steps.py": LOADER + "def last():\n    pass\n"}
    )
    repo.commit("Say hello", {"README": "lily, hello\n"})
    return repo, moved, blob


def link(path: Path) -> tuple[dict, str]:
    out = StringIO()
    call_command("link_repo", "--project", "LILY", str(path), "--json", stdout=out)
    text = StringIO()
    call_command("link_repo", "--project", "LILY", str(path), stdout=text)
    return json.loads(out.getvalue()), text.getvalue()


def test_a_damaged_blob_costs_only_the_renames_of_the_commit_that_needs_it(
    renamed: tuple[ScratchRepo, str, str],
) -> None:
    repo, moved, blob = renamed
    damage(repo, blob)

    facts, said = link(repo.path)

    assert facts["commits"] == 3 and facts["head"] == repo.head()
    stored = Commit.objects.get(project__key="LILY", sha=moved)
    assert sorted(f["path"] for f in stored.files) == ["loader.py", "steps.py"]
    assert {f["change"] for f in stored.files} == {"A", "D"}
    note = Repository.objects.get(project__key="LILY").read_note
    assert f"commit {moved[:12]}" in note and f"object {blob[:12]}" in note
    assert "damaged" in note and "listed without renames" in note
    assert str(repo.path) not in note and "/" not in note
    assert note in said and facts["read_note"] == note


def test_a_missing_blob_is_said_to_be_missing_from_this_copy(
    renamed: tuple[ScratchRepo, str, str],
) -> None:
    repo, _, blob = renamed
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()

    facts, _ = link(repo.path)

    assert facts["commits"] == 3
    missing = f"object {blob[:12]} (this copy of the repository does not have it)"
    assert missing in facts["read_note"]


def test_a_missing_tree_costs_only_the_file_list_of_the_commits_that_need_it(
    renamed: tuple[ScratchRepo, str, str],
) -> None:
    repo, moved, _ = renamed
    tree = repo.git("rev-parse", f"{moved}^{{tree}}")
    (repo.path / ".git" / "objects" / tree[:2] / tree[2:]).unlink()

    facts, _ = link(repo.path)

    assert facts["commits"] == 3 and facts["read_note"].startswith("2 commits read in part")
    assert Commit.objects.get(project__key="LILY", sha=moved).files == []
    assert f"commit {moved[:12]}: git could not read object {tree[:12]}" in facts["read_note"]
    assert "the files it changed are not listed" in facts["read_note"]
    head = Commit.objects.get(project__key="LILY", sha=repo.head())
    assert head.files == []  # its diff against the moved commit needs that tree too


def test_a_history_git_cannot_list_is_not_linked_and_names_the_object(
    renamed: tuple[ScratchRepo, str, str],
) -> None:
    repo, moved, _ = renamed
    damage(repo, moved)
    project = Project.objects.create(key="LILY", name="Lily")

    with pytest.raises(services.RepositoryError) as failed:
        services.repository_link(project=project, target=str(repo.path))

    assert f"object {moved[:12]}" in failed.value.plain and "damaged" in failed.value.plain
    assert str(repo.path) not in failed.value.plain
    assert not Repository.objects.filter(project=project).exists()
    assert not Commit.objects.filter(project=project).exists()
    assert not Event.objects.filter(project=project, action="repository_linked").exists()
    project.refresh_from_db()
    assert project.repo_path == ""
    with pytest.raises(CommandError):
        call_command("link_repo", "--project", "LILY", str(repo.path), stdout=StringIO())


def test_a_failed_relink_keeps_the_previous_link(
    renamed: tuple[ScratchRepo, str, str],
    roots: Path,  # noqa: F811 - the fixture above
) -> None:
    repo, moved, _ = renamed
    good = ScratchRepo(roots / "good")
    head = good.commit("First", {"app.py": "print('hi')\n"})
    facts, _ = link(good.path)
    damage(repo, moved)

    with pytest.raises(CommandError):
        call_command("link_repo", "--project", "LILY", str(repo.path), stdout=StringIO())

    repository = Repository.objects.get(project__key="LILY")
    assert repository.path == facts["path"] and repository.head_sha == head
    assert Project.objects.get(key="LILY").repo_path == facts["path"]
