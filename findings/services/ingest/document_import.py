"""Importing a remediation document: extracted, then recorded in one transaction.

Counts keep the scan keys; what each means for a document is in docs/documents.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from findings import services
from findings.models import Report
from findings.services.ingest.results import (
    IngestResult,
    Options,
    Progress,
    ingest_result,
    lost_race,
)
from findings.services.ingest.storage import report_path, store_document
from scanners.base import ParseError
from scanners.documents import MAX_BYTES as MAX_DOCUMENT_BYTES
from scanners.documents import Extraction
from scanners.documents import extract as extract_document
from scanners.documents.text import decode as decode_document
from scanners.files import IngestError, ReportWindow
from scanners.normalise import fit, storable_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DOCUMENT_FORMAT = "markdown"


@dataclass
class DocumentUpload:
    """What is known of a remediation document before it is read."""

    path: Path
    name: str
    size: int
    sha: str
    project_key: str
    options: Options
    user: User | None
    report: Report | None
    started: float


def import_document(
    upload: DocumentUpload, window: ReportWindow, *, on_progress: Progress | None
) -> IngestResult:
    """Import a remediation document: extract it, then record it in one transaction.

    The extractor refuses binary input and documents over ``MAX_BYTES``; its message becomes
    the IngestError.
    """
    extraction, text = _extract(upload, window)
    if on_progress:
        on_progress(0.5)
    kept_before = report_path(upload.sha).is_file()
    stored = store_document(upload.path, upload.sha)
    try:
        with transaction.atomic():
            project, _ = services.project_get_or_create(key=upload.project_key)
            report = upload.report or Report(project=project, uploaded_by=upload.user)
            _describe(report, upload, stored, extraction)
            report.save()
            counts = services.document_record(
                project=project,
                report=report,
                extraction=extraction.to_dict(),
                text=text,
                user=upload.user,
            )
            services.report_finish(
                report=report,
                counts=counts,
                seconds=time.perf_counter() - upload.started,
                note=counts.describe(),
            )
    except IntegrityError:
        return lost_race(upload.project_key, upload.sha, upload.started, upload.name)
    except BaseException:
        if not kept_before:  # nothing names the copy this import kept
            Path(stored).unlink(missing_ok=True)
        raise
    return ingest_result(report)


def _extract(upload: DocumentUpload, window: ReportWindow) -> tuple[Extraction, str]:
    """The document's extraction and its repaired text; IngestError when it cannot be read."""
    name = upload.name
    if upload.size > MAX_DOCUMENT_BYTES:
        raise IngestError(
            f"{name}: document is {upload.size} bytes, over the {MAX_DOCUMENT_BYTES} byte limit"
        )
    data = window.read()
    try:
        extraction = extract_document(data, source=name)
        text = decode_document(data, source=name).text
    except ParseError as error:
        if not error.source:
            error.source = name
        raise IngestError(str(error)) from None
    return extraction, text


def _describe(report: Report, upload: DocumentUpload, stored: str, extraction: Extraction) -> None:
    """Set the report's own facts: a running document import, placed in time by the date
    the document states (never in the future), else by its arrival."""
    options = upload.options
    facts = extraction.document
    report.sha256 = upload.sha
    report.filename = storable_text(upload.name)[:500]
    report.size = upload.size
    report.stored_path = stored
    report.kind = Report.Kind.DOCUMENT
    report.format = DOCUMENT_FORMAT
    report.tool = "document"
    report.tool_version = ""
    report.commit = storable_text(options.commit)[:40]
    report.branch = fit(storable_text(options.branch), "branch")
    report.options = {key: storable_text(value) for key, value in options.as_dict().items()}
    written = parse_datetime(f"{facts.date}T00:00:00+00:00") if facts.date else None
    report.order_at = min(written, timezone.now()) if written else timezone.now()
    report.order_source = "document" if written else "arrival"
    report.state = Report.State.RUNNING
