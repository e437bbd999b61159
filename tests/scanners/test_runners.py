"""The scanner runner on real repositories with the real tools: what each tool reports at a
commit, and that nothing (worktree, folder, process) outlives a run however it ends."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from scanners import registry
from scanners.base import RawFinding, ReportMeta
from scanners.git import GitError
from scanners.runners import RunnerError, ScanRun, ToolStatus, run_scanners
from scanners.runners.tools import judge_pip_audit, requirements_files
from tests.conftest import GitRepo

VULNERABLE = """import hashlib
import pickle
import subprocess

import requests
import yaml


def run(command):
    return subprocess.call(command, shell=True)


def load(blob):
    return pickle.loads(blob)


def digest(data):
    return hashlib.md5(data).hexdigest()


def settings(text):
    return yaml.load(text)


def fetch(url):
    return requests.get(url, verify=False)


def lookup(cursor, name):
    cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")


PASSWORD = "hunter2-in-production"
"""

# Commit 2 fixes the shell call, the YAML load and the SQL; the rest stays.
FIXED = (
    VULNERABLE.replace(
        "subprocess.call(command, shell=True)", "subprocess.call(command.split(), shell=False)"
    )
    .replace("yaml.load(text)", "yaml.safe_load(text)")
    .replace(
        """cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")""",
        """cursor.execute("SELECT * FROM users WHERE name = %s", (name,))""",
    )
)

TEST_FILE = "def test_eval():\n    assert eval(input()) == 1\n"


def rule_ids(run) -> set[str]:
    """Rule ids in a tool's report, read with auditdash's own parser for its format."""
    parser = registry.parser_for(run.format)
    with run.report.open("rb") as handle:
        items = list(parser.parse(handle, source=run.report.name))
    assert any(isinstance(i, ReportMeta) for i in items)
    return {i.rule_id for i in items if isinstance(i, RawFinding)}


def by_tool(scan: ScanRun) -> dict:
    return {run.tool: run for run in scan.runs}


def worktrees(repo: GitRepo) -> list[str]:
    listing = repo.git("worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("worktree ")]


def processes_inside(folder: Path) -> list[int]:
    """Processes whose working directory is under ``folder`` (a scanner left running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
            found.append(int(entry.name))
    return found


def assert_clean(repo: GitRepo, work_root: Path) -> None:
    assert worktrees(repo) == [str(repo.path)]
    assert list(work_root.glob("scan-*")) == []
    assert processes_inside(work_root) == []


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[GitRepo, str, str]:
    """A small vulnerable service: commit 1, then commit 2 fixing three of its problems."""
    repo = GitRepo(tmp_path_factory.mktemp("history") / "repo")
    repo.write("service/app.py", VULNERABLE)
    repo.write("tests/test_app.py", TEST_FILE)
    repo.write("requirements.txt", "requests==2.19.0\nPyYAML==5.3\n")
    first = repo.commit("A vulnerable service")
    repo.write("service/app.py", FIXED)
    second = repo.commit("Fix shell injection, unsafe YAML and SQL injection")
    return repo, first, second


@pytest.fixture(scope="module")
def scans(history, tmp_path_factory) -> dict[str, ScanRun]:
    """Both commits scanned with every tool, pip-audit forced offline."""
    repo, first, second = history
    work = tmp_path_factory.mktemp("work")
    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as patch:
        # This machine has no route to the vulnerability database either; the proxy makes
        # "offline" the same everywhere the suite runs.
        patch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        patch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        patch.delenv("NO_PROXY", raising=False)
        results = {
            "first": run_scanners(
                repo.path,
                first[:10],
                output_dir=out / "first",
                work_root=work,
                timeout_per_tool=300,
            ),
            "second": run_scanners(
                repo.path,
                second,
                output_dir=out / "second",
                work_root=work,
                timeout_per_tool=300,
            ),
        }
    results["work"] = work
    return results


def test_every_tool_but_pip_audit_reports_at_both_commits(scans) -> None:
    for name in ("first", "second"):
        runs = by_tool(scans[name])
        assert [r.tool for r in scans[name].runs] == ["bandit", "ruff", "semgrep", "pip-audit"]
        for tool in ("bandit", "ruff", "semgrep"):
            assert runs[tool].status is ToolStatus.OK, runs[tool].describe()
            assert runs[tool].report.is_file()
            assert runs[tool].exit_status in (0, 1)
            assert runs[tool].seconds > 0


def test_the_first_commit_shows_every_planted_problem_in_every_tool(scans, history) -> None:
    runs = by_tool(scans["first"])
    assert scans["first"].commit == history[1]
    assert {"B602", "B301", "B324", "B506", "B501", "B113", "B608", "B105", "B307"} <= rule_ids(
        runs["bandit"]
    )
    assert {"S602", "S301", "S324", "S506", "S501", "S113", "S608", "S105", "S307"} <= rule_ids(
        runs["ruff"]
    )
    assert {
        f"auditdash.python.{name}"
        for name in (
            "subprocess-shell-true",
            "unsafe-deserialisation",
            "weak-hash",
            "yaml-unsafe-load",
            "requests-verify-false",
            "requests-without-timeout",
            "sql-built-from-strings",
            "hardcoded-secret",
            "eval-exec-dynamic",
        )
    } <= rule_ids(runs["semgrep"])


def test_tests_folders_are_scanned_too(scans) -> None:
    runs = by_tool(scans["first"])
    with runs["semgrep"].report.open("rb") as handle:
        paths = {
            i.path
            for i in registry.parser_for("semgrep").parse(handle, source="s")
            if isinstance(i, RawFinding)
        }
    assert "tests/test_app.py" in paths


def test_the_fixed_problems_are_gone_at_the_second_commit_and_the_rest_remain(scans) -> None:
    runs = by_tool(scans["second"])
    bandit, ruff, semgrep = (rule_ids(runs[t]) for t in ("bandit", "ruff", "semgrep"))
    assert not {"B602", "B506", "B608"} & bandit
    assert {"B301", "B324", "B501"} <= bandit
    assert not {"S602", "S506", "S608"} & ruff
    assert {"S301", "S324"} <= ruff
    gone = {"subprocess-shell-true", "yaml-unsafe-load", "sql-built-from-strings"}
    assert not {f"auditdash.python.{n}" for n in gone} & semgrep
    assert "auditdash.python.unsafe-deserialisation" in semgrep


def test_pip_audit_offline_is_unavailable_with_a_reason(scans) -> None:
    run = by_tool(scans["first"])["pip-audit"]
    assert run.status is ToolStatus.UNAVAILABLE
    assert run.report is None
    assert run.inputs == ("requirements.txt",)
    assert "no network" in run.error and "pypi.org" in run.error
    assert run.describe().startswith("pip-audit: unavailable: no network")
    assert not run.failed


def test_pip_audit_that_audited_nothing_is_unavailable_not_clean(tmp_path) -> None:
    # What pip-audit prints, exit status 0, when PyPI's JSON API cannot be reached.
    report = tmp_path / "pip-audit.json"
    report.write_text(
        '{"dependencies": [{"name": "requests", "skip_reason": "Dependency not found on PyPI '
        'and could not be audited: requests (2.19.0)"}], "fixes": []}'
    )
    verdict = judge_pip_audit(report, "")
    assert verdict.unavailable.startswith("none of 1 dependencies could be audited")
    report.write_text('{"dependencies": [{"name": "requests", "version": "2.31.0", "vulns": []}]}')
    assert judge_pip_audit(report, "").unavailable is None


def test_nothing_is_left_behind_after_successful_runs(scans, history) -> None:
    assert_clean(history[0], scans["work"])


def test_a_failing_tool_is_reported_with_its_error_and_the_others_still_run(
    git_repo, tmp_path
) -> None:
    git_repo.write("app.py", VULNERABLE)
    git_repo.write("ruff.toml", "[lint]\nselect = [\n")  # not valid TOML: ruff cannot start
    sha = git_repo.commit("broken ruff config")
    work = tmp_path / "work"
    scan = run_scanners(
        git_repo.path, sha, output_dir=tmp_path / "out", tools=["ruff", "bandit"], work_root=work
    )
    ruff, bandit = scan.runs
    assert ruff.status is ToolStatus.FAILED and ruff.failed
    assert ruff.exit_status == 2
    assert ruff.error.startswith("exited with status 2: ")
    assert "ruff.toml" in ruff.error
    assert ruff.report is None and not (tmp_path / "out" / "ruff.json").exists()
    assert bandit.status is ToolStatus.OK
    assert_clean(git_repo, work)


def test_a_tool_over_its_time_limit_is_killed_with_its_helpers(git_repo, tmp_path) -> None:
    git_repo.write("app.py", VULNERABLE)
    sha = git_repo.commit("one file")
    work = tmp_path / "work"
    scan = run_scanners(
        git_repo.path,
        sha,
        output_dir=tmp_path / "out",
        tools=["semgrep", "bandit"],
        timeout_per_tool=0.5,
        work_root=work,
    )
    semgrep, bandit = scan.runs
    assert semgrep.status is ToolStatus.TIMED_OUT and semgrep.failed
    assert semgrep.error == "stopped after 0.5 s, the time limit per tool"
    assert semgrep.exit_status is None and semgrep.report is None
    assert bandit.tool == "bandit"  # the next tool still gets its turn
    assert_clean(git_repo, work)


def test_an_interrupted_scan_stops_the_tool_and_cleans_up(git_repo, tmp_path) -> None:
    git_repo.write("app.py", VULNERABLE)
    sha = git_repo.commit("one file")
    work = tmp_path / "work"
    # Ctrl-C arrives while semgrep (several seconds) is running.
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_scanners(
                git_repo.path, sha, output_dir=tmp_path / "out", tools=["semgrep"], work_root=work
            )
    finally:
        timer.cancel()
    assert_clean(git_repo, work)


def test_an_error_in_the_callback_still_cleans_up(git_repo, tmp_path) -> None:
    git_repo.write("app.py", VULNERABLE)
    sha = git_repo.commit("one file")
    work = tmp_path / "work"

    def explode(run, checkout) -> None:
        assert checkout.tree.is_dir()
        raise RuntimeError("the import failed")

    with pytest.raises(RuntimeError, match="the import failed"):
        run_scanners(git_repo.path, sha, tools=["bandit"], work_root=work, on_result=explode)
    assert_clean(git_repo, work)


def test_progress_counts_tools_and_the_reports_can_be_read_before_cleanup(
    git_repo, tmp_path
) -> None:
    git_repo.write("app.py", VULNERABLE)
    sha = git_repo.commit("one file")
    heard: list[tuple[int, int, str]] = []
    seen: list[tuple[str, bool]] = []
    scan = run_scanners(
        git_repo.path,
        sha,
        tools=["bandit", "pip-audit"],
        work_root=tmp_path / "work",
        on_progress=lambda done, total, what: heard.append((done, total, what)),
        on_result=lambda run, checkout: seen.append((run.tool, run.ok and run.report.is_file())),
    )
    assert heard == [
        (0, 2, "running bandit (1 of 2)"),
        (1, 2, "running pip-audit (2 of 2)"),
        (2, 2, "done"),
    ]
    assert seen == [("bandit", True), ("pip-audit", False)]
    pip_audit = scan.runs[1]
    assert pip_audit.status is ToolStatus.SKIPPED
    assert pip_audit.error == "no requirements file at this commit"
    assert scan.runs[0].report is not None and not scan.runs[0].report.exists()


def test_links_out_of_the_repository_are_not_followed(git_repo, tmp_path) -> None:
    secret = tmp_path / "server_settings.py"
    secret.write_text('DATABASE_PASSWORD = "on-this-server-only"\n')
    git_repo.write("app.py", "import os\n")
    os.symlink(secret, git_repo.path / "settings_link.py")
    sha = git_repo.commit("a link to a file of the server")
    scan = run_scanners(
        git_repo.path,
        sha,
        output_dir=tmp_path / "out",
        tools=["bandit", "semgrep"],
        work_root=tmp_path / "work",
    )
    assert scan.unlinked == 1
    for run in scan.runs:
        assert run.ok, run.describe()
        assert "on-this-server-only" not in run.report.read_text()
        assert "settings_link" not in run.report.read_text()


def test_the_repositorys_ruff_config_is_used_and_our_rules_still_apply(git_repo, tmp_path) -> None:
    git_repo.write("app.py", VULNERABLE + "\nimport os\n")
    git_repo.write("pyproject.toml", '[tool.ruff.lint]\nselect = ["E4"]\n')
    sha = git_repo.commit("a project that only lints imports")
    scan = run_scanners(
        git_repo.path, sha, output_dir=tmp_path / "out", tools=["ruff"], work_root=tmp_path / "w"
    )
    ids = rule_ids(scan.runs[0])
    assert "E402" in ids  # the project's own selection
    assert {"S602", "S301"} <= ids  # and ours, added on top


def test_a_ruff_config_outside_the_repository_does_not_leak_in(git_repo, tmp_path) -> None:
    git_repo.write("app.py", VULNERABLE)
    sha = git_repo.commit("no ruff config")
    work = tmp_path / "work"
    work.mkdir()
    (work / "ruff.toml").write_text('[lint]\nignore = ["S"]\n')
    scan = run_scanners(
        git_repo.path, sha, output_dir=tmp_path / "out", tools=["ruff"], work_root=work
    )
    assert {"S602", "S301"} <= rule_ids(scan.runs[0])


def test_requirements_files_are_found_anywhere_but_in_environments(tmp_path) -> None:
    for name in (
        "requirements.txt",
        "requirements-dev.txt",
        "docs/doc-requirements.txt",
        "requirements/base.txt",
        ".venv/lib/requirements.txt",
        "node_modules/x/requirements.txt",
        "notes.txt",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x==1\n")
    assert requirements_files(tmp_path) == [
        "docs/doc-requirements.txt",
        "requirements-dev.txt",
        "requirements.txt",
        "requirements/base.txt",
    ]


def test_unknown_tools_commits_and_limits_are_refused_before_anything_runs(
    git_repo, tmp_path
) -> None:
    git_repo.write("app.py", "x = 1\n")
    sha = git_repo.commit("one")
    work = tmp_path / "work"
    with pytest.raises(RunnerError, match="unknown tool 'gitleaks': expected one of bandit"):
        run_scanners(git_repo.path, sha, tools=["gitleaks"], work_root=work)
    with pytest.raises(RunnerError, match="time limit per tool must be positive"):
        run_scanners(git_repo.path, sha, timeout_per_tool=0, work_root=work)
    with pytest.raises(GitError, match="deadbeef"):
        run_scanners(git_repo.path, "deadbeef", work_root=work)
    with pytest.raises(GitError, match="not a git repository"):
        run_scanners(tmp_path, sha, work_root=work)
    assert not work.exists() or list(work.iterdir()) == []


def test_hooks_in_the_repository_never_run_on_checkout(git_repo, tmp_path) -> None:
    marker = tmp_path / "hook-ran"
    hook = git_repo.path / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    git_repo.write("app.py", "x = 1\n")
    sha = git_repo.commit("one")
    run_scanners(git_repo.path, sha, tools=["bandit"], work_root=tmp_path / "work")
    assert not marker.exists()
    # The same hook does run for a plain git checkout: the test would notice if it could not.
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tmp_path / "plain"), sha],
        cwd=git_repo.path,
        check=True,
        capture_output=True,
    )
    assert marker.exists()


def test_the_parsers_read_every_output_the_runner_writes(scans) -> None:
    for name in ("first", "second"):
        for run in scans[name].runs:
            if run.ok:
                with run.report.open("rb") as handle:
                    head = handle.read(registry.HEAD_BYTES)
                assert registry.detect(head) == run.format
                parsed = list(
                    registry.parser_for(run.format).parse(
                        io.BytesIO(run.report.read_bytes()), source=run.report.name
                    )
                )
                assert any(isinstance(i, RawFinding) for i in parsed)


def test_folders_left_by_a_killed_worker_are_swept_by_the_next_scan(git_repo, tmp_path) -> None:
    git_repo.write("app.py", "x = 1\n")
    sha = git_repo.commit("one")
    work = tmp_path / "work"
    stale, fresh = work / "scan-killed", work / "scan-running"
    for folder in (stale, fresh):
        (folder / "tree").mkdir(parents=True)
    os.utime(stale, (0, 0))  # untouched for decades: its process is long gone
    run_scanners(git_repo.path, sha, tools=["bandit"], work_root=work)
    assert not stale.exists()
    assert fresh.exists()  # may belong to a scan still running
