"""Claimed line numbers from a document, end to end: written "~20", read, stored and checked.

The repository is built in the test; the document is ingested with ``manage.py ingest
--commit`` as a reviewer would, and its claim verified by ``claim_verify``.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.git_repo_gen import ScratchRepo
from findings.models import Claim, Project
from findings.services import claim_verify, repository_link
from tests.findings.test_evidence import (  # noqa: F401 - fixtures
    AFTER,
    app_source,
    make_claim,
    project,
    roots,
    scratch,
)

pytestmark = pytest.mark.django_db


def handoff(lines: str, commit: str) -> str:
    return (
        "# Remediation handoff\n\n"
        "## Fix 1: Bare except in load ✅\n\n"
        f"**File:** `app.py`\n**Lines:** {lines}\n**Commit:** {commit[:8]}\n\n"
        "Catch only OSError instead of every exception.\n"
    )


def ingest_claim(tmp_path: Path, project: Project, text: str, commit: str) -> Claim:  # noqa: F811
    path = tmp_path / f"handoff-{len(list(tmp_path.glob('handoff-*')))}.md"
    path.write_text(text, encoding="utf-8")
    call_command(
        "ingest", str(path), "--project", project.key, "--commit", commit, stdout=StringIO()
    )
    return Claim.objects.filter(project=project).latest("pk")


def test_a_line_written_with_a_tilde_is_checked_as_approximate_and_a_plain_one_is_not(
    tmp_path: Path,
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    # The fix changes line 14 (the except clause); the document says line 20, 6 lines off.
    fix = scratch.commit("Catch only OSError in load", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))

    rough = ingest_claim(tmp_path, project, handoff("~20", fix), fix)
    exact = ingest_claim(tmp_path, project, handoff("20", fix), fix)

    assert rough.files == [{"path": "app.py", "lines": [[20, 20]], "approximate": [[20, 20]]}]
    assert exact.files == [{"path": "app.py", "lines": [[20, 20]]}]
    assert rough.file_lines == [("app.py", "~20")] and exact.file_lines == [("app.py", "20")]
    passed = next(c for c in claim_verify(claim=rough).checks if c.name == "diff_overlaps")
    assert passed.result == "pass"
    assert "approximate (~20)" in passed.reason and "6 lines off" in passed.reason
    failed = next(c for c in claim_verify(claim=exact).checks if c.name == "diff_overlaps")
    assert failed.result == "fail" and "does not touch lines 20" in failed.reason, failed.reason


def test_a_claim_stored_before_lines_could_be_approximate_is_checked_as_exact(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError in load", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:7]], files=[{"path": "app.py", "lines": [[16, 16]]}])

    check = next(c for c in claim_verify(claim=claim).checks if c.name == "diff_overlaps")

    assert check.result == "pass" and "approximate" not in check.reason
