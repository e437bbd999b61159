"""A reviewer reads a claim's evidence on the finding page, in a real browser: the fix commit
and why, the diff hunk at the claimed lines, the closest code with its score, and what
could not be checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bench.git_repo_gen import ScratchRepo
from findings.models import Project
from findings.services import claim_verify, repository_link
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.findings.test_evidence import AFTER, BEFORE, app_source, make_claim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def linked(tmp_path: Path, settings) -> tuple[Project, ScratchRepo]:
    settings.AUDITDASH_REPO_ROOTS = str(tmp_path)
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    repo = ScratchRepo(tmp_path / "lily")
    repo.commit("Add the loader", {"app.py": app_source(BEFORE), "README": "lily\n"})
    project = Project.objects.create(key="LILY", name="Lily")
    return project, repo


def test_a_true_and_a_false_claim_show_their_fix_commit_hunk_and_score(page, live_server, linked):
    project, repo = linked
    # An earlier commit, cited as the fix by a second claim, only adds a note (with markup).
    note = "    # TODO <b>catch OSError</b>\n"
    tidy = repo.commit("Note the bare except", {"app.py": app_source(note + BEFORE)})
    fix = repo.commit("Catch only OSError in load", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(repo.path))
    true = make_claim(project, commits=[fix[:7]])
    false = make_claim(project, commits=[tidy[:7]])
    assert claim_verify(claim=true).level == "code-checked"
    assert claim_verify(claim=false).level == "commit-linked"

    page.goto(f"{live_server.url}/p/LILY/findings/{true.finding.number}/")
    claim = page.locator(".claim").first
    expect(claim.locator(".fix-commit")).to_contain_text(f"Fix commit {fix[:12]}")
    expect(claim.locator(".tally")).to_contain_text("passed")
    expect(claim.locator(".tally")).not_to_contain_text("failed")
    lines = claim.locator("tr", has_text="the commit changes the claimed lines")
    expect(lines.locator(".verdict")).to_have_text("pass")
    lines.locator("details.hunk summary").click()
    expect(lines.locator("details.hunk pre")).to_contain_text("-    except:")
    expect(lines.locator("details.hunk pre")).to_contain_text("+    except OSError:")
    after = claim.locator("tr", has_text="the AFTER code is there after the fix")
    expect(after.locator("details.span summary")).to_contain_text("lines 12–15, score 1.00")
    screenshot(page, "claim-evidence-true")
    claim.screenshot(path=str(ARTIFACTS / "claim-evidence-true-card.png"))

    page.goto(f"{live_server.url}/p/LILY/findings/{false.finding.number}/")
    claim = page.locator(".claim").first
    expect(claim.locator(".fix-commit")).to_contain_text(f"Fix commit {tidy[:12]}")
    expect(claim.locator(".tally")).to_contain_text("failed")
    after = claim.locator("tr", has_text="the AFTER code is there after the fix")
    expect(after.locator(".verdict")).to_have_text("fail")
    expect(after.locator("details.span summary")).to_contain_text("score 0.")
    after.locator("details.span summary").click()
    expect(after.locator("details.span pre")).to_be_visible()
    # Repository text is shown as text, never as markup.
    lines = claim.locator("tr", has_text="the commit changes the claimed lines")
    lines.locator("details.hunk summary").click()
    expect(lines.locator("details.hunk pre")).to_contain_text("+    # TODO <b>catch OSError</b>")
    expect(claim.locator("details pre b")).to_have_count(0)
    gone = claim.locator("tr", has_text="the BEFORE code is gone after the fix")
    expect(gone.locator(".verdict")).to_have_text("fail")
    screenshot(page, "claim-evidence-false")
    claim.screenshot(path=str(ARTIFACTS / "claim-evidence-false-card.png"))
