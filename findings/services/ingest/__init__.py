"""Importing reports into a project: the orchestration over the pure ``scanners`` library.

Modules, in the order a newcomer needs them:

* ``pipeline``        -- :func:`ingest_file` (detect, then import a scan or a document);
* ``results``         -- :class:`Options` in, :class:`IngestResult` out (built in one place);
* ``scan_import``     -- a scanner report, parsed (streaming) and merged in one transaction;
* ``document_import`` -- a remediation document, extracted and recorded;
* ``timeline``        -- where a report sits in time, and its code read from the repository;
* ``storage``         -- where reports are kept;
* ``commit_scan``     -- :func:`scan_commit`: run the scanners over a commit, import each report;
* ``uploads``         -- :func:`queue_upload` (imported on its own: it queues the Celery task,
  and ``findings.tasks`` imports this package).
"""

from findings.services.ingest.commit_scan import (
    ScanError,
    ScanSummary,
    ToolOutcome,
    resolve_commit,
    scan_commit,
)
from findings.services.ingest.document_import import DOCUMENT_FORMAT
from findings.services.ingest.pipeline import detect_format, ingest_file
from findings.services.ingest.results import IngestResult, Options, ingest_result
from scanners.files import IngestError, ReportTooLarge

__all__ = [
    "DOCUMENT_FORMAT",
    "IngestError",
    "IngestResult",
    "Options",
    "ReportTooLarge",
    "ScanError",
    "ScanSummary",
    "ToolOutcome",
    "detect_format",
    "ingest_file",
    "ingest_result",
    "resolve_commit",
    "scan_commit",
]
