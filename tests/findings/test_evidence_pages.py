"""The finding page shows each claim's evidence level and its checks, and the repository the
claims were checked against."""

from __future__ import annotations

import pytest

from bench.git_repo_gen import ScratchRepo
from findings.models import Project
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


def test_the_finding_page_shows_the_evidence_level_and_every_check_with_its_reason(
    owner_client,
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:7]], files=[{"path": "app.py", "lines": [[3, 3]]}])
    claim_verify(claim=claim)

    page = owner_client.get(f"/p/LILY/findings/{claim.finding.number}/").content.decode()

    assert "commit-linked" in page
    assert "the commit changes the claimed lines" in page and "does not touch lines 3" in page
    assert "<strong>fail</strong>" in page and "<strong>pass</strong>" in page
    assert f"<code>{fix[:12]}</code>" in page
    assert "branch <code>main</code>" in page and "read in place" in page
    # The repository is named by its folder's name: a page shows no server path.
    assert "lily, a folder on the server" in page and str(scratch.path.parent) not in page


def test_an_unchecked_claim_and_an_unlinked_project_say_so(
    owner_client,
    project: Project,  # noqa: F811
) -> None:
    claim = make_claim(project, commits=["e4121ef"])

    page = owner_client.get(f"/p/LILY/findings/{claim.finding.number}/").content.decode()

    assert "not checked yet" in page
    assert "No repository is linked" in page
    assert "manage.py link_repo --project LILY" in page


def test_the_checks_of_many_claims_cost_the_page_no_query_each(
    owner_client,
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
    django_assert_max_num_queries,
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    first = make_claim(project, commits=[fix[:7]], files=[{"path": "app.py", "lines": [[3, 3]]}])
    claim_verify(claim=first)
    url = f"/p/LILY/findings/{first.finding.number}/"
    with django_assert_max_num_queries(1000) as one:
        owner_client.get(url)
    for _ in range(3):
        claim = make_claim(project, commits=[fix[:7]], finding=first.finding)
        claim_verify(claim=claim)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = owner_client.get(url).content.decode()
    # Every claim's table of checks is there, each with its own rows.
    assert page.count('class="grid checks"') == 4
    assert page.count("the commit changes the claimed lines") >= 4
