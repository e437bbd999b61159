"""The Imports page in a real browser: failed uploads keep the page within the window, and a
refused key stays typed in the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from findings.models import Report
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_NAME = "nightly_bandit_report_for_the_payments_service_" + "x" * 60 + ".json"


def upload(page, key: str, name: str, body: bytes) -> None:
    page.fill("#id_project", key)
    page.set_input_files("#id_files", {"name": name, "mimeType": "text/plain", "buffer": body})
    page.click("form.upload button[type=submit]")


def test_failed_uploads_with_long_names_and_errors_keep_the_table_within_the_window(
    page, live_server
):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/imports/")
    truncated = b'{"results": [{"filename": "' + b"a" * 300
    upload(page, "LILY", LONG_NAME, truncated)
    upload(page, "LILY", "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert set(Report.objects.values_list("state", flat=True)) == {"failed"}
    page.goto(f"{live_server.url}/imports/")
    expect(page.locator(".report-error")).to_have_count(2)
    expect(page.locator(".report-error").first).to_contain_text("binary data (PNG image)")

    table = page.eval_on_selector("table.imports", "e => e.getBoundingClientRect().right")
    document = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "imports-failed-uploads")
    assert table <= 1400 and document <= 1400


def test_a_refused_new_key_stays_typed_with_the_reason_beside_it(
    browser, live_server, django_user_model
):
    django_user_model.objects.create_user("dev", password="developer-pass-123")
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "dev")
    page.fill("#id_password", "developer-pass-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/imports/")

    upload(page, "NEWAPP", "scan.json", b"[]")

    expect(page.locator("#id_project")).to_have_value("NEWAPP")
    expect(page.locator("form.upload")).to_contain_text(
        "There is no project NEWAPP you may upload to; a site admin creates projects."
    )
    screenshot(page, "imports-refused-key")
    context.close()


def test_a_partial_scan_path_outside_the_repository_is_refused_beside_the_field(page, live_server):
    page.goto(f"{live_server.url}/imports/")
    page.click("form.upload summary")
    page.fill("#id_only", "src/api\n../secrets")

    upload(page, "LILY", "scan.json", b"[]")

    only = page.locator("#id_only")
    expect(only).to_be_visible()  # the section is open again, with what was typed
    expect(only).to_have_value("src/api\n../secrets")
    expect(page.locator("form.upload")).to_contain_text("'../secrets' goes up with '..'")
    expect(page.locator("#only-help")).to_contain_text("relative to the repository root")
    screenshot(page, "imports-partial-scan-refused")
    assert not Report.objects.exists()
