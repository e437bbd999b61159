"""The status board: columns by lifecycle, filters in the URL, moving cards, access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Event, Finding, Project, Severity, StatusCount
from findings.services import status_counts_refresh

pytestmark = pytest.mark.django_db


def make_findings(
    project: Project,
    count: int,
    *,
    severity: int = Severity.HIGH,
    status: str = "open",
    tool: str = "bandit",
    path: str = "src/app.py",
    title: str = "Use of eval",
    age_days: int = 3,
    **extra,
) -> list[Finding]:
    """``count`` findings of ``project`` made directly, with the status summary recounted."""
    start = Finding.objects.filter(project=project).order_by("-number").first() or None
    number = start.number + 1 if start else 1
    seen = timezone.now() - timedelta(days=age_days)
    rows = Finding.objects.bulk_create(
        [
            Finding(
                project=project,
                number=number + i,
                fingerprint=f"fp-{number + i}",
                tool=tool,
                rule_id="B307",
                title=f"{title} {number + i}",
                severity=severity,
                path=path,
                start_line=10 + i,
                status=status,
                status_changed_at=seen,
                first_seen_at=seen,
                last_seen_at=seen,
                **extra,
            )
            for i in range(count)
        ]
    )
    status_counts_refresh(project_id=project.pk)
    return rows


def column(page: str, status: str) -> str:
    """The HTML of one board column."""
    start = page.index(f'data-status="{status}"')
    end = page.find('<section class="column', start)
    return page[start : end if end != -1 else len(page)]


def test_the_board_shows_a_column_per_lifecycle_state_with_counts(owner_client, acme):
    make_findings(acme, 3, status="open")
    make_findings(acme, 2, status="claimed")
    make_findings(acme, 1, status="regressed")
    page = owner_client.get("/p/ACME/").content.decode()
    for label in ("Open", "Regressed", "Claimed fixed", "Verified", "Signed off"):
        assert f">{label} <span" in page
    assert '<span class="count" title="findings in this column">3</span>' in column(page, "open")
    assert column(page, "claimed").count('class="card fcard') == 2
    assert "No verified findings." in column(page, "verified")
    assert "Accepted risk" not in page.split("</form>", 1)[1].split("<details", 1)[0]


def test_a_card_shows_key_severity_title_location_age_evidence_and_assignee(
    owner_client, acme, developer
):
    (finding,) = make_findings(acme, 1, age_days=40, assignee=developer)
    card = owner_client.get("/p/ACME/").content.decode()
    card = card[card.index('id="card-1"') :].split("</li>", 1)[0]
    assert "ACME-1" in card and "sev-high" in card and "Use of eval 1" in card
    assert "src/app.py:10" in card
    assert ">5w<" in card
    assert "unverified" in card
    assert "@dana" in card


def test_triaged_findings_stay_behind_the_toggle(owner_client, acme):
    make_findings(acme, 2, status="false_positive")
    page = owner_client.get("/p/ACME/").content.decode()
    assert "Show triaged (2)" in page and 'data-status="false_positive"' not in page
    shown = owner_client.get("/p/ACME/?triaged=1").content.decode()
    assert column(shown, "false_positive").count('class="card fcard') == 2


def test_filters_narrow_every_column_and_come_back_as_the_columns_partial(owner_client, acme):
    make_findings(acme, 2, severity=Severity.CRITICAL, path="api/views.py", tool="semgrep")
    make_findings(acme, 3, severity=Severity.LOW)
    response = owner_client.get("/p/ACME/?severity=critical&tool=semgrep", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page and 'id="board-columns"' in page
    assert page.count('class="card fcard') == 2 and "sev-low" not in page
    page = owner_client.get("/p/ACME/?path=api/&q=eval").content.decode()
    assert page.count('class="card fcard') == 2
    assert 'value="api/"' in page  # the filter stays in the form, as in the URL
    page = owner_client.get("/p/ACME/?q=no-such-thing").content.decode()
    assert "Nothing here with these filters." in page and "Clear filters" in page


def test_a_long_column_shows_its_first_cards_and_a_more_link_that_continues(owner_client, acme):
    make_findings(acme, 25)
    page = owner_client.get("/p/ACME/").content.decode()
    open_column = column(page, "open")
    assert open_column.count('class="card fcard') == 12
    assert "ACME-25" in open_column and "ACME-14<" in open_column and "ACME-13<" not in open_column
    assert "/p/ACME/board/open/?after=2-14" in open_column
    more = owner_client.get("/p/ACME/board/open/?after=2-6", HTTP_HX_REQUEST="true")
    rest = more.content.decode()
    assert rest.count('class="card fcard') == 5 and "ACME-1<" in rest and "ACME-6<" not in rest
    assert "More open findings" not in rest
    assert owner_client.get("/p/ACME/board/open/?after=2-6").status_code == 200


def test_the_board_issues_the_same_number_of_queries_for_5_or_60_cards(
    owner_client, acme, django_assert_max_num_queries
):
    make_findings(acme, 5)
    with django_assert_max_num_queries(27) as few:
        owner_client.get("/p/ACME/?q=eval")
    make_findings(acme, 60, status="claimed")
    make_findings(acme, 60, status="verified")
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get("/p/ACME/?q=eval")


def test_moving_a_card_is_a_recorded_lifecycle_transition(client_for, acme, developer):
    make_findings(acme, 1)
    client = client_for(developer)
    response = client.post(
        "/p/ACME/findings/1/move/", {"event": "claim", "severity": "high"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert "ACME-1 moved to Claimed fixed." in page
    assert "ACME-1" in column(page, "claimed")
    assert "finding-changed" in response["HX-Trigger"]
    assert Finding.objects.get(number=1).status == "claimed"
    event = Event.objects.get(finding__number=1, action="claim")
    assert event.actor == developer and event.before == "open"
    assert StatusCount.objects.get(project=acme, status="claimed").n == 1


def test_a_move_the_lifecycle_or_role_forbids_is_refused_and_says_why(
    client_for, acme, developer, viewer
):
    make_findings(acme, 1, status="claimed")
    page = client_for(developer).post(
        "/p/ACME/findings/1/move/", {"event": "sign_off"}, HTTP_HX_REQUEST="true"
    )
    assert "signing off or rejecting a fix is a review" in page.content.decode()
    assert client_for(developer).post("/p/ACME/findings/1/move/", {"event": "verify"}).status_code
    assert Finding.objects.get(number=1).status == "claimed"
    assert (
        client_for(viewer).post("/p/ACME/findings/1/move/", {"event": "claim"}).status_code == 403
    )
    viewer_page = client_for(viewer).get("/p/ACME/").content.decode()
    assert 'name="event"' not in viewer_page and 'draggable="true"' not in viewer_page


def test_a_plain_form_move_redirects_back_to_the_filtered_board(client_for, acme, developer):
    make_findings(acme, 1)
    response = client_for(developer).post(
        "/p/ACME/findings/1/move/", {"event": "claim", "severity": "high"}
    )
    assert response.status_code == 302 and response["Location"] == "/p/ACME/?severity=high"


def test_outsiders_and_anonymous_visitors_do_not_see_the_board(client, client_for, acme, outsider):
    make_findings(acme, 1)
    assert client_for(outsider).get("/p/ACME/").status_code == 404
    assert (
        client_for(outsider).post("/p/ACME/findings/1/move/", {"event": "claim"}).status_code == 404
    )
    for url in ("/p/ACME/", "/p/ACME/board/open/", "/p/ACME/health/"):
        assert client.get(url)["Location"].startswith("/accounts/login/")


def test_more_cards_continue_into_the_next_severity(owner_client, acme):
    make_findings(acme, 2, severity=Severity.CRITICAL)  # ACME-1, ACME-2
    make_findings(acme, 2, severity=Severity.HIGH)  # ACME-3, ACME-4
    rest = owner_client.get("/p/ACME/board/open/?after=1-2", HTTP_HX_REQUEST="true")
    cards = rest.content.decode()
    assert [cards.index(f'id="card-{n}"') for n in (1, 4, 3)] == sorted(
        cards.index(f'id="card-{n}"') for n in (1, 4, 3)
    )
    assert 'id="card-2"' not in cards


def test_board_and_backlog_rows_never_join_the_users_table(owner_client, acme, developer):
    """With a join, PostgreSQL whose statistics lag a large import hash-joins and sorts a whole
    column (1.5 s at 500,000 findings) instead of reading its first cards along the index;
    assignees are read apart, one query for all cards, and still shown."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assigned = make_findings(acme, 3)[0]
    Finding.objects.filter(pk=assigned.pk).update(assignee=developer)

    with CaptureQueriesContext(connection) as queries:
        board = owner_client.get("/p/ACME/").content.decode()
        backlog = owner_client.get("/p/ACME/sprints/").content.decode()

    finding_reads = [q["sql"] for q in queries if 'FROM "findings_finding"' in q["sql"]]
    assert finding_reads and not [sql for sql in finding_reads if '"auth_user"' in sql]
    assert "dana" in board and "dana" in backlog
