"""Kept reports: compressed, read back whole; an import that fails keeps nothing of its own."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from findings.models import Report
from findings.services.ingest import IngestError, Options, ingest_file, scan_import
from scanners.files import read_kept
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db

BANDIT = SAMPLES / "bandit" / "context_and_errors.json"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_a_kept_report_is_compressed_and_reads_back_as_its_bytes(tmp_path):
    big = json.loads(BANDIT.read_text())
    big["results"] = big["results"] * 200
    path = tmp_path / "bandit.json"
    path.write_text(json.dumps(big, indent=2))

    result = ingest_file(path, project_key="KEEP")

    kept = Path(Report.objects.get(pk=result.report).stored_path)
    assert kept.name.endswith(".gz") and kept.read_bytes()[:2] == b"\x1f\x8b"
    assert read_kept(kept) == path.read_bytes()
    assert kept.stat().st_size * 5 < path.stat().st_size


def test_a_kept_document_reads_back_as_its_bytes(tmp_path):
    path = tmp_path / "handoff.md"
    path.write_text("# Handoff\n\nFix 1: the login form escapes its input (app/login.py).\n")

    result = ingest_file(path, project_key="KEEP")

    assert read_kept(Path(Report.objects.get(pk=result.report).stored_path)) == path.read_bytes()


def test_a_report_kept_before_compression_still_reads_back(tmp_path):
    old = tmp_path / ("ab" * 32)
    old.write_bytes(b"[1]")

    assert read_kept(old) == b"[1]"
    packed = tmp_path / "x.gz"
    packed.write_bytes(gzip.compress(b"[2]"))
    assert read_kept(packed) == b"[2]"


def test_an_import_that_fails_while_recording_keeps_no_copy(tmp_path, data_dir, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(scan_import.services, "report_finish", explode)
    before = _files(data_dir)

    with pytest.raises(RuntimeError, match="injected"):
        ingest_file(BANDIT, project_key="KEEP")

    assert _files(data_dir) == before
    assert not Report.objects.exists()


def test_a_refused_report_keeps_no_copy(tmp_path, data_dir):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"results": [{"test_id": "B1", "issue_severity": 3}]}')

    with pytest.raises(IngestError):
        ingest_file(path, project_key="KEEP", options=Options(format="bandit"))

    assert not (data_dir / "reports").exists() or not _files(data_dir / "reports")


def test_an_import_that_fails_in_the_lifecycle_pass_keeps_no_copy_and_can_run_again(
    data_dir, monkeypatch
):
    # The report is compressed on a thread of its own once it is read, while the merge ends:
    # a failure there must still wait for that thread and remove what it wrote.
    ingest_file(BANDIT, project_key="KEEP")
    rescan = data_dir.parent / "rescan.json"
    rescan.write_bytes(BANDIT.read_bytes() + b"\n")
    before = _files(data_dir)

    def explode(*args, **kwargs):
        raise RuntimeError("injected in the lifecycle pass")

    with monkeypatch.context() as patched:
        patched.setattr("findings.services.scan.passes.gone_pass", explode)
        with pytest.raises(RuntimeError, match="injected"):
            ingest_file(rescan, project_key="KEEP")
    assert _files(data_dir) == before

    result = ingest_file(rescan, project_key="KEEP")

    assert result.still_open > 0
    assert read_kept(Path(Report.objects.get(pk=result.report).stored_path)) == rescan.read_bytes()
