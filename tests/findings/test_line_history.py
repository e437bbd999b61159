"""The finding page's "History of these lines" and "Suggested owner", against real
repositories built with the git command line (``tests.conftest.GitRepo``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string

from findings.models import Finding, Project, Repository
from findings.selectors import finding as selectors
from findings.services import repository_link
from scanners import git
from tests.conftest import GitRepo, make_finding

pytestmark = pytest.mark.django_db


def numbered(count: int, prefix: str = "line") -> str:
    return "".join(f"{prefix} {n}\n" for n in range(1, count + 1))


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def roots(tmp_path: Path, settings) -> Path:
    settings.AUDITDASH_REPO_ROOTS = str(tmp_path)
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return tmp_path


@pytest.fixture
def project(db) -> Project:
    return Project.objects.create(key="LILY", name="Lily")


def as_author(repo: GitRepo, name: str) -> None:
    repo.git("config", "user.name", name)
    repo.git("config", "user.email", f"{name.lower()}@example.com")


def locate(finding: Finding, path: str, start: int, end: int, first: str, last: str) -> Finding:
    Finding.objects.filter(pk=finding.pk).update(
        path=path, start_line=start, end_line=end, first_seen_commit=first, last_seen_commit=last
    )
    finding.refresh_from_db()
    return finding


def page(finding: Finding) -> str:
    """The finding page's history section as the page renders it."""
    return render_to_string(
        "findings/finding_detail.html#line-history",
        {
            "project": finding.project,
            "finding": finding,
            **selectors.finding_line_history(finding=finding),
        },
    )


@pytest.fixture
def renamed(roots: Path, project: Project) -> tuple[GitRepo, dict[str, str]]:
    """loader.py is seen, Ada edits line 5, it is renamed to io/load.py, Bo edits line 6."""
    repo = GitRepo(roots / "lily")
    as_author(repo, "Cy")
    repo.write("loader.py", numbered(10))
    seen = repo.commit("Add the loader")
    as_author(repo, "Ada")
    repo.write("loader.py", numbered(10).replace("line 5\n", "eval(x)\n"))
    ada = repo.commit("Evaluate the input <b>quickly</b>")
    repo.git("mv", "loader.py", "load.py")
    moved = repo.commit("Rename the loader")
    repository_link(project=project, target=str(repo.path))
    as_author(repo, "Bo")
    text = (repo.path / "load.py").read_text().replace("line 6\n", "eval(y)\n")
    repo.write("load.py", text)
    bo = repo.commit("Evaluate more")
    return repo, {"seen": seen, "ada": ada, "moved": moved, "bo": bo}


def test_lines_changed_since_first_seen_are_listed_newest_first_across_a_rename(renamed):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 5, 6, sha["seen"], sha["bo"])

    history = selectors.finding_line_history(finding=finding)["line_history"]

    assert history["problem"] == ""
    assert [c["sha"] for c in history["changes"]] == [sha["bo"], sha["ada"]]
    assert [c["path"] for c in history["changes"]] == ["load.py", "loader.py"]
    assert history["changes"][1]["author"] == "Ada"


def test_blame_at_the_last_seen_commit_suggests_an_owner_with_a_share_of_lines(renamed):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 4, 6, sha["seen"], sha["bo"])

    owners = selectors.finding_line_history(finding=finding)["line_history"]["owners"]

    assert [(o["name"], o["lines"], o["share"]) for o in owners] == [
        ("Ada", 1, 33),
        ("Bo", 1, 33),
        ("Cy", 1, 33),
    ]
    html = page(finding)
    assert "Suggested owner" in html
    assert "<strong>Ada</strong>" in html and "(33%)" in html


def test_the_page_shows_the_commits_escaped_and_says_which_are_not_read_in(renamed):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 5, 6, sha["seen"], sha["bo"])

    html = page(finding)

    assert "History of these lines" in html
    assert "Evaluate the input &lt;b&gt;quickly&lt;/b&gt;" in html
    assert "<b>quickly" not in html
    assert '(as <span class="path">loader.py</span>)' in html
    # Ada's commit was read in when the repository was linked; Bo's came after.
    assert f'title="{sha["ada"]}" class="commit-stored"' in html
    assert html.count("(not read in yet)") == 1


def test_without_a_last_seen_commit_the_history_runs_to_the_branch_head(renamed):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 6, 6, sha["ada"], "")

    history = selectors.finding_line_history(finding=finding)["line_history"]

    assert history["until"] == sha["bo"]
    assert [c["sha"] for c in history["changes"]] == [sha["bo"]]
    assert [o["name"] for o in history["owners"]] == ["Bo"]


def test_at_most_twenty_commits_are_listed(roots, project):
    repo = GitRepo(roots / "lily")
    repo.write("app.py", numbered(3))
    first = repo.commit("Add app")
    for n in range(22):
        repo.write("app.py", f"line 1\nchange {n}\nline 3\n")
        last = repo.commit(f"Change {n}")
    repository_link(project=project, target=str(repo.path))
    finding = locate(make_finding(project), "app.py", 2, 2, first, last)

    changes = selectors.finding_line_history(finding=finding)["line_history"]["changes"]

    assert len(changes) == 20
    assert changes[0]["summary"] == "Change 21"


def test_a_finding_without_a_repository_shows_nothing(project):
    finding = make_finding(project)

    assert selectors.finding_line_history(finding=finding) == {"line_history": None}
    assert "History of these lines" not in page(finding)


def test_a_finding_without_a_location_shows_nothing(renamed):
    finding = make_finding(Project.objects.get())
    Finding.objects.filter(pk=finding.pk).update(path="", start_line=None)
    finding.refresh_from_db()

    assert selectors.finding_line_history(finding=finding) == {"line_history": None}


def test_a_broken_repository_path_is_shown_as_the_reason(renamed, tmp_path):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 5, 6, sha["seen"], sha["bo"])
    gone = tmp_path / "gone"
    shutil.move(repo.path, gone)

    html = page(finding)

    assert "cannot read history:" in html
    assert "the folder of the linked repository no longer exists on the server" in html
    assert str(tmp_path) not in html and "fatal:" not in html
    assert "Suggested owner" not in html


def test_lines_missing_at_the_last_seen_commit_are_a_reason_not_an_error_page(renamed):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 50, 52, sha["seen"], sha["bo"])

    history = selectors.finding_line_history(finding=finding)["line_history"]

    assert history["changes"] == [] and history["owners"] == []
    assert history["problem"] == (
        f"load.py has only 10 lines at commit {sha['bo'][:12]}, so lines 50-52 are not there"
    )
    assert "cannot read history:" in page(finding)


def test_a_first_seen_commit_the_repository_lacks_is_named_in_the_reason(renamed):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 5, 6, "0badc0de" * 5, "")

    html = page(finding)

    assert "cannot read history:" in html
    assert "commit 0badc0de0bad, where this finding was first seen, is not in the" in html
    assert str(repo.path) not in html and "fatal:" not in html


def test_a_finding_last_seen_where_it_was_first_seen_has_no_changes_and_no_error(renamed):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 5, 6, sha["bo"], sha["bo"])

    history = selectors.finding_line_history(finding=finding)["line_history"]

    assert history["problem"] == "" and history["changes"] == []
    assert [owner["name"] for owner in history["owners"]] == ["Ada", "Bo"]


def test_the_history_is_cached_until_the_branch_head_moves(renamed, monkeypatch):
    repo, sha = renamed
    finding = locate(make_finding(Project.objects.get()), "load.py", 5, 6, sha["seen"], "")
    first = selectors.finding_line_history(finding=finding)["line_history"]

    def refuse(*args, **kwargs):
        raise AssertionError("the cached history was read from git again")

    with monkeypatch.context() as patch:
        patch.setattr(git, "line_history", refuse)
        again = selectors.finding_line_history(finding=finding)["line_history"]
    assert again["changes"] == first["changes"]

    text = (repo.path / "load.py").read_text().replace("eval(y)\n", "safe(y)\n")
    repo.write("load.py", text)
    fix = repo.commit("Stop evaluating")
    moved = selectors.finding_line_history(finding=finding)["line_history"]
    assert moved["changes"][0]["sha"] == fix
    assert Repository.objects.get().path == str(repo.path)


# --- the verification run's memo of git answers (findings.services.evidence_checks) -------


def check_rows(evidence) -> list[tuple]:
    return [(c.name, c.result, c.reason, c.commit, c.path, c.side) for c in evidence.checks]


@pytest.fixture
def verified_repo(roots: Path, project: Project):
    """A fix, a commit that only claims one, and a rename after the fix."""
    from bench.git_repo_gen import ScratchRepo
    from tests.findings.test_evidence import AFTER, BEFORE, app_source

    repo = ScratchRepo(roots / "lily")
    repo.commit("Add the loader", {"app.py": app_source(BEFORE), "README": "lily\n"})
    fix = repo.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    fake = repo.commit("Fix the loader (honest)", {"README": "lily, fixed\n"})
    repo.git("mv", "app.py", "main.py")
    repo.git("commit", "-q", "-m", "Rename app.py")
    repository_link(project=project, target=str(repo.path))
    return project, [fix[:7], fake, fix]


def make_claims(project: Project, shas: list[str]) -> list:
    from tests.findings.test_evidence import make_claim

    return [make_claim(project, commits=[sha]) for sha in shas]


def verify_all(project: Project, claims: list, *, memo: bool) -> list[list[tuple]]:
    from findings.services import claim_verify
    from findings.services.evidence_checks import verify_context

    context = verify_context(project) if memo else verify_context(project, memo_bytes=0)
    return [check_rows(claim_verify(claim=claim, context=context)) for claim in claims]


def test_the_memo_leaves_every_check_of_a_run_as_it_was(verified_repo):
    project, shas = verified_repo
    claims = make_claims(project, shas)

    without = verify_all(project, claims, memo=False)
    with_memo = verify_all(project, claims, memo=True)

    assert with_memo == without
    assert without[0][0][1] == "pass" and any(row[1] == "fail" for row in without[1])


def test_the_memo_starts_fewer_git_processes_for_the_same_run(verified_repo, monkeypatch):
    from scanners.git import command

    project, shas = verified_repo
    started = []
    real = command.run_git

    def counted(args, **kwargs):
        started.append(args[0])
        return real(args, **kwargs)

    claims = make_claims(project, shas)
    monkeypatch.setattr(command, "run_git", counted)
    verify_all(project, claims, memo=False)
    plain = len(started)
    started.clear()
    verify_all(project, claims, memo=True)

    assert len(started) < plain * 0.8
    assert command.run_git is counted  # the engine's runner is never replaced by the memo


def test_the_memo_answers_only_the_run_that_holds_it(verified_repo, monkeypatch):
    import threading

    from scanners.git import command

    project, _ = verified_repo
    handle = git.open_repo(Repository.objects.get().path)
    memo = git.GitCache()
    started = []
    real = command.run_git
    monkeypatch.setattr(
        command, "run_git", lambda args, **kw: started.append(args[0]) or real(args, **kw)
    )
    run = handle.cached(memo)
    git.resolve(run, "main")
    git.resolve(run, "main")
    in_run = len(started)
    other = threading.Thread(target=git.resolve, args=(handle, "main"))
    other.start()
    other.join()
    git.resolve(handle, "main")

    assert memo.hits >= 1 and memo.misses == in_run
    assert len(started) == 3 * in_run  # the other thread and the later call ran git
