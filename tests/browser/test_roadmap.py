"""A sprint planner in a real browser: the roadmap after the four seed documents, and a
document's "This Sprint" section adopted as a sprint in one click."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from findings.models import Finding, Phase, Project, Sprint
from findings.services.ingest import ingest_file
from tests.browser.conftest import screenshot
from tests.conftest import SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCUMENTS = [
    "Complete Technical Handoff - CodeX Review Document",
    "Critical Fixes Applied to app.py",
    "Phase 2 - Tier 1 (Critical) Fixes Applied",
]


@pytest.fixture
def lily() -> Project:
    for seed in sorted(SEEDS.glob("seed_00*_*.txt")):
        ingest_file(seed, project_key="LILY")
    return Project.objects.get(key="LILY")


def test_the_roadmap_of_four_documents_is_grouped_counted_and_drawn(page, live_server, lily):
    page.goto(f"{live_server.url}/p/LILY/roadmap/")
    expect(page.locator(".doc-plan > h2 a")).to_have_text(DOCUMENTS)
    handoff = page.locator(".doc-plan").first
    expect(handoff.locator(".phase-row h3")).to_have_text(
        [
            "Phase 1: Quick Wins",
            "Phase 2: Scalability",
            "Phase 3: Long-term",
            "Load Testing Targets",
            "Key Metrics to Monitor",
            "Immediate Actions",
            "Next Sprint Priorities",
            "Long-term Architecture Evolution",
            "Recommended next action",
        ]
    )
    quick = page.locator(".phase-row").filter(
        has=page.get_by_role("heading", name="Phase 1: Quick Wins")
    )
    expect(quick.locator(".tally")).to_contain_text("1 of 4 items done")
    expect(quick.locator(".items li").first).to_contain_text("claimed done")
    expect(quick.locator(".late-flag")).to_have_text("Late: 3 not done")
    testing = page.locator(".phase-row").filter(
        has=page.get_by_role("heading", name="Testing Recommendations")
    )
    expect(testing.locator(".tally")).to_contain_text("5 of 5 items done")
    expect(testing.locator(".tally")).to_contain_text("5 claimed · 0 verified · 0 signed off")
    part = testing.locator(".stack .stack-part")
    expect(part).to_have_count(1)
    assert part.get_attribute("width") == "240.0"  # the whole bar: all five claimed done

    timeline = page.locator("svg.timeline")
    expect(timeline).to_be_visible()
    # Three phases and two sprints of the first document have a window; all ended undone.
    expect(timeline.locator("rect.tl-window")).to_have_count(5)
    expect(timeline.locator("text.tl-late")).to_have_count(5)
    expect(timeline.locator("text.tl-doc")).to_have_count(3)
    page.get_by_text("The timeline as a table").click()
    expect(page.locator(".timeline-card table")).to_contain_text("2025-09-16")
    screenshot(page, "roadmap-four-seeds")


def test_adopting_a_documents_sprint_from_the_roadmap_in_one_click(page, live_server, lily):
    phase = Phase.objects.get(project=lily, name="Immediate Actions")
    page.goto(f"{live_server.url}/p/LILY/roadmap/")
    card = page.locator(f"#phase-{phase.pk}")
    card.get_by_role("link", name="Adopt it as a sprint").click()
    expect(page).to_have_url(re.compile(rf"/p/LILY/sprints/#offer-{phase.pk}$"))
    offer = page.locator(f"#offer-{phase.pk}")
    expect(offer).to_contain_text("Plans 2 findings into it.")
    screenshot(page, "sprints-offers")
    offer.get_by_role("button", name=re.compile("Adopt as a sprint")).click()
    expect(page.locator(".messages")).to_contain_text(
        "Adopted 'Immediate Actions' as the sprint 'Immediate Actions': 2 findings planned into it."
    )
    expect(page.locator("#sprint-panel")).to_contain_text("2 of 2 planned")
    expect(page.locator(f"#offer-{phase.pk}")).to_contain_text(
        "Adopted as the sprint Immediate Actions."
    )
    expect(page.locator(f"#offer-{phase.pk} button")).to_have_count(0)
    screenshot(page, "sprints-adopted")
    sprint = Sprint.objects.get(project=lily)
    assert sprint.phase == phase
    assert set(Finding.objects.filter(sprint=sprint).values_list("title", flat=True)) == {
        "Async Endpoints Doing Blocking Work",
        "ORM .all() Without Pagination",
    }
    page.goto(f"{live_server.url}/p/LILY/roadmap/")
    expect(page.locator(f"#phase-{phase.pk} .phase-links")).to_contain_text(
        "Adopted as the sprint Immediate Actions"
    )
