"""Ingestion: detect -> parse (streaming) -> normalise + fingerprint -> merge.

A report imports whole or not at all: its rows reach the project's findings only inside one
transaction (see :mod:`findings.services.ingest.scan_import`). The same bytes twice are one
report (a database constraint, so two concurrent imports cannot both win). Every failure is
an :class:`IngestError` whose text names the file, the place and what was expected.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError

from findings.models import PROJECT_KEY_PATTERN, Project, Report
from findings.services.ingest.document_import import (
    DOCUMENT_FORMAT,
    DocumentUpload,
    import_document,
)
from findings.services.ingest.results import (
    IngestResult,
    Options,
    Progress,
    ingest_result,
    lost_race,
)
from findings.services.ingest.scan_import import Upload, import_scan
from findings.services.ingest.storage import is_waiting_upload
from findings.services.reports import report_fail_stale
from scanners import registry
from scanners.documents import looks_like_document
from scanners.files import (
    IngestError,
    ReportWindow,
    binary_kind,
    check_size,
    describe_head,
    sha256_of,
    utf8_source,
)

_NOT_DOCUMENTS = (".json", ".jsonl", ".sarif", ".xml")
_EXPECTED = (
    "expected SARIF 2.1.0, the JSON output of bandit, ruff, semgrep, pip-audit or gitleaks, "
    "or a Markdown remediation document"
)
_MAGIC_BYTES = 512  # enough for every magic number scanners.files knows (tar's is at 257)


def detect_format(head: bytes, name: str) -> str:
    """The scanner format of ``head``; text that no scanner claims is a remediation document.

    A file named as machine output (``.json``, ``.sarif``...) is never read as a document: text
    there is a tool's log or a broken report, and the user should hear that it is not one.
    """
    key = registry.detect(head)
    if key is not None and registry.names_no_tool(key, head):
        raise IngestError(
            f"{name}: the report is only {describe_head(head)}, which names no tool (many tools "
            "write it when they find nothing), so it is not imported and closes no findings; "
            f"give its format to import it (--format {key} on the command line, or the "
            "upload's format)"
        )
    is_named_data = name.lower().endswith(_NOT_DOCUMENTS)
    if key is None and not is_named_data:
        text = head.replace(b"\x00", b"")
        if looks_like_document(head) or (text != head and looks_like_document(text)):
            return DOCUMENT_FORMAT  # a NUL inside is refused by the reader, naming its byte
    nesting = registry.nesting_problem(head) if key is None else None
    if nesting is not None:
        raise IngestError(f"{name}: {nesting}")
    if key is None:
        raise IngestError(
            f"{name}: unknown report format (starts with {describe_head(head)}); {_EXPECTED}"
        )
    return key


def refuse_binary(path: Path, name: str) -> None:
    """Refuse a file whose magic number says it is an image, an archive, an executable...,
    naming the kind ("binary data (PNG image)") rather than quoting its bytes."""
    with path.open("rb") as handle:
        kind = binary_kind(handle.read(_MAGIC_BYTES))
    if kind is None:
        return
    hint = " (decompress it first)" if kind.startswith("gzip") else ""
    raise IngestError(f"{name}: binary data ({kind}), not a report{hint}; {_EXPECTED}")


def ingest_file(
    path: Path,
    *,
    project_key: str,
    options: Options | None = None,
    filename: str = "",
    user=None,
    report: Report | None = None,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Import one scanner report or remediation document into a project (created if new);
    see the module docstring.

    An upload waiting for this import (``report`` given, the file in the upload folder) is
    removed when its bytes are refused: they would be refused again (see ``storage``)."""
    try:
        return _ingest(
            path,
            project_key=project_key,
            options=options,
            filename=filename,
            user=user,
            report=report,
            on_progress=on_progress,
        )
    except IngestError:
        if report is not None and is_waiting_upload(path):
            path.unlink(missing_ok=True)
        raise


def _ingest(
    path: Path,
    *,
    project_key: str,
    options: Options | None = None,
    filename: str = "",
    user=None,
    report: Report | None = None,
    on_progress: Progress | None = None,
) -> IngestResult:
    started = time.perf_counter()
    options = options or Options()
    name = filename or path.name
    if not path.is_file():
        raise IngestError(f"{name}: no such file")
    size = path.stat().st_size
    check_size(size, name, limit=settings.MAX_REPORT_BYTES)
    refuse_binary(path, name)
    sha = sha256_of(path)
    project = Project.objects.filter(key=project_key).first()
    if project is None and not re.match(PROJECT_KEY_PATTERN, project_key):
        raise IngestError(
            f"project key {project_key!r} is not valid: use 2-20 characters of A-Z, 0-9 and '-'"
        )
    if project is not None:
        report_fail_stale(project=project, sha256=sha)  # a dead worker's import must not block
        same = Report.objects.filter(project=project, sha256=sha, state=Report.State.DONE)
        if report is not None:  # the queued report itself is not an earlier import
            same = same.exclude(pk=report.pk)
        existing = same.first()
        if existing is not None:
            return ingest_result(existing, duplicate_since=started)

    with tempfile.TemporaryDirectory(prefix="auditdash-") as workdir:
        source, start = utf8_source(path, name, Path(workdir))
        with source.open("rb") as handle:
            window = ReportWindow(handle, start)
            head = window.read(registry.HEAD_BYTES)
            window.seek(0)
            fmt = options.format or detect_format(head, name)
            if fmt == DOCUMENT_FORMAT:
                document = DocumentUpload(
                    path, name, size, sha, project_key, options, user, report, started
                )
                return import_document(document, window, on_progress=on_progress)
            if fmt not in registry.FORMATS:
                raise IngestError(
                    f"{name}: unknown format {fmt!r}; expected one of {', '.join(registry.FORMATS)}"
                )
            upload = Upload(
                name=name,
                size=size,
                sha=sha,
                fmt=fmt,
                project_key=project_key,
                options=options,
                user=user,
                report=report,
                started=started,
                stored_from=source if start == 0 else path,
            )
            try:
                return import_scan(upload, window, project=project, on_progress=on_progress)
            except IntegrityError:
                return lost_race(project_key, sha, started, name)
