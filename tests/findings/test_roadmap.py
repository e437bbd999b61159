"""The roadmap and the sprints documents propose, after importing the four seed documents.

What a sprint planner reads: each document's plan in its own order, progress that counts
what the documents mark done and what their findings' statuses say (claimed, verified,
signed off apart), windows and lateness, and one-click adoption of a "This Sprint" section.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from django.test import Client

from findings.models import Event, Finding, Phase, Project, Sprint
from findings.selectors import roadmap as roadmaps
from findings.services import PlanningError, sprint_adopt, sprint_create
from findings.services.ingest import ingest_file
from tests.conftest import SEEDS

pytestmark = pytest.mark.django_db

# A day after every seed's phases ended: the first seed's plan is late.
TODAY = date(2026, 2, 1)
HANDOFF = "Complete Technical Handoff - CodeX Review Document"
CRITICAL = "Critical Fixes Applied to app.py"
TIER_ONE = "Phase 2 - Tier 1 (Critical) Fixes Applied"


@pytest.fixture
def seeded(acme) -> Project:
    """ACME after importing the four seeds, in the order of their names."""
    for seed in sorted(SEEDS.glob("seed_00*_*.txt")):
        ingest_file(seed, project_key="ACME")
    return acme


def rows_by_name(plan: roadmaps.DocumentPlan) -> dict[str, roadmaps.PhaseRow]:
    return {row.phase.name: row for row in plan.phases}


def test_the_roadmap_groups_phases_by_document_in_each_documents_order(seeded):
    roadmap = roadmaps.roadmap(project=seeded, today=TODAY)
    assert [doc.title for doc in roadmap.documents] == [HANDOFF, CRITICAL, TIER_ONE]
    assert [doc.date for doc in roadmap.documents] == [
        date(2025, 9, 2),
        date(2025, 10, 28),
        date(2026, 1, 17),
    ]
    handoff, critical, tier_one = roadmap.documents
    assert [row.phase.name for row in handoff.phases] == [
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
    assert [row.phase.name for row in critical.phases] == [
        "Testing Recommendations",
        "Future Recommendations",
        "Recommended Next Steps",
    ]
    assert [row.phase.name for row in tier_one.phases] == ["Testing Checklist", "Next Steps"]
    # The fourth seed plans nothing: it is named, not dropped.
    assert [doc.title for doc in roadmap.unplanned] == ["Production Code Bug Fixes - Sprint 6"]


def test_progress_counts_done_marks_and_claimed_fixes_apart_from_verified_and_signed_off(seeded):
    handoff, critical, tier_one = roadmaps.roadmap(project=seeded, today=TODAY).documents
    quick = rows_by_name(handoff)["Phase 1: Quick Wins"]
    # "✅ DONE: Add HTTP timeouts" is done by its own mark, though one of its findings is open.
    assert [(row.item.text, row.level) for row in quick.items][0] == (
        "Add HTTP timeouts to integration clients",
        "claimed",
    )
    assert (quick.items_tally.claimed_or_better, quick.items_tally.total) == (1, 4)
    # Every test of the second seed names a finding the document claims fixed.
    testing = rows_by_name(critical)["Testing Recommendations"]
    assert testing.items_tally == testing.items_tally.__class__(claimed=5)
    assert testing.findings_tally.claimed == 5 and testing.tally.percent == 100
    # The third seed's boxes are unchecked: its tests are not done, whatever the claims say.
    checklist = rows_by_name(tier_one)["Testing Checklist"]
    assert checklist.items_tally.open == 6 and checklist.findings_tally.claimed == 5

    # Evidence and sign-off move the items on, and are counted apart.
    event_loop, db_session = (row.findings[0] for row in testing.items[:2])
    Finding.objects.filter(pk=event_loop.pk).update(status="verified")
    Finding.objects.filter(pk=db_session.pk).update(status="signed_off")
    testing = rows_by_name(roadmaps.roadmap(project=seeded, today=TODAY).documents[1])[
        "Testing Recommendations"
    ]
    tally = testing.items_tally
    assert (tally.claimed, tally.verified, tally.signed_off, tally.open) == (3, 1, 1, 0)
    assert [level for level, *_ in testing.segments] == ["signed_off", "verified", "claimed"]


def test_windows_come_from_the_documents_date_and_late_phases_have_items_not_done(seeded):
    handoff, critical, _ = roadmaps.roadmap(project=seeded, today=TODAY).documents
    rows = rows_by_name(handoff)
    windows = {
        name: (rows[name].window.start, rows[name].window.end)
        for name in (
            "Phase 1: Quick Wins",
            "Phase 2: Scalability",
            "Phase 3: Long-term",
            "Immediate Actions",
            "Next Sprint Priorities",
        )
    }
    assert windows == {
        "Phase 1: Quick Wins": (date(2025, 9, 2), date(2025, 9, 16)),
        "Phase 2: Scalability": (date(2025, 9, 16), date(2025, 10, 14)),
        "Phase 3: Long-term": (date(2025, 10, 14), date(2025, 12, 13)),
        "Immediate Actions": (date(2025, 9, 2), date(2025, 9, 16)),
        "Next Sprint Priorities": (date(2025, 9, 16), date(2025, 9, 30)),
    }
    assert rows["Phase 1: Quick Wins"].late and rows["Phase 1: Quick Wins"].open_items == 3
    assert rows["Load Testing Targets"].window is None and not rows["Load Testing Targets"].late
    # Before a window ends nothing is late.
    early = rows_by_name(roadmaps.roadmap(project=seeded, today=date(2025, 9, 10)).documents[0])
    assert not early["Phase 1: Quick Wins"].late
    assert all(row.window is None for row in critical.phases)


def test_the_timeline_has_each_document_then_its_windowed_phases(seeded):
    timeline = roadmaps.roadmap(project=seeded, today=TODAY).timeline
    labels = [(row.span.label, row.span.heading, row.span.late) for row in timeline.rows]
    assert labels == [
        (HANDOFF, True, False),
        ("Phase 1: Quick Wins", False, True),
        ("Phase 2: Scalability", False, True),
        ("Phase 3: Long-term", False, True),
        ("Immediate Actions", False, True),
        ("Next Sprint Priorities", False, True),
        (CRITICAL, True, False),
        (TIER_ONE, True, False),
    ]
    quick = timeline.rows[1]
    assert quick.done_w == round(quick.w / 4, 1)  # one item of four is done
    assert timeline.rows[1].span.note == "late · 3 not done"
    assert timeline.today_x is not None  # a fortnight after the last document


def test_documents_offer_their_sprint_and_next_steps_sections_that_name_findings(seeded):
    offers = roadmaps.sprint_offers(project=seeded, today=TODAY)
    assert [(o.phase.name, o.phase.kind) for o in offers] == [
        ("Immediate Actions", "sprint"),
        ("Next Sprint Priorities", "sprint"),
        ("Long-term Architecture Evolution", "next_steps"),
        ("Future Recommendations", "next_steps"),
    ]
    this, following = offers[0], offers[1]
    # The handoff's sprints ended long ago: they are offered from today, in their order.
    assert (this.start, this.end) == (TODAY, date(2026, 2, 14))
    assert (following.start, following.end) == (date(2026, 2, 15), date(2026, 2, 28))
    assert [f.title for f in this.findings] == [
        "Async Endpoints Doing Blocking Work",
        "ORM .all() Without Pagination",
    ]
    assert this.adopted is None and len(this.to_plan) == 2


def test_adopting_a_section_makes_one_sprint_with_its_open_findings(seeded, developer):
    phase = Phase.objects.get(project=seeded, name="Next Sprint Priorities")
    taken = Finding.objects.get(project=seeded, title="External HTTP Without Timeouts/Retries")
    other = sprint_create(
        project=seeded,
        name="Next Sprint Priorities",
        start=TODAY,
        end=date(2026, 2, 14),
        capacity=1,
        actor=developer,
    )
    Finding.objects.filter(pk=taken.pk).update(sprint=other)
    adoption = sprint_adopt(
        phase=phase, start=date(2026, 2, 15), end=date(2026, 2, 28), actor=developer
    )
    sprint = adoption.sprint
    assert adoption.created and adoption.planned == 2
    # The section's name was taken, so the document's title tells the two apart.
    assert sprint.name == f"Next Sprint Priorities ({HANDOFF})"
    assert (sprint.start, sprint.end, sprint.capacity, sprint.phase) == (
        date(2026, 2, 15),
        date(2026, 2, 28),
        2,
        phase,
    )
    planned = Finding.objects.filter(sprint=sprint).order_by("number")
    assert [f.title for f in planned] == [
        "Unbounded Queries and Batch-Unsafe Tasks",
        "WebSocket Broadcast Without Backpressure",
    ]
    assert Finding.objects.get(pk=taken.pk).sprint == other  # left in its sprint
    assert Event.objects.filter(action="sprint_adopted", after=sprint.name).count() == 1
    assert Event.objects.filter(action="plan_sprint", after=sprint.name).count() == 2

    again = sprint_adopt(phase=phase, start=TODAY, end=TODAY, actor=developer)
    assert (again.sprint, again.planned, again.created) == (sprint, 0, False)
    assert Sprint.objects.filter(project=seeded).count() == 2
    assert Event.objects.filter(action="sprint_adopted").count() == 1
    offers = {o.phase.pk: o for o in roadmaps.sprint_offers(project=seeded, today=TODAY)}
    assert offers[phase.pk].adopted == sprint


def test_a_section_adopted_with_its_end_before_its_start_is_refused(seeded, developer):
    phase = Phase.objects.get(project=seeded, name="Immediate Actions")
    with pytest.raises(PlanningError, match="ends .* before it starts"):
        sprint_adopt(phase=phase, start=TODAY, end=date(2026, 1, 1), actor=developer)
    assert not Sprint.objects.exists()


# --- pages ----------------------------------------------------------------------------------


def test_the_roadmap_page_shows_documents_phases_progress_and_the_timeline(seeded, owner_client):
    page = owner_client.get("/p/ACME/roadmap/").content.decode()
    positions = [page.index(f">{title}</a>") for title in (HANDOFF, CRITICAL, TIER_ONE)]
    assert positions == sorted(positions)
    assert page.index("Phase 1: Quick Wins") < page.index("Phase 2: Scalability")
    testing = page[page.index("<h3>Testing Recommendations</h3>") :]
    testing = testing[: testing.index("</li>\n  \n")]
    assert "5 of 5 items done</strong>" in testing and "5 claimed · 0 verified · 0 signed off" in (
        testing
    )
    assert testing.count('class="lvl lvl-claimed">claimed done</span>') == 5
    assert '<svg viewBox="0 0 960' in page and 'class="chart timeline"' in page
    assert "Late: 3 not done" in page
    assert "No plan declared in" in page and "Production Code Bug Fixes - Sprint 6" in page
    assert "Adopt it as a sprint" in page


def test_the_sprint_page_offers_sections_and_adopting_twice_keeps_one_sprint(
    seeded, client_for, developer
):
    client = client_for(developer)
    phase = Phase.objects.get(project=seeded, name="Immediate Actions")
    page = client.get("/p/ACME/sprints/").content.decode()
    assert "Sprints proposed by documents" in page and f'id="offer-{phase.pk}"' in page
    assert f'action="/p/ACME/sprints/adopt/{phase.pk}/"' in page
    form = {"start": "2026-03-02", "end": "2026-03-15"}
    response = client.post(f"/p/ACME/sprints/adopt/{phase.pk}/", form, follow=True)
    sprint = Sprint.objects.get(phase=phase)
    assert response.redirect_chain[-1][0] == f"/p/ACME/sprints/?sprint_id={sprint.pk}"
    body = response.content.decode()
    assert "Adopted &#x27;Immediate Actions&#x27; as the sprint" in body
    assert "2 findings planned into it." in body and "2 of 2 planned" in body
    again = client.post(f"/p/ACME/sprints/adopt/{phase.pk}/", form, follow=True)
    assert "was already adopted as the sprint" in again.content.decode()
    assert Sprint.objects.filter(project=seeded).count() == 1
    assert f'Adopted as the sprint <a href="?sprint_id={sprint.pk}">' in again.content.decode()


def test_adopting_needs_a_planner_a_post_csrf_and_a_section_of_the_project(
    seeded, client_for, viewer, outsider, developer
):
    phase = Phase.objects.get(project=seeded, name="Immediate Actions")
    url = f"/p/ACME/sprints/adopt/{phase.pk}/"
    form = {"start": "2026-03-02", "end": "2026-03-15"}
    assert client_for(viewer).post(url, form).status_code == 403
    assert client_for(outsider).post(url, form).status_code == 404
    assert client_for(developer).get(url).status_code == 405
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(developer)
    assert checked.post(url, form).status_code == 403
    # A checklist is no sprint, and another project's section is not found here.
    checklist = Phase.objects.get(project=seeded, name="Testing Recommendations")
    assert (
        client_for(developer).post(f"/p/ACME/sprints/adopt/{checklist.pk}/", form).status_code
        == 404
    )
    bad = client_for(developer).post(url, {"start": "2026-03-15", "end": "2026-03-01"}, follow=True)
    assert (
        "Could not adopt &#x27;Immediate Actions&#x27;: end: A sprint ends on or after its start."
        in (bad.content.decode())
    )
    assert not Sprint.objects.exists()
    page = client_for(viewer).get("/p/ACME/sprints/").content.decode()
    assert "Sprints proposed by documents" in page and "Adopt as a sprint" not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_planners_adopting_the_same_section_at_once_make_one_sprint(acme, developer):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    ingest_file(next(SEEDS.glob("seed_001_*.txt")), project_key="ACME")
    phase = Phase.objects.get(project=acme, name="Immediate Actions")
    barrier = threading.Barrier(2)

    def adopt() -> tuple[int, bool]:
        try:
            barrier.wait()
            adoption = sprint_adopt(
                phase=phase, start=TODAY, end=date(2026, 2, 14), actor=developer
            )
            return adoption.sprint.pk, adoption.created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: adopt(), range(2)))
    assert len({pk for pk, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, True]
    sprint = Sprint.objects.get(project=acme)
    assert Finding.objects.filter(sprint=sprint).count() == 2
    assert Event.objects.filter(action="sprint_adopted").count() == 1
