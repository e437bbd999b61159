"""The code around a finding, read from the linked repository at its last-seen commit."""

from __future__ import annotations

import pytest

from findings.models import Finding, Project
from findings.selectors.finding import finding_code_context
from findings.services.ingest import Options, ingest_file
from tests.conftest import run_tool

pytestmark = pytest.mark.django_db

SOURCE = "\n".join(
    [f"# line {n}" for n in range(1, 11)]
    + ["import subprocess", "subprocess.call('ls', shell=True)"]
    + [f"# after {n}" for n in range(1, 11)]
)


def test_the_detail_page_shows_the_lines_around_the_finding_at_its_commit(
    git_repo, tmp_path, owner_client
):
    git_repo.write("app.py", SOURCE + "\n")
    sha = git_repo.commit("one")
    Project.objects.create(key="CTX", repo_path=str(git_repo.path))
    report = tmp_path / "bandit.json"
    report.write_text(run_tool("bandit", "-q", "-r", ".", "-f", "json", cwd=git_repo.path))
    # The working tree moves on; the context must still come from the scanned commit.
    git_repo.write("app.py", "# rewritten\n")
    git_repo.commit("two")
    ingest_file(report, project_key="CTX", options=Options(commit=sha))
    finding = Finding.objects.get(project__key="CTX", rule_id="B602")
    context = finding_code_context(finding=finding)["code_context"]
    assert context["commit"] == sha
    assert context["first_line"] == finding.start_line - 5
    assert "subprocess.call('ls', shell=True)" in context["text"]
    assert "# line 7" in context["text"] and "# after 5" in context["text"]
    assert "# after 6" not in context["text"]
    page = owner_client.get(f"/p/CTX/findings/{finding.number}/").content.decode()
    assert f"at <code>{sha[:12]}</code>, flagged lines marked" in page


def test_without_a_linked_repository_there_is_no_context(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(SOURCE + "\n")
    report = tmp_path / "bandit.json"
    report.write_text(run_tool("bandit", "-q", "-r", ".", "-f", "json", cwd=source))
    ingest_file(report, project_key="NOREPO", options=Options(commit="a" * 40))
    finding = Finding.objects.get(project__key="NOREPO", rule_id="B602")
    assert finding_code_context(finding=finding) == {"code_context": None}
