"""`manage.py demo` (what `make run` loads): a linked repository whose document's claimed fixes
show every kind of evidence, and a demo user who may create projects."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from findings import access
from findings.models import Claim, ClaimEvidence, Finding, Project, Repository
from tests.conftest import tool_available

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (tool_available("bandit") and tool_available("ruff")), reason="bandit or ruff missing"
    ),
]


@pytest.fixture
def demo(tmp_path: Path, settings) -> str:
    """The demo, built in the test's own data folder; its output."""
    settings.DATA_DIR = tmp_path
    settings.AUDITDASH_REPO_ROOTS = str(tmp_path)
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_the_demo_links_its_repository_and_its_document_shows_each_level_of_evidence(
    demo: str, tmp_path: Path
) -> None:
    project = Project.objects.get(key="DEMO")
    repository = Repository.objects.get(project=project)
    assert Path(repository.path) == (tmp_path / "demo-repo").resolve()
    assert repository.branch == "main" and len(repository.head_sha) == 40
    levels = {
        evidence.claim.title: evidence.level
        for evidence in ClaimEvidence.objects.select_related("claim")
    }
    assert levels == {
        "eval() runs user input": "scan-confirmed",
        "MD5 checksums": "code-checked",
        "Unsafe pickle deserialization": "commit-linked",
    }
    # Each claim speaks for the scanner's finding of its lines, not a finding of its own.
    tools = set(Claim.objects.values_list("finding__tool", flat=True))
    assert tools == {"bandit"}
    failed = ClaimEvidence.objects.get(claim__title="Unsafe pickle deserialization").checks
    assert any(c.name == "before_absent_at_commit" and c.result == "fail" for c in failed)
    assert "eval() runs user input: scan-confirmed" in demo
    # The document claims only what it fixed: the shell=True call it does not mention stays open.
    shell = Finding.objects.filter(rule_id__in=["B602", "S602"])
    assert set(shell.values_list("status", flat=True)) == {"open"}


def test_the_demo_user_is_a_site_admin_who_may_create_projects(demo: str) -> None:
    user = get_user_model().objects.get(username="demo")

    assert user.is_superuser
    assert access.can_create_projects(user)


def test_running_the_demo_again_keeps_the_data_and_only_resets_the_password(demo: str) -> None:
    claims = Claim.objects.count()
    out = StringIO()

    call_command("demo", stdout=out)

    assert Claim.objects.count() == claims == 3
    assert "Demo ready." in out.getvalue() and "scan-confirmed" not in out.getvalue()
