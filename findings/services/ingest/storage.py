"""Where imported reports are kept: under a generated name in the data folder, outside the
web root, named by the hash of their bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from scanners import registry


def report_path(sha: str) -> Path:
    """The file a report with these bytes is kept in (its folder created)."""
    target = Path(settings.DATA_DIR) / "reports" / sha[:2] / sha
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def store_scan(source: Path, sha: str, fmt: str) -> str:
    """Keep a scanner report (secrets redacted when its format says how); its path."""
    target = report_path(sha)
    redact = getattr(registry.parser_for(fmt), "redact_raw", None)
    if redact is not None:
        target.write_bytes(redact(source.read_bytes()))
    elif source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    return str(target)


def store_document(source: Path, sha: str) -> str:
    """Keep a remediation document as it came; its path."""
    target = report_path(sha)
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    return str(target)


def upload_folder() -> Path:
    """Where uploads wait for their import (created)."""
    folder = Path(settings.DATA_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
