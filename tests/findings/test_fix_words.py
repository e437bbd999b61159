"""One truth on every page: the words for "fixed" (claimed fixed, verified, signed off) count
the same on the overview, the board, the metrics page, the status report (Markdown and CSV)
and the API summary, and a claim is never counted as fixed.

The project is seeded as a user would: the four seed documents uploaded, a bandit scan and a
re-scan that no longer reports one result, a reviewer's sign-off and a reviewer's decision.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from findings import lifecycle, services
from findings.lifecycle import Status
from findings.models import Finding
from findings.services.ingest import ingest_file
from tests.conftest import SAMPLES, SEEDS

WORDS = [word.key for word in lifecycle.FIX_WORDS]


@pytest.fixture
def seeded(acme, owner, reviewer, tmp_path):
    """ACME after the seeds and two scans; one verification moved out of the last 7 days."""
    cache.clear()
    for seed in sorted(SEEDS.glob("seed_*.txt")):
        ingest_file(seed, project_key="ACME", user=owner)
    scan = json.loads((SAMPLES / "bandit" / "context_and_errors.json").read_text())
    ingest_file(SAMPLES / "bandit" / "context_and_errors.json", project_key="ACME", user=owner)
    scan["results"] = scan["results"][:1]
    scan["generated_at"] = "2026-03-03T10:15:00Z"
    rescan = tmp_path / "rescan.json"
    rescan.write_text(json.dumps(scan))
    ingest_file(rescan, project_key="ACME", user=owner)
    claimed = list(Finding.objects.filter(project=acme, status=Status.CLAIMED).order_by("number"))
    assert len(claimed) >= 2, "the seeds claim fixes"
    services.review_record(finding=claimed[0], reviewer=reviewer, verdict="approve")
    services.review_verify(
        finding=claimed[1], reviewer=reviewer, reason="read the diff; the query is parametrised"
    )
    # A fix verified ten days ago counts now, but not in the last 7 days.
    old = Finding.objects.filter(
        project=acme, status=Status.VERIFIED, fixed_in_report__isnull=False
    )
    assert old.exists(), "the re-scan verified a finding"
    old.update(status_changed_at=timezone.now() - timedelta(days=10))
    return acme


def expected(project) -> dict:
    """The truth, read from the findings themselves rather than from any summary."""
    by_status = Counter(Finding.objects.filter(project=project).values_list("status", flat=True))
    since = timezone.now() - timedelta(days=7)
    recent = Counter(
        Finding.objects.filter(project=project, status_changed_at__gte=since).values_list(
            "status", flat=True
        )
    )
    now = {word.key: sum(by_status[s] for s in word.statuses) for word in lifecycle.FIX_WORDS}
    last = {word.key: sum(recent[s] for s in word.statuses) for word in lifecycle.FIX_WORDS}
    return {
        "open": sum(by_status[s] for s in lifecycle.OPEN_LIKE),
        "now": now,
        "recent": last,
    }


def cells(html: str, attribute: str) -> dict[str, int]:
    return {
        key: int(value)
        for key, value in re.findall(rf'{attribute}="(\w+)"[^>]*>(\d+)<', html)
        if key in WORDS
    }


def test_every_page_report_and_the_api_count_the_same_fixes(seeded, owner_client):
    truth = expected(seeded)
    assert all(truth["now"].values()), truth  # each word holds something
    assert truth["recent"]["verified"] == truth["now"]["verified"] - 1

    overview = owner_client.get("/").content.decode()
    row = overview[overview.index('<a href="/p/ACME/">ACME</a>') :].split("</tr>", 1)[0]
    assert cells(row, "data-now") == truth["now"]
    assert cells(row, "data-recent") == truth["recent"]
    assert f"<strong>{truth['open']}</strong>" in row

    board = owner_client.get("/p/ACME/").content.decode()
    for word in lifecycle.FIX_WORDS:
        (status,) = word.statuses
        count = re.search(rf'id="col-{status}">[^<]*<span class="count"[^>]*>(\d+)<', board)
        assert count and int(count.group(1)) == truth["now"][word.key], word.key

    metrics = owner_client.get("/p/ACME/metrics/").content.decode()
    # The open chart ends where the overview stands: claims open, verified and signed off not.
    chart_now = re.search(r'<title id="m-open-t">[^<]*now: ([^<]*)</title>', metrics)
    assert chart_now, "the open chart says where it ends"
    by_severity = dict(re.findall(r'sev-cell-(\w+)">(\d+)<', row))
    ends = dict(pair.rsplit(" ", 1) for pair in chart_now.group(1).split(", "))
    assert {name: n for name, n in ends.items() if n != "0"} == by_severity
    assert cells(metrics, "data-now") == truth["now"]
    assert cells(metrics, "data-recent") == truth["recent"]
    evidence = metrics[metrics.index('id="m-evidence"') :].split("</section>", 1)[0]
    levels = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', evidence)]
    assert sum(levels) == sum(truth["now"].values())  # every claim has a level, once

    markdown = owner_client.get("/p/ACME/report.md").content.decode()
    status_line = next(line for line in markdown.splitlines() if line.startswith("**Status:**"))
    said = [
        dict(zip(WORDS, map(int, found), strict=True))
        for found in re.findall(
            r"(\d+) claimed fixed, (\d+) verified, (\d+) signed off", status_line
        )
    ]
    assert said == [truth["now"], truth["recent"]]
    assert status_line.startswith(f"**Status:** {truth['open']} open findings")
    assert not re.search(r"\d+ fixed", status_line.replace("claimed fixed", ""))

    response = owner_client.get("/p/ACME/report.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    labels = {word.label: word.key for word in lifecycle.FIX_WORDS}
    fixes = [r for r in rows if r["section"] == "fix"]  # the open ones follow, apart
    assert {labels[s]: n for s, n in Counter(r["status"] for r in fixes).items()} == truth["now"]

    api = owner_client.get("/api/v1/projects/ACME/summary").json()
    assert api["fixes"] == truth["now"]
    assert {key: api["last_7_days"][key] for key in WORDS} == truth["recent"]
    assert api["open"] == truth["open"]


def test_a_claim_counts_as_open_and_never_as_fixed(seeded, owner_client):
    truth = expected(seeded)
    claimed = truth["now"]["claimed_fixed"]
    fixed = truth["now"]["verified"] + truth["now"]["signed_off"]
    api = owner_client.get("/api/v1/projects/ACME/summary").json()
    assert api["open"] == sum(api["open_by_severity"].values())
    # Open includes every claim; the fixed words hold none of them.
    assert (
        api["open"] - claimed
        == Finding.objects.filter(
            project=seeded, status__in=[Status.OPEN, Status.REGRESSED]
        ).count()
    )
    assert api["fixes"]["verified"] + api["fixes"]["signed_off"] == fixed
    assert Finding.objects.filter(project=seeded, status__in=lifecycle.FIXED).count() == fixed
