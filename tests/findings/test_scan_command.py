"""`manage.py scan` and the scheduled scans, end to end: a linked repository, real tools, the
findings a user then sees."""

from __future__ import annotations

from io import StringIO

import orjson
import pytest
from django.core.management import CommandError, call_command

from findings import tasks
from findings.models import Finding, Project, Report
from tests.conftest import GitRepo
from tests.scanners.test_runners import FIXED, VULNERABLE

pytestmark = pytest.mark.django_db

RUN_KEYS = {"tool", "format", "status", "report", "exit_status", "seconds", "error", "inputs"}
RESULT_KEYS = {
    "report",
    "project",
    "tool",
    "format",
    "commit",
    "new",
    "still_open",
    "fixed",
    "regressed",
    "suppressed",
    "seconds",
    "duplicate",
    "note",
}


@pytest.fixture(autouse=True)
def offline(monkeypatch, settings, tmp_path):
    """pip-audit offline everywhere the suite runs; worktrees in this test's data folder."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def shop(git_repo: GitRepo) -> tuple[Project, str, str]:
    """Project SHOP linked to a repository: commit 1 vulnerable, commit 2 fixes three issues."""
    git_repo.write("service/app.py", VULNERABLE)
    git_repo.write("requirements.txt", "requests==2.19.0\n")
    first = git_repo.commit("A vulnerable service")
    git_repo.write("service/app.py", FIXED)
    second = git_repo.commit("Fix shell injection, unsafe YAML and SQL injection")
    project = Project.objects.create(key="SHOP", repo_path=str(git_repo.path))
    return project, first, second


def scan(*args: str) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("scan", "--project", "SHOP", *args, stdout=out, stderr=err)
    return orjson.loads(out.getvalue()) if "--json" in args else {}, out.getvalue()


def finding(tool: str, rule: str) -> Finding:
    return Finding.objects.get(project__key="SHOP", tool=tool, rule_id=rule)


def test_scanning_two_commits_verifies_what_the_second_one_fixed(shop) -> None:
    project, first, second = shop
    scan("--commit", first[:8], "--json")
    shell = finding("bandit", "B602")
    assert shell.status == "open" and shell.first_seen_commit == first
    assert shell.path == "service/app.py"
    ruff_shell = finding("ruff", "S602")
    assert ruff_shell.snippet == "" and ruff_shell.path == "service/app.py"
    assert finding("semgrep", "auditdash.python.subprocess-shell-true").status == "open"

    scan("--json")  # the head of main: commit 2
    for tool, rule in (
        ("bandit", "B602"),
        ("bandit", "B506"),
        ("ruff", "S602"),
        ("ruff", "S608"),
        ("semgrep", "auditdash.python.subprocess-shell-true"),
        ("semgrep", "auditdash.python.sql-built-from-strings"),
    ):
        fixed = finding(tool, rule)
        assert (fixed.status, fixed.fixed_in_commit) == ("verified", second), (tool, rule)
    for tool, rule in (
        ("bandit", "B301"),
        ("ruff", "S301"),
        ("semgrep", "auditdash.python.weak-hash"),
    ):
        still = finding(tool, rule)
        assert (still.status, still.last_seen_commit) == ("open", second), (tool, rule)
    reports = Report.objects.filter(project=project).order_by("id")
    assert [(r.tool, r.commit, r.branch, r.filename) for r in reports] == [
        (tool, sha, "main", f"{tool}@{sha[:12]}.json")
        for sha in (first, second)
        for tool in ("bandit", "ruff", "semgrep")
    ]


def test_the_json_output_lists_every_tool_with_its_import(shop) -> None:
    project, first, _ = shop
    data, _ = scan("--commit", first, "--json")
    assert set(data) == {
        "project",
        "repository",
        "commit",
        "branch",
        "seconds",
        "links_removed",
        "tools",
    }
    assert (data["project"], data["commit"], data["branch"]) == ("SHOP", first, "main")
    assert [t["tool"] for t in data["tools"]] == ["bandit", "ruff", "semgrep", "pip-audit"]
    for entry in data["tools"]:
        assert set(entry) == RUN_KEYS | {"result", "import_error"}
    bandit, ruff, semgrep, pip_audit = data["tools"]
    for entry in (bandit, ruff, semgrep):
        assert entry["status"] == "ok" and entry["import_error"] == ""
        assert set(entry["result"]) == RESULT_KEYS
        assert entry["result"]["commit"] == first and entry["result"]["new"] > 0
    assert pip_audit["status"] == "unavailable" and pip_audit["result"] is None
    assert pip_audit["error"].startswith("no network: pypi.org could not be reached")
    assert pip_audit["inputs"] == ["requirements.txt"]


def test_the_plain_output_prints_a_line_per_tool_like_ingest(shop) -> None:
    _, first, _ = shop
    _, text = scan("--commit", first, "--tools", "bandit,pip-audit")
    lines = text.splitlines()
    assert lines[0].startswith("SHOP report #")
    assert f"(bandit, bandit, {first[:12]}): " in lines[0] and " new, 0 still open" in lines[0]
    assert lines[1].startswith("SHOP: pip-audit: unavailable: no network: pypi.org")
    assert lines[2].startswith(f"SHOP: scanned {first[:12]} (main) with 2 tools in ")


def test_the_same_commit_scanned_twice_adds_nothing_new(shop) -> None:
    _, first, _ = shop
    scan("--commit", first, "--tools", "bandit", "--json")
    data, _ = scan("--commit", first, "--tools", "bandit", "--json")
    result = data["tools"][0]["result"]
    assert (result["new"], result["fixed"], result["regressed"]) == (0, 0, 0)


def test_a_project_without_a_repository_is_told_how_to_link_one(db) -> None:
    Project.objects.create(key="SHOP")
    with pytest.raises(CommandError, match=r"manage.py link_repo --project SHOP PATH_OR_URL"):
        scan()


def test_an_unknown_commit_is_named(shop) -> None:
    with pytest.raises(CommandError, match="'0badc0ffee'"):
        scan("--commit", "0badc0ffee")
    with pytest.raises(CommandError, match="'no-such-branch'"):
        scan("--branch", "no-such-branch")
    assert not Report.objects.exists()


def test_an_unknown_project_or_tool_is_refused(shop) -> None:
    with pytest.raises(CommandError, match="no project with key 'NOPE'"):
        call_command("scan", "--project", "NOPE", stdout=StringIO())
    with pytest.raises(CommandError, match="unknown tool 'eslint'"):
        scan("--tools", "bandit,eslint")


def test_a_failed_tool_makes_the_command_fail_after_importing_the_others(shop, git_repo) -> None:
    git_repo.write("ruff.toml", "[lint\n")
    broken = git_repo.commit("a broken ruff config")
    out = StringIO()
    with pytest.raises(CommandError, match=r"1 of 2 tools failed at .*: ruff"):
        call_command("scan", "--project", "SHOP", "--tools", "bandit,ruff", "--json", stdout=out)
    data = orjson.loads(out.getvalue())
    assert data["commit"] == broken
    assert data["tools"][0]["result"]["commit"] == broken
    assert data["tools"][1]["status"] == "failed" and "ruff.toml" in data["tools"][1]["error"]


def test_scheduled_scans_scan_only_heads_not_scanned_yet(shop, git_repo, monkeypatch) -> None:
    project, first, second = shop
    Project.objects.create(key="NOREPO")
    scanned: list[tuple[int, str, str]] = []
    monkeypatch.setattr(
        tasks.scan_project_commit,
        "delay",
        lambda project_id, commit, branch: scanned.append((project_id, commit, branch)),
    )
    assert tasks.scan_branch_heads() == 1
    assert scanned == [(project.pk, second, "main")]

    scanned.clear()
    tasks.scan_project_commit(project.pk, second, "main")
    assert Report.objects.filter(project=project, commit=second).count() == 3
    assert tasks.scan_branch_heads() == 0
    assert scanned == []

    git_repo.write("service/extra.py", "import pickle\n")
    third = git_repo.commit("more code")
    assert tasks.scan_branch_heads() == 1
    assert scanned == [(project.pk, third, "main")]


def test_the_scan_task_runs_the_scan_and_reports_failures_as_data(shop) -> None:
    project, first, _ = shop
    summary = tasks.scan_project_commit(project.pk, first, "main")
    assert summary["commit"] == first
    assert [t["status"] for t in summary["tools"]] == ["ok", "ok", "ok", "unavailable"]
    project.repo_path = "/nonexistent/repository"
    project.save()
    failed = tasks.scan_project_commit(project.pk, first, "main")
    assert failed["error"].startswith("/nonexistent/repository: no such directory")


def test_a_repositorys_own_filter_never_runs_during_a_scan(git_repo, tmp_path) -> None:
    marker = tmp_path / "filter-ran"
    program = tmp_path / "evil"
    program.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\ncat\n')
    program.chmod(0o755)
    git_repo.write("service/app.py", VULNERABLE)
    git_repo.write(".gitattributes", "*.py filter=evil\n")
    sha = git_repo.commit("A vulnerable service")
    for key in ("smudge", "clean", "process"):
        git_repo.git("config", f"filter.evil.{key}", str(program))
    git_repo.git("config", "filter.evil.required", "true")
    Project.objects.create(key="SHOP", repo_path=str(git_repo.path))

    data, _ = scan("--commit", sha, "--tools", "bandit", "--json")

    assert not marker.exists()
    assert data["tools"][0]["status"] == "ok" and data["tools"][0]["result"]["new"] > 0
    assert Finding.objects.filter(project__key="SHOP", path="service/app.py").exists()
