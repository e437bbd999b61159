"""Moves, renames, deletions, edited lines and partial scans, on real scans of a real history.

One repository, five commits: the base; a sub-directory flattened (every file of
``pkg/sub`` moved up to ``pkg``); a flagged line edited cosmetically (``yaml.load(f)`` to
``yaml.load(f, Loader=yaml.Loader)``, still unsafe); the same line really fixed
(``yaml.safe_load``); a file deleted. bandit, ruff and semgrep each scan every commit, in
JSON and in SARIF, plus a scan of ``pkg/sub`` alone at the base. Each tool's reports are
imported in order into a project with and without the linked repository.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from findings.models import Event, Finding, Project, ScanChange
from findings.services.ingest import IngestResult, Options, ingest_file
from tests.conftest import GitRepo, run_tool

RULES = """rules:
- id: yaml-load
  pattern: yaml.load(...)
  message: yaml.load can build any object
  languages: [python]
  severity: ERROR
- id: shell-call
  pattern: subprocess.call(..., shell=True)
  message: a shell runs the command
  languages: [python]
  severity: ERROR
- id: pickle-loads
  pattern: pickle.loads(...)
  message: unpickling runs code
  languages: [python]
  severity: WARNING
"""
LOADER = "import yaml\n\n\ndef load(f):\n    return yaml.load(f)\n"
SHELL = "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
OTHER = "import pickle\n\n\ndef thaw(b):\n    return pickle.loads(b)\n"
STEPS = ("base", "flattened", "edited", "fixed", "deleted")


def _history(repo: GitRepo) -> dict[str, str]:
    repo.write("pkg/sub/loader.py", LOADER)
    repo.write("pkg/sub/shell.py", SHELL)
    repo.write("pkg/other.py", OTHER)
    shas = {"base": repo.commit("base")}
    repo.git("mv", "pkg/sub/loader.py", "pkg/loader.py")
    repo.git("mv", "pkg/sub/shell.py", "pkg/shell.py")
    shas["flattened"] = repo.commit("flatten pkg/sub")
    repo.write("pkg/loader.py", LOADER.replace("yaml.load(f)", "yaml.load(f, Loader=yaml.Loader)"))
    shas["edited"] = repo.commit("name the loader")
    repo.write("pkg/loader.py", LOADER.replace("yaml.load(f)", "yaml.safe_load(f)"))
    shas["fixed"] = repo.commit("safe load")
    repo.git("rm", "-q", "pkg/other.py")
    shas["deleted"] = repo.commit("drop other")
    return shas


def _scan(tool: str, checkout: Path, rules: Path, target: str) -> str:
    """One real scan of ``target`` in ``checkout``: ``tool`` is ``<name>-<json|sarif>``."""
    name, fmt = tool.split("-")
    if name == "bandit":
        return run_tool("bandit", "-q", "-r", target, "-f", fmt, cwd=checkout)
    if name == "ruff":
        return run_tool(
            "ruff", "check", "--no-cache", "--select", "S", "--output-format", fmt, target,
            cwd=checkout,
        )  # fmt: skip
    return run_tool(
        "semgrep", "--config", str(rules), f"--{fmt}", "--metrics=off",
        "--disable-version-check", "-q", target, cwd=checkout,
    )  # fmt: skip


TOOLS = ("bandit-json", "bandit-sarif", "ruff-json", "ruff-sarif", "semgrep-json", "semgrep-sarif")


@dataclass(frozen=True)
class History:
    repo: Path
    shas: dict[str, str]
    checkouts: dict[str, Path]
    reports: dict[tuple[str, str], Path]
    """(tool, step) → report file; step "partial" is a scan of pkg/sub at the base."""


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    root = tmp_path_factory.mktemp("moves")
    repo = GitRepo(root / "repo")
    shas = _history(repo)
    rules = root / "rules.yml"
    rules.write_text(RULES)
    checkouts, reports = {}, {}
    for step, sha in shas.items():
        checkout = root / step
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(checkout), sha],
            cwd=repo.path, check=True, capture_output=True,
        )  # fmt: skip
        checkouts[step] = checkout
    for tool in TOOLS:
        # In the order of the history: without a repository, reports that state their own
        # time (bandit) are placed by it.
        steps = [("base", "."), ("partial", "pkg/sub"), *((s, ".") for s in STEPS[1:])]
        for step, target in steps:
            path = root / "reports" / f"{tool}-{step}.{tool.split('-')[1]}"
            path.parent.mkdir(exist_ok=True)
            checkout = checkouts["base" if step == "partial" else step]
            path.write_text(_scan(tool, checkout, rules, target))
            reports[tool, step] = path
    return History(repo.path, shas, checkouts, reports)


def _import(history: History, key: str, tool: str, step: str) -> IngestResult:
    at = "base" if step == "partial" else step
    options = Options(
        commit=history.shas[at],
        root=str(history.checkouts[at]),
        remember_root=False,
        only="pkg/sub" if step == "partial" else "",
    )
    return ingest_file(history.reports[tool, step], project_key=key, options=options)


def _says(client, finding: Finding) -> str:
    """What the finding page says the scans say of it ("" when it says nothing)."""
    page = client.get(f"/p/{finding.project.key}/findings/{finding.number}/").content.decode()
    found = re.search(r'<dd class="scan-words">([^<]*)</dd>', page)
    return found.group(1) if found else ""


def _listed(tool: str) -> bool:
    """Whether the tool's report lists the files it scanned (bandit's metrics, semgrep's
    paths.scanned): then it knows a file it does not list is gone, without a repository."""
    return tool in ("bandit-json", "semgrep-json")


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("linked", [True, False], ids=["repository", "no-repository"])
@pytest.mark.parametrize("tool", TOOLS)
def test_a_history_of_moves_edits_fixes_and_deletions_counts_each_finding_once(
    history, tool, linked, owner_client
):
    key = "MV"
    Project.objects.create(key=key, repo_path=str(history.repo) if linked else "")
    first = _import(history, key, tool, "base")
    assert first.new >= 3
    everything = set(Finding.objects.values_list("pk", "number"))
    by_file = {
        name: set(Finding.objects.filter(path=f"pkg/{name}").values_list("pk", flat=True))
        for name in ("sub/loader.py", "sub/shell.py", "other.py")
    }
    assert all(by_file.values()), by_file

    # A scan of pkg/sub alone: pkg/other.py was not scanned, its findings stay open.
    partial = _import(history, key, tool, "partial")
    assert (partial.new, partial.fixed) == (0, 0)
    other = Finding.objects.filter(pk__in=by_file["other.py"])
    assert {f.status for f in other} == {"open"}
    assert {f.last_seen_report_id for f in other} == {first.report}
    day = other[0].last_seen_at.strftime("%Y-%m-%d")
    assert _says(owner_client, other[0]) == f"not seen since {day} (partial scan)"

    # The directory flattened: the same findings, moved, none new, none fixed.
    flat = _import(history, key, tool, "flattened")
    moved = by_file["sub/loader.py"] | by_file["sub/shell.py"]
    assert (flat.new, flat.fixed, flat.still_open) == (0, 0, len(everything))
    assert set(Finding.objects.values_list("pk", "number")) == everything
    for finding in Finding.objects.filter(pk__in=moved):
        assert finding.path.startswith("pkg/") and "/sub/" not in finding.path
        assert finding.status == "open" and finding.scan_change == ScanChange.MOVED
    notes = set(Event.objects.filter(action="moved").values_list("note", flat=True))
    assert f"moved from pkg/sub/loader.py to pkg/loader.py in {history.shas['flattened'][:12]}" in (
        notes
    )
    assert Event.objects.filter(action="moved").count() == len(moved)
    board = owner_client.get(f"/p/{key}/").content.decode()
    # Each moved card says from where, in words (not the bare state).
    assert board.count('<p class="scan-words">moved from pkg/sub/') == len(moved)
    shell = Finding.objects.filter(pk__in=by_file["sub/shell.py"]).first()
    page = owner_client.get(f"/p/{key}/findings/{shell.number}/").content.decode()
    assert "Moved" in page and "moved from pkg/sub/shell.py to pkg/shell.py" in page
    flattened_in = history.shas["flattened"][:12]
    assert _says(owner_client, shell) == (
        f"moved from pkg/sub/shell.py to pkg/shell.py in {flattened_in}"
    )

    # The flagged line edited, still unsafe: the same finding, still present (changed).
    edited = _import(history, key, tool, "edited")
    assert (edited.new, edited.fixed, edited.still_open) == (0, 0, len(everything))
    (loader,) = Finding.objects.filter(pk__in=by_file["sub/loader.py"])
    assert loader.scan_change == ScanChange.EDITED and loader.status == "open"
    event = Event.objects.get(finding=loader, action="edited")
    assert event.note.startswith("still present (changed): ")
    assert _says(owner_client, loader).startswith("still present (changed): ")

    # Really fixed: gone from a file that is still there.
    fixed = _import(history, key, tool, "fixed")
    assert (fixed.new, fixed.fixed) == (0, 1)
    loader.refresh_from_db()
    assert loader.status == "verified"
    changed = ScanChange.CHANGED if linked or _listed(tool) else ""
    assert loader.scan_change == changed
    assert _says(owner_client, loader) == ("fixed (code changed)" if changed else "")

    # A file deleted: its findings are fixed, the code removed.
    deleted = _import(history, key, tool, "deleted")
    assert (deleted.new, deleted.fixed) == (0, len(by_file["other.py"]))
    removed = ScanChange.REMOVED if linked or _listed(tool) else ""
    other = Finding.objects.filter(pk__in=by_file["other.py"])
    assert {f.scan_change for f in other} == {removed}
    assert {f.status for f in other} == {"verified"}
    assert _says(owner_client, other[0]) == ("fixed (code removed)" if removed else "")
    assert ("fixed (code removed)" in owner_client.get(f"/p/{key}/").content.decode()) == bool(
        removed
    )
    assert Finding.objects.count() == len(everything)


def _bandit(repo: GitRepo, tmp_path: Path, name: str, target: str = ".") -> Path:
    report = tmp_path / f"{name}.json"
    report.write_text(run_tool("bandit", "-q", "-r", target, "-f", "json", cwd=repo.path))
    return report


@pytest.mark.django_db
@pytest.mark.parametrize("linked", [True, False], ids=["repository", "no-repository"])
def test_a_function_moved_to_another_file_is_the_same_finding(git_repo, tmp_path, linked):
    Project.objects.create(key="FN", repo_path=str(git_repo.path) if linked else "")
    git_repo.write("app/a.py", "def ok():\n    return 1\n\n\n" + SHELL)
    git_repo.write("app/b.py", "def nothing():\n    pass\n")
    before = git_repo.commit("both")
    ingest_file(
        _bandit(git_repo, tmp_path, "one"), project_key="FN", options=Options(commit=before)
    )
    call = Finding.objects.get(rule_id="B602")

    git_repo.write("app/a.py", "def ok():\n    return 1\n")
    git_repo.write("app/b.py", "def nothing():\n    pass\n\n\n" + SHELL)
    after = git_repo.commit("run() moves to b.py")
    result = ingest_file(
        _bandit(git_repo, tmp_path, "two"), project_key="FN", options=Options(commit=after)
    )

    assert (result.new, result.fixed, result.still_open) == (0, 0, 2)
    call.refresh_from_db()
    assert (call.path, call.status, call.scan_change) == ("app/b.py", "open", "moved")
    assert Event.objects.get(finding=call, action="moved").note == (
        f"moved from app/a.py to app/b.py in {after[:12]}"
    )


@pytest.mark.django_db
def test_a_partial_scan_pairs_nothing_with_files_it_did_not_scan(git_repo, tmp_path):
    git_repo.write("pkg/a.py", SHELL)
    git_repo.write("lib/b.py", OTHER)
    first = git_repo.commit("two files")
    ingest_file(_bandit(git_repo, tmp_path, "one"), project_key="PT", options=Options(commit=first))
    kept = Finding.objects.get(rule_id="B602")

    git_repo.write("lib/c.py", SHELL)  # the same code as pkg/a.py, which this scan skips
    second = git_repo.commit("c.py")
    result = ingest_file(
        _bandit(git_repo, tmp_path, "two", "lib"), project_key="PT", options=Options(commit=second)
    )

    assert (result.new, result.fixed) == (2, 0)  # lib/c.py's import and call
    kept.refresh_from_db()
    assert (kept.path, kept.status, kept.scan_change) == ("pkg/a.py", "open", "")
    assert "covered only lib" in result.note
    assert not Event.objects.filter(action="moved").exists()
