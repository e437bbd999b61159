"""The dashboard in a real browser: filter the board, move a card, plan a sprint, look at pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from findings.models import Event, Finding, Project, Severity, Sprint
from findings.services import project_get_or_create
from findings.services.ingest import ingest_file
from tests.browser.conftest import screenshot
from tests.conftest import SEEDS
from tests.findings.test_dashboard_board import make_findings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lily() -> Project:
    """A project with a seed remediation document (phases, health) and scanner-like findings."""
    for seed in sorted(SEEDS.glob("seed_00*_*.txt"))[:2]:
        ingest_file(seed, project_key="LILY")
    project = Project.objects.get(key="LILY")
    make_findings(project, 3, severity=Severity.CRITICAL, path="api/orders.py", title="SQL built")
    make_findings(project, 4, severity=Severity.MEDIUM, path="web/views.py", tool="semgrep")
    make_findings(project, 2, severity=Severity.HIGH, status="claimed", age_days=12)
    make_findings(project, 1, severity=Severity.LOW, status="verified", age_days=30)
    return project


def test_filtering_the_board_narrows_every_column_and_keeps_the_filter_in_the_address(
    page, live_server, lily
):
    page.goto(f"{live_server.url}/p/LILY/")
    expect(page.locator("h1")).to_contain_text("LILY status board")
    screenshot(page, "dashboard-board")
    open_count = Finding.objects.filter(project=lily, status="open").count()
    expect(page.locator('[data-status="open"] .count')).to_have_text(str(open_count))
    page.select_option("select[name=severity]", "critical")
    expect(page).to_have_url(re.compile(r"severity=critical"))
    expect(page.locator('[data-status="open"] .count')).to_have_text("3")
    cards = page.locator('[data-status="open"] .fcard')
    expect(cards).to_have_count(3)
    for index in range(3):
        expect(cards.nth(index).locator(".sev")).to_have_text("critical")
    page.fill("input[name=path]", "web/")
    expect(page.locator('[data-status="open"]')).to_contain_text("Nothing here with these filters")
    screenshot(page, "dashboard-board-filtered-empty")
    page.reload()  # the address alone brings the same board back
    expect(page.locator("input[name=path]")).to_have_value("web/")
    expect(page.locator("select[name=severity]")).to_have_value("critical")


def test_moving_a_card_with_its_button_and_by_dragging_it(page, live_server, lily):
    page.goto(f"{live_server.url}/p/LILY/?severity=critical")
    card = page.locator('[data-status="open"] .fcard').first
    key = card.locator(".fkey").inner_text()
    card.get_by_role("button", name=re.compile("Claim fixed")).click()
    expect(page.locator("#board-columns [role=status]")).to_contain_text(
        f"{key} moved to Claimed fixed."
    )
    expect(page.locator('[data-status="claimed"]')).to_contain_text(key)
    expect(page.locator('[data-status="open"] .count')).to_have_text("2")
    expect(page).to_have_url(re.compile(r"severity=critical"))  # the filter survives the move
    number = int(key.split("-")[1])
    assert Finding.objects.get(project=lily, number=number).status == "claimed"
    assert Event.objects.filter(finding__number=number, action="claim").exists()
    screenshot(page, "dashboard-board-moved")
    dragged = page.locator('[data-status="open"] .fcard').first
    dragged_key = dragged.locator(".fkey").inner_text()
    dragged.drag_to(page.locator('[data-status="claimed"]'))
    expect(page.locator('[data-status="claimed"]')).to_contain_text(dragged_key)
    expect(page.locator('[data-status="open"] .count')).to_have_text("1")


def test_planning_a_sprint_and_watching_its_panel_update(page, live_server, lily):
    page.goto(f"{live_server.url}/p/LILY/sprints/")
    expect(page.locator("#sprint-panel")).to_contain_text("No sprint yet")
    today = timezone.localdate()
    page.fill("#id_name", "Sprint 7")
    page.fill("#id_start", (today - timedelta(days=2)).isoformat())
    page.fill("#id_end", (today + timedelta(days=11)).isoformat())
    page.fill("#id_capacity", "2")
    page.click(".sprint-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Created the sprint 'Sprint 7'.")
    expect(page.locator("#sprint-panel")).to_contain_text("0 of 2 planned")
    sprint = Sprint.objects.get(project=lily, name="Sprint 7")
    first = page.locator("#backlog tbody tr").first
    key = first.locator("a").first.inner_text()
    first.locator("select[name=sprint]").select_option(str(sprint.pk))
    first.locator("select[name=assignee]").select_option("rita")
    first.get_by_role("button", name="Save").click()
    expect(page.locator(f"#plan-{key.split('-')[1]}")).to_contain_text(f"{key} planned.")
    expect(page.locator("#sprint-panel")).to_contain_text("1 of 2 planned")
    expect(page.locator("#sprint-panel .sprint-list")).to_contain_text(key)
    assert Finding.objects.get(project=lily, number=int(key.split("-")[1])).sprint == sprint
    screenshot(page, "dashboard-sprints")


def test_the_overview_health_and_roadmap_pages_render_for_a_newcomer(page, live_server, lily):
    project_get_or_create(key="EMPTY")
    page.goto(f"{live_server.url}/")
    expect(page.locator("table.overview")).to_contain_text("LILY")
    screenshot(page, "dashboard-overview")
    page.get_by_role("link", name="LILY").first.click()
    page.get_by_role("link", name="Health").click()
    expect(page.locator("h1")).to_contain_text("system health")
    expect(page.locator(".health-panel").first).to_be_visible()
    screenshot(page, "dashboard-health")
    page.get_by_role("link", name="Roadmap").click()
    expect(page.locator(".roadmap").first).to_contain_text("Phase 1")
    screenshot(page, "dashboard-roadmap")
    page.get_by_role("link", name="Metrics").click()
    expect(page.locator("#m-open")).to_contain_text("Open findings by severity")
    expect(page.locator("svg.chart").first).to_be_visible()
    # Every claimed, verified or signed-off finding has an evidence level, unchecked ones too.
    claimed = Finding.objects.filter(project=lily, status="claimed").count()
    expect(page.locator('[data-now="claimed_fixed"]')).to_have_text(str(claimed))
    # Nothing here was checked or re-scanned: every claimed fixed or verified one is unverified.
    unchecked = Finding.objects.filter(project=lily, status__in=["claimed", "verified"]).count()
    unverified = (
        page.locator("#m-evidence").locator("xpath=..").locator("tr", has_text="unverified")
    )
    expect(unverified).to_have_text(re.compile(rf"unverified\s*{unchecked}$"))
    screenshot(page, "dashboard-metrics")


def test_signing_a_fix_off_from_the_review_queue(page, live_server, lily):
    page.goto(f"{live_server.url}/p/LILY/reviews/")
    expect(page.locator("h1")).to_contain_text("awaiting sign-off")
    screenshot(page, "dashboard-reviews")
    item = page.locator(".review-item").first
    key = item.locator(".fkey").inner_text()
    item.get_by_role("button", name="Needs work").click()
    expect(item.locator(".review-result")).to_contain_text("needs a comment saying why")
    item.get_by_role("button", name="Approve").click()
    expect(item.locator(".review-result")).to_contain_text(
        f"{key}: approve recorded. Now signed off."
    )
    number = int(key.split("-")[1])
    assert Finding.objects.get(project=lily, number=number).status == "signed_off"
    page.goto(f"{live_server.url}/p/LILY/")
    expect(page.locator('[data-status="signed_off"]')).to_contain_text(key)
