"""Roadmap and sprint planning: phases, progress, lateness, backlog, inline plans, burn-down."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from findings.models import Document, Event, Finding, Phase, Report, RoadmapItem, Severity, Sprint
from findings.rules import charts
from findings.rules import planning as plan
from tests.findings.test_dashboard_board import make_findings

# --- the rules, pure -----------------------------------------------------------------------


def test_a_window_lasts_its_upper_bound():
    assert plan.window_days("1-2 weeks") == 14
    assert plan.window_days("2 to 4 weeks") == 28
    assert plan.window_days("3 days") == 3
    assert plan.window_days("Week 3") == 7
    assert plan.window_days("ongoing") is None


def test_phases_run_one_after_another_and_an_open_ended_one_stops_the_dates():
    start = date(2026, 1, 1)
    windows = plan.phase_windows(
        start,
        [
            ("phase", "Phase 1", "1 week"),
            ("phase", "Phase 2", "2 weeks"),
            ("checklist", "Testing", ""),
            ("phase", "Phase 3", "ongoing"),
            ("phase", "Phase 4", "1 week"),
        ],
    )
    assert [(w.start, w.end) if w else None for w in windows] == [
        (date(2026, 1, 1), date(2026, 1, 8)),
        (date(2026, 1, 8), date(2026, 1, 22)),
        None,
        None,
        None,
    ]


def test_sprints_run_on_their_own_track_and_written_dates_are_the_window():
    start = date(2026, 3, 2)
    this, following, phase, dated, due = plan.phase_windows(
        start,
        [
            ("sprint", "Immediate Actions", "This Sprint"),
            ("sprint", "Next Sprint Priorities", ""),
            ("phase", "Phase 1: Quick Wins", "3 days"),
            ("phase", "Phase 2 (2026-04-01 to 2026-04-20)", ""),
            ("phase", "Phase 3: due April 30, 2026", ""),
        ],
    )
    assert (this.start, this.end) == (date(2026, 3, 2), date(2026, 3, 16))
    assert (following.start, following.end) == (date(2026, 3, 16), date(2026, 3, 30))
    assert (phase.start, phase.end) == (date(2026, 3, 2), date(2026, 3, 5))
    assert (dated.start, dated.end, dated.given) == (date(2026, 4, 1), date(2026, 4, 20), True)
    # One date alone ends the phase, which starts where the one before it ended.
    assert (due.start, due.end, due.given) == (date(2026, 4, 20), date(2026, 4, 30), True)


def test_a_phase_is_late_only_past_due_with_work_left():
    today = date(2026, 2, 1)
    assert plan.is_late(date(2026, 1, 20), today, work_left=1)
    assert not plan.is_late(date(2026, 1, 20), today, work_left=0)
    assert not plan.is_late(date(2026, 2, 20), today, work_left=5)
    assert not plan.is_late(None, today, work_left=5)


def test_an_item_is_as_far_as_its_own_mark_and_its_weakest_finding_say():
    assert plan.item_level(None, []) == "open"
    assert plan.item_level(True, []) == "claimed"
    assert plan.item_level(True, ["open"]) == "claimed"  # the document says done
    assert plan.item_level(None, ["claimed", "claimed"]) == "claimed"
    assert plan.item_level(None, ["claimed", "open"]) == "open"
    assert plan.item_level(False, ["claimed"]) == "open"  # an unchecked box stays unchecked
    assert plan.item_level(False, ["verified", "signed_off"]) == "verified"  # evidence wins
    assert plan.item_level(None, ["signed_off", "false_positive"]) == "signed_off"
    assert plan.item_level(None, ["wont_fix"]) == "open"  # triaged: no fix to count


def test_a_tally_counts_levels_and_draws_them_strongest_first():
    tally = plan.Tally.of(["open", "claimed", "claimed", "verified", None, "signed_off"])
    assert (tally.total, tally.claimed_or_better, tally.verified_or_better) == (5, 4, 2)
    assert tally.percent == 80
    assert tally.segments(100) == [
        ("signed_off", 1, 0.0, 20.0),
        ("verified", 1, 20.0, 20.0),
        ("claimed", 2, 40.0, 40.0),
        ("open", 1, 80.0, 20.0),
    ]
    assert (tally + plan.Tally(open=2)).open == 3


def test_an_old_documents_sprints_are_offered_from_today_in_their_order():
    today = date(2026, 6, 10)
    this = plan.Window(date(2026, 1, 5), date(2026, 1, 19))
    following = plan.Window(date(2026, 1, 19), date(2026, 2, 2))
    assert plan.offer_dates(this, this.start, today) == (date(2026, 6, 10), date(2026, 6, 23))
    assert plan.offer_dates(following, this.start, today) == (
        date(2026, 6, 24),
        date(2026, 7, 7),
    )
    running = plan.Window(date(2026, 6, 1), date(2026, 6, 15))
    assert plan.offer_dates(running, running.start, today) == (date(2026, 6, 1), date(2026, 6, 14))
    assert plan.offer_dates(None, None, today) == (date(2026, 6, 10), date(2026, 6, 23))


def test_a_timeline_stops_at_the_plan_when_today_is_long_after_it():
    spans = [
        charts.Span("Doc", date(2026, 1, 1), None, heading=True),
        charts.Span("Phase 1", date(2026, 1, 1), date(2026, 1, 31), share=0.5, late=True),
    ]
    near = charts.timeline(spans, date(2026, 2, 5))
    heading, bar = near.rows
    assert heading.marker_x == bar.x == charts.TL_LABELS + 8
    assert bar.done_w == round(bar.w / 2, 1)
    assert near.today_x is not None and near.today_x > bar.x + bar.w
    assert [label for _, label in near.ticks] == ["Feb 2026"]
    far = charts.timeline(spans, date(2026, 12, 1))
    assert far.today_x is None
    assert far.rows[1].x + far.rows[1].w == charts.TL_WIDTH - charts.TL_NOTES - 8


def test_the_burn_down_counts_down_to_today_and_the_ideal_falls_to_zero():
    points = plan.burndown(
        start=date(2026, 1, 1),
        end=date(2026, 1, 5),
        today=date(2026, 1, 3),
        scope=4,
        done_on=[date(2026, 1, 2), date(2026, 1, 3), date(2025, 12, 30)],
    )
    assert [p.remaining for p in points] == [3, 2, 1, None, None]
    assert [p.ideal for p in points] == [4.0, 3.0, 2.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="cannot end"):
        plan.burndown(
            start=date(2026, 1, 5),
            end=date(2026, 1, 1),
            today=date(2026, 1, 1),
            scope=0,
            done_on=[],
        )


# --- pages ----------------------------------------------------------------------------------


def phases(project, *specs: tuple[str, str], doc_date: date) -> list[Phase]:
    report = Report.objects.create(project=project, sha256="plan", kind="document", filename="p.md")
    Document.objects.create(report=report, project=project, identity="plan", date=doc_date, text="")
    return [
        Phase.objects.create(
            project=project,
            name=name,
            window=window,
            order=i,
            report=report,
            document_identity="plan",
            phase_key=name.lower(),
        )
        for i, (name, window) in enumerate(specs)
    ]


@pytest.mark.django_db
def test_the_roadmap_shows_phases_in_order_with_progress_and_what_is_late(owner_client, acme):
    quick, hardening = phases(
        acme,
        ("Phase 1: Quick Wins", "1-2 weeks"),
        ("Phase 2: Hardening", "2-4 weeks"),
        doc_date=timezone.localdate() - timedelta(days=20),
    )
    done, still_open = make_findings(acme, 2)
    Finding.objects.filter(pk=done.pk).update(status="verified")
    item = RoadmapItem.objects.create(phase=quick, text="Remove eval", item_key="eval", done=False)
    item.findings.add(done, still_open)
    RoadmapItem.objects.create(phase=hardening, text="Add rate limits", item_key="rate", done=True)
    page = owner_client.get("/p/ACME/roadmap/").content.decode()
    assert page.index("Phase 1: Quick Wins") < page.index("Phase 2: Hardening")
    first = card(page, quick)
    assert "1-2 weeks" in first and "Late: 1 not done" in first
    # The unchecked item stays not done, its findings are counted apart.
    assert "0 of 1 item done" in first
    assert (
        "Findings linked or planned: 2 — 0 claimed fixed · 1 verified · 0 signed off · 1 open"
        in (first)
    )
    second = card(page, hardening)
    assert "1 of 1 item done" in second and "1 claimed · 0 verified" in second
    assert "Late" not in second


def card(page: str, phase: Phase) -> str:
    """The roadmap card of ``phase``, as HTML."""
    start = page.index(f'id="phase-{phase.pk}"')
    return page[start : page.index("Its findings on the board", start)]


@pytest.mark.django_db
def test_an_empty_roadmap_and_backlog_say_what_to_do_next(owner_client, acme):
    assert "No roadmap yet." in owner_client.get("/p/ACME/roadmap/").content.decode()
    page = owner_client.get("/p/ACME/sprints/").content.decode()
    assert "No sprint yet." in page and "Nothing left to plan" in page


@pytest.mark.django_db
def test_the_backlog_lists_open_findings_worst_first_then_oldest(owner_client, acme):
    make_findings(acme, 2, severity=Severity.LOW)  # ACME-1, ACME-2
    make_findings(acme, 2, severity=Severity.CRITICAL)  # ACME-3, ACME-4
    make_findings(acme, 1, severity=Severity.CRITICAL, status="verified")  # ACME-5
    make_findings(acme, 1, severity=Severity.HIGH, status="regressed")  # ACME-6
    page = owner_client.get("/p/ACME/sprints/").content.decode()
    order = [page.index(f'id="plan-{n}"') for n in (3, 4, 6, 1, 2)]
    assert order == sorted(order) and 'id="plan-5"' not in page
    filtered = owner_client.get("/p/ACME/sprints/?severity=low", HTTP_HX_REQUEST="true")
    assert filtered.content.decode().count("<tr id=") == 2


@pytest.mark.django_db
def test_a_planner_creates_a_sprint_and_plans_a_finding_inline(client_for, acme, developer):
    make_findings(acme, 1, severity=Severity.CRITICAL)
    client = client_for(developer)
    today = timezone.localdate()
    response = client.post(
        "/p/ACME/sprints/",
        {
            "name": "Sprint 1",
            "start": today - timedelta(days=1),
            "end": today + timedelta(days=9),
            "capacity": 5,
        },
    )
    sprint = Sprint.objects.get(project=acme, name="Sprint 1")
    assert response["Location"] == f"/p/ACME/sprints/?sprint_id={sprint.pk}"
    row = client.post(
        "/p/ACME/findings/1/plan/",
        {"sprint": sprint.pk, "assignee": "dana"},
        HTTP_HX_REQUEST="true",
    )
    assert "ACME-1 planned." in row.content.decode()
    assert "finding-changed" in row["HX-Trigger"]
    finding = Finding.objects.get(project=acme, number=1)
    assert finding.sprint == sprint and finding.assignee == developer
    assert set(Event.objects.filter(finding=finding).values_list("action", flat=True)) == {
        "plan_sprint",
        "plan_assignee",
    }
    panel = client.get(
        f"/p/ACME/sprints/?sprint_id={sprint.pk}&panel=sprint", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "1 of 5 planned" in panel and "ACME-1" in panel and "<polyline" in panel
    page = client.get("/p/ACME/sprints/").content.decode()
    assert 'id="plan-1"' not in page  # planned findings leave the backlog
    assert "Sprint 1" in client.get(f"/p/ACME/?sprint={sprint.pk}").content.decode()


@pytest.mark.django_db
def test_bad_plans_are_refused_with_a_reason(client_for, acme, developer, viewer):
    make_findings(acme, 1)
    client = client_for(developer)
    page = client.post(
        "/p/ACME/findings/1/plan/", {"assignee": "nobody"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "there is no active user &#x27;nobody&#x27;" in page
    page = client.post(
        "/p/ACME/findings/1/plan/", {"sprint": 999}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "ACME has no such sprint." in page
    today = timezone.localdate()
    response = client.post(
        "/p/ACME/sprints/",
        {"name": "Back", "start": today, "end": today - timedelta(days=1), "capacity": 1},
        follow=True,
    )
    assert "A sprint ends on or after its start." in response.content.decode()
    assert client_for(viewer).post("/p/ACME/findings/1/plan/", {}).status_code == 403
    assert "Create sprint" not in client_for(viewer).get("/p/ACME/sprints/").content.decode()


@pytest.mark.django_db
def test_planning_pages_issue_a_fixed_number_of_queries(
    owner_client, acme, django_assert_max_num_queries
):
    sprint = Sprint.objects.create(
        project=acme, name="S", start=date(2026, 1, 1), end=date(2026, 1, 14), capacity=3
    )
    make_findings(acme, 3)
    counts = {}
    for url in ("/p/ACME/sprints/", "/p/ACME/roadmap/"):
        with django_assert_max_num_queries(40) as context:
            owner_client.get(url)
        counts[url] = len(context.captured_queries)
    # A roadmap with phases adds its items, their findings and the planned counts: three.
    make_findings(acme, 40, sprint=sprint)
    make_findings(acme, 40, severity=Severity.CRITICAL)
    phases(acme, ("Phase 1", "1 week"), ("Phase 2", "2 weeks"), doc_date=date(2026, 1, 1))
    for url, count in counts.items():
        with django_assert_max_num_queries(count + (3 if "roadmap" in url else 0)):
            owner_client.get(url)
