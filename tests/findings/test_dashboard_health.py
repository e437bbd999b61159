"""System health panels and the overview: declared vs implied, trend, changes, SLA."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from findings.models import Claim, HealthArea, HealthReading, Report, Severity
from findings.rules import health
from findings.selectors.metrics import sla_days
from findings.templatetags.dashboard_extras import age, sparkline
from tests.findings.test_dashboard_board import make_findings

# --- the rule, pure -------------------------------------------------------------------------


def test_an_area_name_brings_its_vocabulary_but_not_its_generic_words():
    words = health.area_words("Server Performance")
    assert {"server", "query", "n+1", "endpoint"} <= words
    assert "performance" not in words


def test_any_open_critical_puts_an_area_at_risk_and_any_high_degrades_it():
    assert health.implied_status([3, 1, 2]) == "at_risk"
    assert health.implied_status([4, 2]) == "degraded"
    assert health.implied_status([3, 5]) == "healthy"
    assert health.implied_status([]) == "healthy"


def test_declared_and_implied_disagree_only_on_a_different_level():
    assert health.disagrees("healthy", "at_risk")
    assert not health.disagrees("critical", "at_risk")
    assert not health.disagrees("improved", "healthy")
    assert not health.disagrees("unknown", "at_risk") and not health.disagrees(None, "healthy")


def test_a_sparkline_draws_worse_health_lower_and_one_reading_flat():
    assert sparkline([0, 2], "120x32") == "4.0,4.0 116.0,28.0"
    assert sparkline([1], "120x32") == "4.0,16.0 116.0,16.0"
    assert sparkline([], "120x32") == ""


def test_ages_read_in_days_weeks_then_months():
    assert [age(0), age(5), age(40), age(400)] == ["today", "5d", "5w", "13mo"]


def test_the_sla_setting_is_read_per_severity_and_a_typo_names_the_setting(settings):
    settings.AUDITDASH_SLA_DAYS = "critical=3, high=10"
    assert sla_days() == {Severity.CRITICAL: 3, Severity.HIGH: 10}
    settings.AUDITDASH_SLA_DAYS = "critical=3,hihg=10"
    with pytest.raises(ImproperlyConfigured, match="AUDITDASH_SLA_DAYS: 'hihg=10'"):
        sla_days()


# --- pages ----------------------------------------------------------------------------------


def declare(project, area_name: str, *statuses: str) -> HealthArea:
    """An area with one reading per status, a week apart, each from its own document."""
    area, _ = HealthArea.objects.get_or_create(
        project=project, area_key=area_name.lower(), defaults={"name": area_name}
    )
    for i, status in enumerate(statuses):
        report = Report.objects.create(
            project=project, sha256=f"{area_name}{i}", kind="document", filename=f"h{i}.md"
        )
        HealthReading.objects.create(
            area=area,
            status=status,
            raw=status.upper(),
            date=date(2026, 1, 1) + timedelta(days=7 * i),
            report=report,
            document_identity=f"doc-{i}",
        )
    return area


def claim(project, finding, title: str, document: str = "fixes") -> Claim:
    """A claim about ``finding`` in the document whose identity is ``document`` (``declare``
    names its documents doc-0, doc-1, ...)."""
    report = Report.objects.create(
        project=project, sha256=f"c{finding.pk}{document}", kind="document", filename="fixes.md"
    )
    return Claim.objects.create(
        project=project,
        report=report,
        first_report=report,
        finding=finding,
        document_identity=document,
        claim_key=title.lower(),
        key="F1",
        title=title,
        status="identified",
    )


@pytest.mark.django_db
def test_a_health_panel_warns_when_the_document_and_the_findings_disagree(owner_client, acme):
    declare(acme, "Server Performance", "at_risk", "healthy")
    declare(acme, "Frontend Performance", "degraded")
    (critical,) = make_findings(acme, 1, severity=Severity.CRITICAL)
    claim(acme, critical, "N+1 query on the orders endpoint", document="doc-1")
    page = owner_client.get("/p/ACME/health/").content.decode()
    server = page[page.index("Server Performance") :].split("</article>", 1)[0]
    assert "health-healthy" in server and "health-at_risk" in server
    assert "the document says healthy, the open findings say at risk" in server
    assert "1 critical open" in server
    assert "trend: at risk → healthy" in server and "<polyline" in server
    frontend = page[page.index("Frontend Performance") :].split("</article>", 1)[0]
    assert "no open findings tied to it" in frontend
    assert "the document says degraded, the open findings say healthy" in frontend


@pytest.mark.django_db
def test_the_board_filters_by_health_area_through_the_claims(owner_client, acme):
    area = declare(acme, "Task Performance", "degraded")
    slow, other = make_findings(acme, 2)
    claim(acme, slow, "Celery task retries forever", document="doc-0")
    claim(acme, other, "Celery worker leaks memory", document="another-document")
    page = owner_client.get(f"/p/ACME/?area={area.pk}").content.decode()
    assert 'id="card-1"' in page and 'id="card-2"' not in page


@pytest.mark.django_db
def test_only_claims_of_the_documents_reading_an_area_speak_for_it(owner_client, acme):
    area = declare(acme, "Integration Stability", "improved")
    ours, theirs = make_findings(acme, 2, severity=Severity.CRITICAL)
    claim(acme, ours, "Webhook retries lost", document="doc-0")
    # Another document speaks of webhooks too, but reads no health area: it says nothing of
    # this document's Integration Stability.
    claim(acme, theirs, "Webhook signature unchecked", document="security-audit")

    page = owner_client.get("/p/ACME/health/").content.decode()

    panel = page[page.index(">Integration Stability<") :].split("</article>", 1)[0]
    assert "1 critical open" in panel and "2 critical open" not in panel
    assert f'href="/p/ACME/?area={area.pk}"' in panel
    assert "the 1 document reading this area" in panel


@pytest.mark.django_db
def test_a_panel_shows_the_readings_notes_score_and_parts(owner_client, acme, tmp_path):
    security = declare(acme, "Security", "improved")
    HealthReading.objects.filter(area=security).update(
        score="8/10", notes=["Timeouts: Partially addressed (fixes)", "Reviewed by the team"]
    )
    declare(acme, "Security / API Keys", "healthy")
    declare(acme, "Security / File Permissions", "at_risk")

    page = owner_client.get("/p/ACME/health/").content.decode()

    panel = page[page.index(">Security<") :].split("</article>", 1)[0]
    assert '<span class="health-score">8/10</span>' in panel
    assert "<strong>Timeouts</strong>: Partially addressed (fixes)" in panel
    assert "<li>Reviewed by the team</li>" in panel
    parts = panel[panel.index("Parts of Security") :]
    assert parts.index("API Keys") < parts.index("File Permissions")
    assert "health-at_risk" in parts and "Security / API Keys" not in parts
    # The parts live inside their area's panel, not beside it.
    assert page.count('class="card health-panel') == 1


@pytest.mark.django_db
def test_areas_are_grouped_by_the_document_that_read_them_last(owner_client, acme, tmp_path):
    from findings.services.ingest import ingest_file

    older, newer = tmp_path / "older.md", tmp_path / "newer.md"
    older.write_text(
        "# Spring audit\n\n**Date**: 2026-03-01\n\n## System Health\n\n"
        "- **Billing**: ✅ Stable\n- **Search**: ⚠️ AT RISK\n"
    )
    newer.write_text(
        "# Summer handoff\n\n**Date**: 2026-06-01\n\n## System Health\n\n- **Search**: ✅ Stable\n"
    )
    ingest_file(older, project_key="ACME")
    ingest_file(newer, project_key="ACME")

    page = owner_client.get("/p/ACME/health/").content.decode()

    summer, spring = page.index("Summer handoff"), page.index("Spring audit")
    assert summer < page.index(">Search<") < spring < page.index(">Billing<")
    assert "2026-06-01 · 1 area" in page and "2026-03-01 · 1 area" in page


@pytest.mark.django_db
def test_a_project_without_areas_says_where_they_come_from(owner_client, acme):
    page = owner_client.get("/p/ACME/health/").content.decode()
    assert "No health areas yet." in page and "Import a document" in page


@pytest.mark.django_db
def test_the_overview_shows_the_weeks_changes_sla_breaches_and_health(owner_client, acme, settings):
    cache.clear()
    settings.AUDITDASH_SLA_DAYS = "critical=7,high=30"
    make_findings(acme, 2, severity=Severity.CRITICAL, age_days=10)
    make_findings(acme, 1, severity=Severity.HIGH, age_days=10)
    make_findings(acme, 1, severity=Severity.CRITICAL, age_days=1, status="verified")
    Report.objects.create(
        project=acme,
        sha256="s1",
        filename="scan.json",
        state="done",
        new=3,
        fixed=1,
        regressed=2,
        finished_at=timezone.now() - timedelta(days=2),
    )
    Report.objects.create(
        project=acme,
        sha256="s2",
        filename="old.json",
        state="done",
        new=50,
        finished_at=timezone.now() - timedelta(days=20),
    )
    declare(acme, "Server Performance", "at_risk")
    page = owner_client.get("/").content.decode()
    row = page[page.index('href="/p/ACME/"') :].split("</tr>", 1)[0]
    # Open means open-like: the verified critical is not counted.
    assert '<td class="num sev-cell-critical">2</td>' in row
    assert '<td class="num sev-cell-high">1</td>' in row
    # New from the scans' counts; fixed by word, from the findings (the scan's own "fixed"
    # count is not a word: the verified critical is what was fixed).
    assert '<td class="num">3</td>' in row and 'data-recent="verified">1</td>' in row
    assert 'data-now="verified">1</td>' in row and 'data-recent="claimed_fixed">0</td>' in row
    assert '<td class="num bad">2</td>' in row
    assert 'title="2 critical">2</a>' in row
    assert "SLA: critical 7 days, high 30 days" in page
    assert "Server Performance" in page and "health-at_risk" in page


@pytest.mark.django_db
def test_the_overview_lists_the_areas_that_need_attention_worst_first(owner_client, acme):
    cache.clear()
    declare(acme, "Billing", "healthy")
    declare(acme, "Search", "degraded")
    declare(acme, "Payments", "at_risk")
    declare(acme, "Uploads", "healthy")
    (critical,) = make_findings(acme, 1, severity=Severity.CRITICAL)
    claim(acme, critical, "Uploads lost on restart", document="doc-0")

    page = owner_client.get("/").content.decode()

    glance = page[page.index("System health at a glance") :]
    assert "4 areas: 1 healthy by both the documents and the findings, 3 where they disagree" in (
        glance
    )
    table = glance.split("</table>", 1)[0]
    assert table.index(">Payments<") < table.index(">Uploads<") < table.index(">Search<")
    assert ">Billing<" not in table
    assert '<strong class="warn-word">disagree</strong>' in table
    assert f"?area={HealthArea.objects.get(name='Uploads').pk}" in table


@pytest.mark.django_db
def test_the_overview_hides_projects_the_user_is_not_a_member_of(client_for, acme, outsider):
    make_findings(acme, 1)
    page = client_for(outsider).get("/").content.decode()
    assert "OTHER" in page and "ACME" not in page


@pytest.mark.django_db
def test_the_overview_and_health_queries_do_not_grow_with_projects_or_areas(
    owner_client, acme, django_assert_max_num_queries
):
    from findings.services import project_get_or_create

    declare(acme, "Server Performance", "healthy")
    with django_assert_max_num_queries(20) as few:
        owner_client.get("/")
    for i in range(6):
        project, _ = project_get_or_create(key=f"P{i}X")
        make_findings(project, 3, severity=Severity.CRITICAL, age_days=60)
        declare(project, "Server Performance", "healthy", "at_risk")
        declare(project, "Integration Stability", "degraded")
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get("/")
    with django_assert_max_num_queries(12):
        owner_client.get("/p/P1X/health/")


@pytest.mark.django_db
def test_a_panel_shows_the_documents_before_now_and_projected_in_its_words(
    owner_client, acme, tmp_path
):
    from findings.services.ingest import ingest_file

    doc = tmp_path / "impact.md"
    text = (
        "# Queue fixes\n\n**Date**: 2026-02-01\n\n## Impact\n\n"
        "### Before Fixes\n- Billing: ~5% of queries not counted\n- Uploads: lost on restart\n\n"
        "### After Fixes\n- Billing: 100% accurate query counting\n- Memory: ✅ Stable\n\n"
        "### Expected After Rollout\n- Billing: audited monthly\n"
    )
    doc.write_text(text, encoding="utf-8")
    ingest_file(doc, project_key="ACME")
    ingest_file(doc, project_key="ACME")  # the same bytes again: nothing doubles
    # "Uploads" is only said of the past: no area of the system today.
    assert sorted(HealthArea.objects.filter(project=acme).values_list("name", flat=True)) == [
        "Billing",
        "Memory",
    ]
    billing = HealthReading.objects.filter(area__name="Billing")
    assert sorted(billing.values_list("when", "raw")) == [
        ("before", "~5% of queries not counted"),
        ("current", "100% accurate query counting"),
        ("projected", "audited monthly"),
    ]
    page = owner_client.get("/p/ACME/health/").content.decode()
    panel = page[page.index(">Billing<") :].split("</article>", 1)[0]
    order = [panel.index(w) for w in ("Before", "~5% of queries", "Declared", "100% accurate")]
    assert order == sorted(order) and "Projected" in panel and "audited monthly" in panel
    assert "stated" in panel  # words, not a level: not shown as "unknown"
    memory = page[page.index(">Memory<") :].split("</article>", 1)[0]
    assert "Before" not in memory and "health-stable" in memory


@pytest.mark.django_db
def test_a_readings_score_is_kept_as_written(acme, tmp_path):
    from findings.services.ingest import ingest_file

    doc = tmp_path / "score.md"
    doc.write_text("# Status\n\n**Date**: 2026-02-01\n\n## System Health\n\n- **Security**: 8/10\n")
    ingest_file(doc, project_key="ACME")
    assert HealthReading.objects.get(area__name="Security").score == "8/10"
