"""Metrics: charts readable without colour, each with its numbers, in a fixed number of queries."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from findings.models import ClaimEvidence, Finding, Severity
from findings.rules import charts
from tests.findings.test_dashboard_board import make_findings
from tests.findings.test_dashboard_health import claim


def test_axis_tops_are_round_numbers():
    assert [charts.nice_top(v) for v in (0, 1, 3, 17, 120, 4500)] == [4, 4, 4, 20, 200, 5000]


def test_lines_differ_by_dash_and_their_end_labels_do_not_overlap():
    chart = charts.line_chart({"critical": [1, 1], "high": [1, 1], "low": [0, 5]}, ["a", "b"])
    assert len({line.dash for line in chart.lines}) == 3
    ends = sorted(line.end_y for line in chart.lines)
    assert all(b - a >= 11 for a, b in zip(ends, ends[1:], strict=False))
    with pytest.raises(ValueError, match="series 'x' has 1 values for 2 labels"):
        charts.line_chart({"x": [1]}, ["a", "b"])


def test_category_bars_get_their_own_patterns_and_written_values():
    chart = charts.bar_chart([("critical", 3), ("high", 0.5)], patterned=True, unit=" d")
    assert [bar.pattern for bar in chart.bars] == ["solid", "hatch"]
    assert [bar.text for bar in chart.bars] == ["3 d", "0.5 d"]
    assert chart.bars[0].h > chart.bars[1].h > 0


@pytest.mark.django_db
def test_the_metrics_page_charts_history_fixes_time_to_fix_sla_and_evidence(
    owner_client, acme, settings
):
    cache.clear()
    settings.AUDITDASH_SLA_DAYS = "critical=7,high=30"
    now = timezone.now()
    make_findings(acme, 2, severity=Severity.CRITICAL, age_days=50)  # 43 days past SLA
    fixed = make_findings(acme, 2, severity=Severity.HIGH, age_days=20, status="verified")
    Finding.objects.filter(pk__in=[f.pk for f in fixed]).update(fixed_at=now - timedelta(days=10))
    ClaimEvidence.objects.create(
        claim=claim(acme, fixed[0], "Fixed the eval"),
        level="code-checked",
        run=uuid.uuid4(),
        checked_at=now,
    )
    page = owner_client.get("/p/ACME/metrics/").content.decode()
    assert page.count("<svg viewBox") == 5 and 'fill="url(#fill-hatch)"' in page
    assert 'stroke-dasharray="8 4"' in page  # the second series is dashed
    assert "critical 2</text>" in page  # open criticals now, labelled at the line's end
    assert "Mean days to fix" in page and '<td class="num">10.0</td>' in page
    sla_row = page[page.index("critical (7 d)") :].split("</tr>", 1)[0]
    assert '<td class="num bad">2</td>' in sla_row  # in the 31-90 days late bucket
    evidence_row = page[page.index('<th scope="row">code-checked</th>') :].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in evidence_row
    fixed_total = page[page.index('id="m-fixed"') :].split("</section>", 1)[0]
    # This week: 0 claimed fixed, 2 verified, 0 signed off, so 2 fixed.
    this_week = (
        '<td class="num">0</td><td class="num">2</td><td class="num">0</td><td class="num">2</td>'
    )
    assert fixed_total.count(this_week) == 1
    unverified = page[page.index('<th scope="row">unverified</th>') :].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in unverified  # the other verified one has no evidence row


@pytest.mark.django_db
def test_metrics_queries_do_not_grow_and_are_cached_until_the_project_changes(
    owner_client, acme, django_assert_max_num_queries
):
    cache.clear()
    make_findings(acme, 3)
    with django_assert_max_num_queries(20) as first:
        owner_client.get("/p/ACME/metrics/")
    with django_assert_max_num_queries(len(first.captured_queries) - 4):
        owner_client.get("/p/ACME/metrics/")  # cached: no aggregates
    make_findings(acme, 50, severity=Severity.LOW, age_days=200)
    from findings.services import finding_transition

    finding_transition(
        finding=Finding.objects.filter(project=acme).first(), event="claim", actor=None
    )
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = owner_client.get("/p/ACME/metrics/").content.decode()
    assert "low 50</text>" in page
