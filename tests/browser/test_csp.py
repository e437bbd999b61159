"""Every page under the Content-Security-Policy in a real Chromium: nothing is blocked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from findings.models import Role
from findings.services import finding_transition, membership_set, project_get_or_create
from tests.browser.conftest import screenshot
from tests.conftest import make_document, make_finding

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collected before any page script runs: every CSP violation the page reports, and htmx's
# injected indicator style would be one.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
});
"""


@pytest.fixture
def site(live_server, django_user_model):
    """ACME with findings in several states, a scan report, a document and two members."""
    project, _ = project_get_or_create(key="ACME")
    make_finding(project, title="Open eval <script>alert(1)</script>")
    claimed = make_finding(project, title="Unsafe pickle load")
    developer = django_user_model.objects.create_user("dana")
    membership_set(project=project, user=developer, role=Role.DEVELOPER)
    finding_transition(finding=claimed, event="claim", actor=developer)
    document = make_document(project, text="# Handoff\n\n<img src=x onerror=alert(1)>\n")
    reviewer = django_user_model.objects.create_user("remy", password="reviewer-pass-4242")
    membership_set(project=project, user=reviewer, role=Role.MANAGER)
    return {"project": project, "claimed": claimed, "document": document}


@pytest.fixture
def csp_page(browser, live_server, site):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(20_000)
    console: list[str] = []
    page.on(
        "console",
        lambda message: console.append(message.text) if message.type == "error" else None,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "remy")
    page.fill("#id_password", "reviewer-pass-4242")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.console_errors = console
    yield page
    context.close()


def _assert_clean(page, where: str) -> None:
    violations = page.evaluate("window.__cspViolations")
    csp_console = [text for text in page.console_errors if "Content Security Policy" in text]
    assert violations == [] and csp_console == [], f"{where}: {violations} {csp_console}"


def test_every_page_loads_under_the_csp_without_a_violation(csp_page, live_server, site):
    document = site["document"]
    claimed = site["claimed"]
    response = csp_page.goto(f"{live_server.url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    for path in [
        "/",
        "/imports/",
        "/p/ACME/",
        f"/p/ACME/findings/{claimed.number}/",
        "/p/ACME/findings/1/",
        f"/imports/{document.pk}/",
        f"/imports/{document.pk}/document/",
        "/p/ACME/members/",
        "/p/ACME/health/",
        "/p/ACME/roadmap/",
        "/p/ACME/sprints/",
    ]:
        csp_page.goto(f"{live_server.url}{path}")
        csp_page.wait_for_load_state("networkidle")
        _assert_clean(csp_page, path)
    csp_page.goto(f"{live_server.url}/accounts/login/")
    _assert_clean(csp_page, "/accounts/login/")


def test_htmx_swaps_under_the_csp_without_a_violation(csp_page, live_server, site):
    claimed = site["claimed"]
    csp_page.goto(f"{live_server.url}/p/ACME/")
    csp_page.fill("input[name=q]", "eval")
    expect(csp_page.locator("#board-columns")).not_to_contain_text("Unsafe pickle load")
    expect(csp_page.locator("#board-columns")).to_contain_text("Open eval")
    _assert_clean(csp_page, "board filter")
    csp_page.goto(f"{live_server.url}/p/ACME/findings/{claimed.number}/")
    csp_page.check("input[name=verdict][value=approve]")
    csp_page.fill("#id_review_comment", "Checked the diff.")
    csp_page.click("#finding-actions button:has-text('Record review')")
    expect(csp_page.locator("#finding-actions")).to_contain_text("approve recorded")
    expect(csp_page.locator("#finding-actions .status")).to_have_text("Signed off")
    _assert_clean(csp_page, "review through htmx")
    screenshot(csp_page, "csp-review-recorded")
    claimed.refresh_from_db()
    assert claimed.status == "signed_off"
    # The planted markup in a title stayed text: no script ran, nothing was blocked.
    csp_page.goto(f"{live_server.url}/p/ACME/")
    assert csp_page.evaluate("typeof window.alert") == "function"
    expect(csp_page.locator("#board-columns")).to_contain_text("<script>alert(1)</script>")
