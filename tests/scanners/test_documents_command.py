"""The ``extract`` management command: prints, writes nothing, fails in one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "documents"
ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("extract", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_the_extraction_of_the_document() -> None:
    path = SAMPLES / "seed_002_critical_fixes.txt"
    printed = json.loads(_run(str(path), "--json"))
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert printed == expected
    assert set(printed) == {"document", "findings", "phases", "health", "unparsed"}


def test_summary_lists_findings_with_their_files_and_severity() -> None:
    text = _run(str(SAMPLES / "seed_001_handoff.txt"))
    assert "Document: Complete Technical Handoff - CodeX Review Document" in text
    assert "Database Session Leak in Celery Tasks — high, fixed" in text
    assert "backend/tasks/publish_tasks.py:66,115-125,249-250" in text
    assert "Server Performance: at_risk (AT RISK)" in text
    assert "Encoding repaired: UTF-8 that had been read as cp1252" in text


def test_command_writes_nothing_next_to_the_document(tmp_path: Path) -> None:
    doc = tmp_path / "handoff.md"
    doc.write_bytes((SAMPLES / "own_02_checklist.md").read_bytes())
    _run(str(doc), "--json")
    assert [p.name for p in tmp_path.iterdir()] == ["handoff.md"]


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        _run(str(tmp_path / "missing.md"))


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is a directory"):
        _run(str(tmp_path))


def test_binary_file_is_refused_naming_file_and_offset(tmp_path: Path) -> None:
    blob = tmp_path / "image.png"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(CommandError) as err:
        _run(str(blob))
    assert str(blob) in str(err.value) and "byte 8" in str(err.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    doc = tmp_path / "secret.md"
    doc.write_text("# Fixes\n")
    doc.chmod(0)
    with pytest.raises(CommandError, match="cannot read"):
        _run(str(doc))


def test_command_line_error_is_one_line_on_stderr_with_exit_code_one(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "auditdash.settings"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "extract", str(tmp_path / "nope.md")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"CommandError: {tmp_path / 'nope.md'}: no such file"
    ]
    assert proc.stdout == ""
