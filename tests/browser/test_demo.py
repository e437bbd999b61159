"""The demo `make run` loads, in a real browser: its evidence is visible, and no page shows a
server path or git's own output."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from findings.models import Claim
from tests.browser.conftest import screenshot
from tests.conftest import ROOT, tool_available

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (tool_available("bandit") and tool_available("ruff")), reason="bandit or ruff missing"
    ),
]

# What git prints when it fails, which a page must translate into words.
GIT_OUTPUT = re.compile(r"fatal:|git exited with status|usage: git")
# Links that are not pages of the dashboard, or that act rather than show.
SKIPPED = re.compile(r"^/(accounts/logout|admin|api|static)/|\.(csv|md|json)$")


@pytest.fixture
def demo(tmp_path: Path, settings) -> Path:
    """The demo in the test's own data folder (where its repository lives)."""
    settings.DATA_DIR = tmp_path
    settings.AUDITDASH_REPO_ROOTS = str(tmp_path)
    call_command("demo", stdout=StringIO())
    return tmp_path


def test_the_demo_findings_show_a_scan_confirmed_a_code_checked_and_a_failing_fix(
    page, live_server, demo
):
    for title, level in (
        ("eval() runs user input", "scan-confirmed"),
        ("MD5 checksums", "code-checked"),
        ("Unsafe pickle deserialization", "commit-linked"),
    ):
        number = Claim.objects.get(title=title).finding.number
        page.goto(f"{live_server.url}/p/DEMO/findings/{number}/")
        claims = page.locator("article.claim").filter(has_text=title).first
        expect(claims).to_contain_text(level)
        expect(page.locator("#repository")).to_contain_text("demo-repo, a folder on the server")
        expect(page.locator("#line-history")).not_to_contain_text("cannot read history")
        screenshot(page, f"demo-finding-{level}")
    # The last page is the pickle claim's: its commit left the code the document says is gone.
    # Each check reads as the question it answers, not as its internal name.
    failed = page.locator("tr.check-fail").filter(has_text="the BEFORE code is gone after the fix")
    expect(failed).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("before_absent_at_commit")


def test_no_page_of_the_demo_shows_a_server_path_or_git_output(page, live_server, demo):
    seen: set[str] = set()
    queue = ["/"]
    while queue and len(seen) < 150:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        html = page.content()
        for leak in (str(demo), str(demo.resolve()), str(ROOT)):
            assert leak not in html, f"{path} shows the server path {leak}"
        assert not GIT_OUTPUT.search(page.inner_text("body")), path
        for href in page.eval_on_selector_all(
            "a[href^='/']", "els => els.map(e => e.getAttribute('href'))"
        ):
            link = href.split("#")[0]
            if link and link not in seen and not SKIPPED.search(link.split("?")[0]):
                queue.append(link)
    # Every finding page of the demo was among them.
    assert sum(1 for p in seen if re.fullmatch(r"/p/DEMO/findings/\d+/", p)) >= 17
