"""`manage.py verify --project KEY [--json]`: per claim, the finding, the document, the
evidence level and every check with its result and reason."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bench.git_repo_gen import ScratchRepo
from findings.models import Project
from findings.services import repository_link
from tests.findings.test_evidence import (  # noqa: F401 - fixtures
    AFTER,
    app_source,
    make_claim,
    project,
    roots,
    scratch,
)

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("verify", *args, stdout=out)
    return out.getvalue()


def test_verify_json_lists_each_claim_with_its_evidence_and_checks(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    good = make_claim(project, commits=[fix[:7]])
    missing = make_claim(project, commits=["0badc0de"])

    results = json.loads(run("--project", "LILY", "--json"))

    assert [r["claim_title"] for r in results] == [good.title, missing.title]
    for result in results:
        assert set(result) == {"finding", "document", "claim_title", "evidence", "checks"}
        for check in result["checks"]:
            assert {"name", "result", "reason", "commit"} <= set(check)
            assert check["result"] in ("pass", "fail", "cannot-check")
    first, second = results
    assert first["finding"] == good.finding.key and first["evidence"] == "code-checked"
    assert first["document"] == "handoff.md"
    assert first["checks"][0] == {
        "name": "commit_exists",
        "result": "pass",
        "reason": f"{fix[:7]} is {fix}",
        "commit": fix,
    }
    assert second["evidence"] == "unverified"
    assert second["checks"][0]["result"] == "fail"
    skipped = [c for c in second["checks"] if c["name"] == "touches_file"]
    assert skipped and skipped[0]["result"] == "cannot-check"


def test_verify_prints_one_block_per_claim_with_reasons(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Touch the readme only", {"README": "x\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix])

    text = run("--project", "LILY")

    assert f"{claim.finding.key}  commit-linked  “{claim.title}” (handoff.md)" in text
    assert (
        f"FAIL         touches_file app.py @{fix[:12]}: commit {fix[:12]} does not change" in text
    )
    assert "LILY: 1 claims: 1 commit-linked" in text


def test_verify_of_a_project_without_claims_or_an_unknown_project_says_so(
    project: Project,  # noqa: F811
) -> None:
    assert run("--project", "LILY") == "LILY: no claimed fixes to verify\n"
    with pytest.raises(CommandError, match="no project with key 'NOPE'"):
        run("--project", "NOPE")
