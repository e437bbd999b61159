"""Ingestion end to end: real bandit and ruff on a real repository, and the rules for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from findings.models import Event, Finding, Project, Report, Sighting
from findings.services.ingest import IngestError, Options, ingest_file, scan_import
from tests.conftest import ROOT, GitRepo, run_tool, subprocess_env

pytestmark = pytest.mark.django_db

FIRST = """import subprocess


def run(command):
    return subprocess.call(command, shell=True)


def calculate(expression):
    return eval(expression)


def load(path):
    try:
        return open(path).read()
    except:
        return None
"""

# An edit fixes eval, the bare except goes, pickle arrives, and three lines shift the rest.
SECOND = """\"\"\"Service helpers.\"\"\"

import pickle
import subprocess


def run(command):
    return subprocess.call(command, shell=True)


def calculate(expression):
    return int(expression)


def load(path):
    with open(path) as handle:
        return pickle.loads(handle.read())
"""

# The bare except comes back.
THIRD = SECOND.replace(
    """    with open(path) as handle:
        return pickle.loads(handle.read())
""",
    """    try:
        with open(path) as handle:
            return pickle.loads(handle.read())
    except:
        return None
""",
)


def scan(repo: GitRepo, tmp_path: Path, sha: str) -> tuple[Path, Path]:
    """Real bandit and ruff output for the checked-out commit, written to files."""
    repo.checkout(sha)
    bandit = tmp_path / f"bandit-{sha[:7]}.json"
    bandit.write_text(run_tool("bandit", "-q", "-r", ".", "-f", "json", cwd=repo.path))
    ruff = tmp_path / f"ruff-{sha[:7]}.json"
    ruff.write_text(
        run_tool(
            "ruff",
            "check",
            "--no-cache",
            "--select",
            "E722,S",
            "--output-format",
            "json",
            ".",
            cwd=repo.path,
        )
    )
    return bandit, ruff


@pytest.fixture
def three_commits(git_repo, tmp_path):
    shas = []
    for text in (FIRST, SECOND, THIRD):
        git_repo.write("app.py", text)
        shas.append(git_repo.commit(f"step {len(shas) + 1}"))
    reports = {sha: scan(git_repo, tmp_path, sha) for sha in shas}
    Project.objects.create(key="LILY", repo_path=str(git_repo.path))
    return git_repo, shas, reports


def import_all(repo, order, reports):
    results = []
    for sha in order:
        for path in reports[sha]:
            results.append(
                ingest_file(
                    path,
                    project_key="LILY",
                    options=Options(commit=sha, branch="main", root=str(repo.path)),
                )
            )
    return results


def by_rule(tool: str) -> dict[str, Finding]:
    return {f.rule_id: f for f in Finding.objects.filter(project__key="LILY", tool=tool)}


def assert_history(shas, *, in_order: bool = True):
    first, second, third = shas
    bandit = by_rule("bandit")
    ruff = by_rule("ruff")
    # subprocess with shell=True: seen at every commit, moved down three lines, one finding.
    shell = bandit["B602"]
    assert (shell.status, shell.start_line, shell.first_seen_commit) == ("open", 8, first)
    assert shell.fixed_in_commit == ""
    # eval: fixed by an edit in the second commit.
    assert (bandit["B307"].status, bandit["B307"].fixed_in_commit) == ("verified", second)
    # pickle arrives in the second commit and stays.
    assert (bandit["B301"].status, bandit["B301"].first_seen_commit) == ("open", second)
    # The bare except: fixed in the second commit, back in the third.
    bare = ruff["E722"]
    assert bare.status == "regressed"
    assert bare.fixed_in_commit == ""
    assert bare.last_seen_commit == third
    history = [(e.action, e.before, e.after) for e in bare.events.order_by("created_at", "id")]
    if in_order:
        assert history == [("missing", "open", "verified"), ("seen", "verified", "regressed")]
    else:
        # The third commit's report came first; the second one, arriving late, shows the gap.
        assert history == [("seen", "open", "regressed")]


def test_three_commits_in_order_give_exact_statuses_and_fix_commits(three_commits):
    repo, shas, reports = three_commits
    results = import_all(repo, shas, reports)
    assert_history(shas)
    bandit_second = results[2]
    assert bandit_second.fixed >= 1 and bandit_second.new >= 1
    ruff_third = results[5]
    assert ruff_third.regressed == 1
    assert Finding.objects.filter(project__key="LILY", path__startswith="/").count() == 0


def test_reports_arriving_out_of_order_are_placed_by_commit_date(three_commits):
    repo, shas, reports = three_commits
    import_all(repo, [shas[0], shas[2], shas[1]], reports)
    assert_history(shas, in_order=False)


def test_the_same_report_twice_changes_nothing_and_says_so(three_commits):
    repo, shas, reports = three_commits
    import_all(repo, shas[:1], reports)
    before = (
        Finding.objects.count(),
        Sighting.objects.count(),
        Event.objects.count(),
        Report.objects.count(),
    )
    again = ingest_file(reports[shas[0]][0], project_key="LILY", options=Options(commit=shas[0]))
    assert again.duplicate and "already imported" in again.note
    after = (
        Finding.objects.count(),
        Sighting.objects.count(),
        Event.objects.count(),
        Report.objects.count(),
    )
    assert before == after


def test_a_failure_in_the_middle_of_the_merge_leaves_the_database_unchanged(
    three_commits, monkeypatch
):
    repo, shas, reports = three_commits
    import_all(repo, shas[:1], reports)
    before = [list(m.objects.order_by("pk").values()) for m in (Finding, Sighting, Event, Report)]

    def explode(**kwargs):
        raise RuntimeError("injected failure after the lifecycle pass")

    monkeypatch.setattr(scan_import.services, "report_finish", explode)
    with pytest.raises(RuntimeError, match="injected"):
        ingest_file(reports[shas[1]][0], project_key="LILY", options=Options(commit=shas[1]))
    after = [list(m.objects.order_by("pk").values()) for m in (Finding, Sighting, Event, Report)]
    assert before == after


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


BAD_INPUT = [
    ("empty.json", b"", "the file is empty"),
    ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary data (PNG image)"),
    (
        "truncated.sarif",
        b'{"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "a", "message": {"text": "m"',
        "truncated.sarif",
    ),
    ("latin1.json", b'{"results": [{"filename": "caf\xe9.py", "test_id": "B101"', "latin1.json"),
]


@pytest.mark.parametrize(("name", "data", "expected"), BAD_INPUT)
def test_bad_input_fails_with_a_clear_message_and_changes_nothing(tmp_path, name, data, expected):
    path = write(tmp_path, name, data)
    with pytest.raises(IngestError) as caught:
        ingest_file(path, project_key="BAD")
    assert expected in str(caught.value)
    assert name in str(caught.value)
    assert not Project.objects.filter(key="BAD").exists()
    assert Report.objects.count() == Finding.objects.count() == Event.objects.count() == 0


def test_an_oversized_report_is_refused_before_it_is_read(tmp_path, settings):
    settings.MAX_REPORT_BYTES = 100
    path = write(tmp_path, "big.sarif", b" " * 101)
    with pytest.raises(IngestError, match="101 bytes is over the limit of 100 bytes"):
        ingest_file(path, project_key="BIG")


def test_the_ingest_command_prints_json_counts_for_scripts(three_commits):
    repo, shas, reports = three_commits
    out = StringIO()
    call_command(
        "ingest",
        str(reports[shas[0]][0]),
        project="LILY",
        commit=shas[0],
        root=str(repo.path),
        json=True,
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert set(data) >= {
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
    }
    assert (data["project"], data["format"], data["commit"]) == ("LILY", "bandit", shas[0])
    assert data["new"] == Finding.objects.filter(tool="bandit").count() > 0


def test_the_ingest_command_fails_with_a_nonzero_exit_and_a_named_file(tmp_path):
    bad = write(tmp_path, "broken.json", b"[{")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("ingest", str(bad), project="LILY", stderr=err)
    assert "broken.json" in err.getvalue()
    assert not Project.objects.exists()


def test_an_invalid_project_key_is_refused(tmp_path, three_commits):
    repo, shas, reports = three_commits
    with pytest.raises(IngestError, match="project key 'lily!' is not valid"):
        ingest_file(reports[shas[0]][0], project_key="lily!")


def test_export_lists_every_finding_with_its_lifecycle_facts(three_commits):
    repo, shas, reports = three_commits
    import_all(repo, shas, reports)
    out = StringIO()
    call_command("export", project="LILY", fmt="json", stdout=out)
    rows = json.loads(out.getvalue())
    assert len(rows) == Finding.objects.count()
    eval_row = next(r for r in rows if r["rule"] == "B307")
    assert eval_row["status"] == "verified" and eval_row["fixed_in_commit"] == shas[1]
    assert set(eval_row) == {
        "key",
        "fingerprint",
        "tool",
        "rule",
        "severity",
        "status",
        "path",
        "start_line",
        "end_line",
        "first_seen_commit",
        "last_seen_commit",
        "fixed_in_commit",
    }
    csv_out = StringIO()
    call_command("export", project="LILY", fmt="csv", stdout=csv_out)
    assert csv_out.getvalue().splitlines()[0].startswith("key,fingerprint,tool,rule")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_importing_at_once_never_duplicate(tmp_path, git_repo):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    git_repo.write("app.py", FIRST)
    sha = git_repo.commit("one")
    bandit, ruff = scan(git_repo, tmp_path, sha)
    env = subprocess_env()
    manage = [sys.executable, str(ROOT / "manage.py"), "ingest", "--project", "RACE", "--json"]
    procs = [
        subprocess.Popen(
            [*manage, str(path)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (bandit, bandit, ruff, ruff)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    results = [json.loads(out) for out, _ in outputs]
    assert sorted(r["duplicate"] for r in results) == [False, False, True, True]
    assert Report.objects.filter(project__key="RACE").count() == 2
    numbers = list(Finding.objects.filter(project__key="RACE").values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    fresh = sum(r["new"] for r in results)
    assert fresh == len(numbers)
