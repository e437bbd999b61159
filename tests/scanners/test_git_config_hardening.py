"""A repository's own git configuration never runs a program, on any git call: the checkout
of a scan included, and any git a scanner runs in the checked-out tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.git_repo_gen import ScratchRepo, numbered
from scanners.git import blame, diff_hunks, file_at, iter_commits, open_repo
from scanners.git.config import overrides
from scanners.runners import ToolStatus, run_scanners
from scanners.runners.tools import tool_environment
from scanners.runners.worktree import checked_out

FILES = {
    "app.py": "import os\n\n\ndef main():\n    return os.getcwd()\n",
    "notes.txt": "plain text\n",
    "README.md": "# readme\n",
    ".gitattributes": "*.py filter=evil diff=evil merge=evil\n*.txt filter=included\n"
    "*.md filter=legacy\n",
}


def marker_program(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "program-ran"
    program = tmp_path / "evil"
    program.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\ncat\n')
    program.chmod(0o755)
    return program, marker


def hostile(repo: ScratchRepo, program: Path, tmp_path: Path) -> None:
    """Every config key of the repository that could name a program names ``program``."""
    for key in (
        "filter.evil.smudge",
        "filter.evil.clean",
        "filter.evil.process",
        "diff.evil.textconv",
        "diff.evil.command",
        "merge.evil.driver",
        "core.sshCommand",
        "core.fsmonitor",
        "core.pager",
        "core.editor",
        "core.askPass",
        "core.alternateRefsCommand",
        "sequence.editor",
        "gpg.program",
        "gpg.ssh.program",
        "credential.helper",
        "diff.external",
        "trailer.sign.command",
    ):
        repo.git("config", key, str(program))
    repo.git("config", "filter.evil.required", "true")
    repo.git("config", "log.showSignature", "true")
    included = tmp_path / "included.gitconfig"
    included.write_text(f'[filter "included"]\n\tsmudge = {program}\n\trequired = true\n')
    repo.git("config", "include.path", str(included))
    conditional = tmp_path / "conditional.gitconfig"
    conditional.write_text(f"[filter.legacy]\n\tsmudge = {program}\n\trequired = true\n")
    repo.git("config", "includeIf.gitdir:/.path", str(conditional))


@pytest.fixture
def repo_and_marker(tmp_path: Path) -> tuple[ScratchRepo, str, Path]:
    program, marker = marker_program(tmp_path)
    repo = ScratchRepo(tmp_path / "hostile")
    sha = repo.commit("Start", FILES)
    repo.commit("Fix", {"app.py": numbered(6)})
    hostile(repo, program, tmp_path)
    # Control: plain git runs the planted filter when it checks the commit out.
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tmp_path / "plain"), sha],
        cwd=repo.path,
        capture_output=True,
        check=False,
    )
    assert "evil" in marker.read_text()
    marker.unlink()
    subprocess.run(["git", "worktree", "remove", "--force", str(tmp_path / "plain")],
                   cwd=repo.path, capture_output=True, check=False)  # fmt: skip
    return repo, sha, marker


def test_every_driver_the_repository_names_is_overridden_includes_too(repo_and_marker):
    repo, _, _ = repo_and_marker
    keys = dict(overrides(repo.path / ".git"))
    assert keys["filter.evil.smudge"] == keys["filter.evil.process"] == ""
    assert keys["filter.evil.required"] == "false"
    assert keys["filter.included.smudge"] == "" and keys["filter.legacy.smudge"] == ""
    assert keys["diff.evil.textconv"] == "cat" and keys["diff.evil.command"] == ""
    assert keys["merge.evil.driver"] == "" and keys["trailer.sign.command"] == ""
    assert keys["core.sshCommand"] == "ssh" and keys["gpg.program"] == "false"


def test_a_scan_checks_the_commit_out_without_running_the_repositorys_filters(
    repo_and_marker, tmp_path
):
    repo, sha, marker = repo_and_marker
    handle = open_repo(repo.path)

    with checked_out(handle, sha, work_root=tmp_path / "work") as checkout:
        assert {name: (checkout.tree / name).read_text() for name in FILES} == FILES
    scan = run_scanners(repo.path, sha, tools=["bandit"], work_root=tmp_path / "work")

    assert [r.status for r in scan.runs] == [ToolStatus.OK], [r.message for r in scan.runs]
    assert not marker.exists()


def test_reads_of_the_history_run_no_program_of_the_repository(repo_and_marker):
    repo, _, marker = repo_and_marker
    handle = open_repo(repo.path)
    fix = repo.git("rev-parse", "HEAD")

    list(iter_commits(handle, branch="main"))
    assert diff_hunks(handle, fix, "app.py").hunks
    blame(handle, "app.py", 1, 6, fix)
    assert file_at(handle, fix, "app.py") == numbered(6)
    assert not marker.exists()


def test_git_run_by_a_scanner_in_the_tree_runs_no_program_of_the_repository(
    repo_and_marker, tmp_path
):
    repo, sha, marker = repo_and_marker
    handle = open_repo(repo.path)
    with checked_out(handle, sha, work_root=tmp_path / "work") as checkout:
        (checkout.tree / "app.py").unlink()
        env = tool_environment({}, tree=checkout.tree)
        restored = subprocess.run(["git", "checkout", "--", "app.py"], cwd=checkout.tree,
                                  env=env, capture_output=True, text=True)  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        assert (checkout.tree / "app.py").read_text() == FILES["app.py"]
        shown = subprocess.run(["git", "log", "-p", "-2"], cwd=checkout.tree, env=env,
                               capture_output=True, text=True)  # fmt: skip
        assert shown.returncode == 0 and "+++ b/app.py" in shown.stdout, shown.stderr
        assert not marker.exists()
        # Control: the same git without the scanner's environment runs the filter.
        (checkout.tree / "app.py").unlink()
        subprocess.run(["git", "checkout", "--", "app.py"], cwd=checkout.tree,
                       capture_output=True, check=False)  # fmt: skip
        assert marker.exists()
