"""A binary file given as a report is named for what it is ("binary data (PNG image)") on every
way in — the upload page, the API and the command line — and its bytes are never quoted."""

from __future__ import annotations

import gzip
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from findings.models import Report, Role
from findings.services import token_create
from scanners.files import binary_kind, describe_head

pytestmark = pytest.mark.django_db

FILLER = bytes(range(256)) * 3  # what follows a magic number: every byte value

BINARIES = [
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
    ("anim.gif", b"GIF89a", "GIF image"),
    ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
    ("report.zip", b"PK\x03\x04\x14\x00", "ZIP archive, or a .docx, .xlsx or .jar"),
    ("tool", b"\x7fELF\x02\x01\x01\x00", "ELF executable"),
    ("tool.exe", b"MZ\x90\x00\x03\x00", "Windows executable"),
    ("out.json.xz", b"\xfd7zXZ\x00\x00", "xz-compressed data"),
]


@pytest.mark.parametrize(("name", "magic", "kind"), BINARIES)
def test_common_binary_files_are_known_by_their_magic_number(name, magic, kind):
    assert binary_kind(magic + FILLER) == kind
    assert describe_head(magic + FILLER) == f"binary data ({kind})"


def test_text_is_never_taken_for_binary_and_unknown_binary_is_not_quoted():
    assert binary_kind(b'{"runs": []}') is None
    assert binary_kind(b"MZ is the start of this sentence.\n") is None
    assert binary_kind(b"# PK\x03 notes") is None
    assert describe_head(b"\x01\x02\x03 no known kind") == "binary data"
    assert describe_head(b'  {"a": 1}') == "'{\"a\": 1}'"


@pytest.mark.parametrize(("name", "magic", "kind"), BINARIES)
def test_the_command_line_names_the_kind_of_binary_file(tmp_path: Path, name, magic, kind):
    path = tmp_path / name
    path.write_bytes(magic + FILLER)
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("ingest", str(path), project="ACME", stderr=err)

    message = err.getvalue()
    assert f"{path}: binary data ({kind}), not a report;" in message
    assert "\\x" not in message and "\ufffd" not in message
    assert not Report.objects.exists()


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """A test client whose queued imports run before the response returns."""

    class Committing(Client):
        def request(self, **request):
            with django_capture_on_commit_callbacks(execute=True):
                return super().request(**request)

    return Committing()


def test_the_upload_page_names_a_gzipped_png_for_what_it_is(committing, manager, acme):
    committing.force_login(manager)
    png = gzip.compress(BINARIES[0][1] + FILLER)  # inflated first, then recognised

    page = committing.post(
        "/imports/", {"project": "ACME", "files": [SimpleUploadedFile("shot.png.gz", png)]}
    )

    assert page.status_code == 302
    report = Report.objects.get()
    assert report.state == "failed"
    assert report.error.startswith("shot.png: binary data (PNG image), not a report;")
    listing = committing.get("/imports/").content.decode()
    assert "binary data (PNG image)" in listing and "IHDR" not in listing


def test_the_api_names_a_pdf_for_what_it_is(committing, manager, acme):
    secret = token_create(project=acme, creator=manager, name="CI", role=Role.DEVELOPER).secret
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    response = committing.post(
        "/api/v1/projects/ACME/reports?filename=scan.pdf",
        data=BINARIES[3][1] + FILLER,
        content_type="application/octet-stream",
        **auth,
    )

    assert response.status_code == 202, response.content
    status = committing.get(response.json()["status_url"], **auth).json()
    assert status["state"] == "failed"
    assert status["error"].startswith("scan.pdf: binary data (PDF document), not a report;")
