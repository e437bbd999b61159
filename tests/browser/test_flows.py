"""The main flows in a real browser, asserted on what the page shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from findings.models import Finding, Report
from tests.browser.conftest import screenshot
from tests.conftest import run_tool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VULNERABLE = """import hashlib
import subprocess


def run(command):
    return subprocess.call(command, shell=True)


def calculate(expression):
    return eval(expression)


def digest(data):
    return hashlib.md5(data).hexdigest()
"""


@pytest.fixture
def bandit_report(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(VULNERABLE)
    report = tmp_path / "bandit-scan.json"
    report.write_text(run_tool("bandit", "-q", "-r", ".", "-f", "json", cwd=source))
    return report


def upload_and_watch(page, live_server, report_path):
    page.goto(f"{live_server.url}/imports/")
    page.fill("#id_project", "LILY")
    page.set_input_files("#id_files", str(report_path))
    page.click("form.upload button[type=submit]")
    report = Report.objects.get(project__key="LILY")
    row = page.locator(f"#report-{report.pk}")
    expect(row.locator(".state")).to_have_text(re.compile("Done"), timeout=60_000)
    report.refresh_from_db()
    return report, row


def test_an_upload_is_processed_in_process_and_its_row_shows_the_counts(
    page, live_server, bandit_report
):
    report, row = upload_and_watch(page, live_server, bandit_report)
    assert report.new == Finding.objects.filter(project__key="LILY").count() >= 3
    expect(row.locator("td.num").first).to_have_text(str(report.new))
    screenshot(page, "imports-done")


@pytest.mark.celery
def test_an_upload_is_processed_by_the_real_worker_and_the_page_shows_final_counts(
    celery_worker_process, page, live_server, bandit_report
):
    report, row = upload_and_watch(page, live_server, bandit_report)
    assert report.state == "done"
    assert report.new == Finding.objects.filter(project__key="LILY").count() >= 3
    expect(row.locator("td.num").first).to_have_text(str(report.new))
    expect(page.locator(".messages")).to_contain_text("queued as report")


def test_filtering_the_board_updates_the_columns_and_the_address(page, live_server, bandit_report):
    upload_and_watch(page, live_server, bandit_report)
    page.goto(f"{live_server.url}/p/LILY/")
    screenshot(page, "board")
    total = Finding.objects.filter(project__key="LILY").count()
    expect(page.locator(".board-total")).to_contain_text(f"{total} findings")
    page.select_option("select[name=severity]", "high")
    highs = Finding.objects.filter(project__key="LILY", severity=2).count()
    expect(page.locator(".board-total")).to_contain_text(
        f"{highs} finding{'s' if highs != 1 else ''} match"
    )
    expect(page).to_have_url(re.compile(r"severity=high"))
    cards = page.locator('[data-status="open"] .fcard')
    expect(cards).to_have_count(highs)
    for index in range(highs):
        expect(cards.nth(index).locator(".sev")).to_have_text("high")
    page.fill("input[name=q]", "nothing-matches-this")
    expect(page.locator(".board-total")).to_contain_text("0 findings match")
    screenshot(page, "board-filtered-empty")
    page.fill("input[name=q]", "")
    expect(cards.first).to_be_visible()
    cards.first.locator("a").first.click()
    expect(page.locator("h1")).not_to_be_empty()
    expect(page.locator(".timeline")).to_contain_text("first reported")
    screenshot(page, "finding-detail")
