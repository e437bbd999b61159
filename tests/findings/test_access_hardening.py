"""The web side of hardening: login rate limit, sessions, headers, CSP, deploy check, uploads."""

from __future__ import annotations

import gzip
import io
import os
import secrets
import subprocess
import sys
import zlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client

from findings.models import Report
from findings.uploads import UploadError, inflate_upload
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def lena(django_user_model, acme):
    from findings.models import Role
    from findings.services import membership_set

    user = django_user_model.objects.create_user("lena", password="correct-horse-battery")
    membership_set(project=acme, user=user, role=Role.DEVELOPER)
    return user


def _login(client: Client, password: str, username: str = "lena"):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_repeated_failed_logins_lock_the_account_from_that_address(lena):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, "wrong")
        assert response.status_code == 200
        assert "Please try again" in response.content.decode()
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Even the right password is refused until the cool-off ends.
    assert _login(client, "correct-horse-battery").status_code == 429
    assert client.get("/").status_code == 302


def test_a_successful_login_resets_the_failure_count(lena):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    assert _login(client, "correct-horse-battery").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200


def test_sessions_end_at_browser_close_and_after_idle_time(lena):
    client = Client()
    response = _login(client, "correct-horse-battery")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    # Renewed on use, at most every SESSION_RENEW_AFTER (tests/findings/test_request_cost.py).
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and settings.SESSION_RENEW_AFTER
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_every_page_sends_a_strict_csp_and_the_security_headers(lena, client_for):
    response = client_for(lena).get("/p/ACME/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Content-Security-Policy" in Client().get("/accounts/login/")


def test_pages_carry_no_inline_script_style_or_event_handler(lena, client_for):
    import re

    page = client_for(lena).get("/p/ACME/").content.decode()
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)


def test_manage_py_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        # A production process: none of the test run's own switches (the browser tests set
        # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright).
        if key
        not in {"DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="audit.example.com",
        SECURE_SSL_REDIRECT="1",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
        AUDITDASH_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


def test_a_gzipped_report_is_recognised_by_its_bytes_and_imported(
    lena, client_for, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("report.json", _gzip(b"[]"), content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(lena).post(
            "/imports/", {"project": "ACME", "files": [upload], "format": "ruff"}, follow=True
        )
    assert "queued as report" in page.content.decode()
    report = Report.objects.get(project__key="ACME")
    assert report.size == 2 and report.state == "done"
    assert report.stored_path.startswith(str(settings.DATA_DIR))
    assert "report.json" not in os.path.basename(report.stored_path)


def test_a_zip_bomb_is_refused_before_it_is_inflated(lena, client_for, settings):
    settings.MAX_REPORT_BYTES = 1024 * 1024
    bomb = _gzip(b"\0" * (64 * 1024 * 1024))
    assert len(bomb) < 100_000
    upload = SimpleUploadedFile("bomb.json.gz", bomb)
    page = client_for(lena).post("/imports/", {"project": "ACME", "files": [upload]}, follow=True)
    assert "bomb.json.gz: inflates to more than 1,048,576 bytes" in page.content.decode()
    assert not Report.objects.exists()


def test_inflating_stops_reading_as_soon_as_the_cap_is_passed():
    # Uploads past FILE_UPLOAD_MAX_MEMORY_SIZE arrive as temporary files, read in chunks.
    class CountingUpload(TemporaryUploadedFile):
        read_bytes = 0

        def chunks(self, chunk_size=None):
            for chunk in super().chunks(chunk_size):
                CountingUpload.read_bytes += len(chunk)
                yield chunk

    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    bomb = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()
    assert len(bomb) > 200_000  # 256 MiB inflated from about a quarter of a megabyte
    upload = CountingUpload("big.gz", "application/gzip", len(bomb), None)
    upload.write(bomb)
    with pytest.raises(UploadError, match="inflates to more than 65,536 bytes"):
        inflate_upload(upload, limit=65_536)
    assert CountingUpload.read_bytes < len(bomb) / 3


def test_cut_short_corrupt_nested_or_concatenated_gzip_is_refused_clearly():
    whole = _gzip(b'{"runs": []}')
    cases = {
        "cut.gz": (whole[: len(whole) // 2], "ends early"),
        "corrupt.gz": (whole[:10] + b"\xff" * 20 + whole[30:], "not valid gzip data"),
        "nested.gz": (_gzip(whole), "holds another gzip file"),
        "two.gz": (whole + whole, "holds data after the end of its gzip stream"),
    }
    for name, (data, message) in cases.items():
        with pytest.raises(UploadError, match=message) as error:
            inflate_upload(SimpleUploadedFile(name, data))
        assert str(error.value).startswith(f"{name}: ")


def test_a_file_named_gz_that_is_not_gzip_is_passed_on_untouched():
    upload = SimpleUploadedFile("report.json.gz", b"[]")
    assert inflate_upload(upload) is upload
    assert io.BytesIO(upload.read()).read() == b"[]"
