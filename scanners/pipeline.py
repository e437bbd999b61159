"""Ingestion: detect -> parse (streaming) -> normalise + fingerprint -> merge.

A report imports whole or not at all: its rows reach the project's findings only inside one
transaction (batch by batch as they are parsed, on PostgreSQL; else from a temporary staging
table once parsing is over). The same bytes twice are one report
(a database constraint, so two concurrent imports cannot both win). Every failure is an
:class:`IngestError` whose text names the file, the place and what was expected.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from findings import services
from findings.models import PROJECT_KEY_PATTERN, Project, Report
from scanners import git, reading, registry
from scanners.base import ParseError, ReportMeta
from scanners.documents import MAX_BYTES as MAX_DOCUMENT_BYTES
from scanners.documents import extract as extract_document
from scanners.documents import looks_like_document
from scanners.documents.text import decode as decode_document
from scanners.files import (
    IngestError,
    ReportWindow,
    check_size,
    describe_head,
    sha256_of,
    utf8_source,
)

Progress = Callable[[float], None]


@dataclass
class IngestResult:
    report: int
    project: str
    tool: str
    format: str
    commit: str
    new: int
    still_open: int
    fixed: int
    regressed: int
    suppressed: int
    seconds: float
    duplicate: bool = False
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Options:
    """What a caller may say about a report beyond its bytes."""

    commit: str = ""
    branch: str = ""
    root: str = ""
    format: str = ""
    # A root given by a person is kept for later reports; a temporary checkout's is not.
    remember_root: bool = True

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v and k != "remember_root"}


def detect_format(head: bytes, name: str) -> str:
    """The scanner format of ``head``; text that no scanner claims is a remediation document.

    A file named as machine output (``.json``, ``.sarif``...) is never read as a document: text
    there is a tool's log or a broken report, and the user should hear that it is not one.
    """
    key = registry.detect(head)
    if key is None and looks_like_document(head) and not name.lower().endswith(_NOT_DOCUMENTS):
        return DOCUMENT_FORMAT
    if key is None:
        raise IngestError(
            f"{name}: unknown report format (starts with {describe_head(head)}); expected SARIF "
            "2.1.0, the JSON output of bandit, ruff, semgrep, pip-audit or gitleaks, or a "
            "Markdown remediation document"
        )
    return key


def _repository(project: Project | None):
    """The project's linked repository through the hardened git layer, or None."""
    if not (project and project.repo_path):
        return None
    try:
        return git.open_repo(project.repo_path)
    except git.GitError:
        return None


def _commit_time(project: Project | None, commit: str) -> datetime | None:
    repo = _repository(project) if commit else None
    if repo is None:
        return None
    try:
        return git.commit_info(repo, commit).committed_at
    except git.GitError:
        return None


def _file_reader(project: Project | None, commit: str):
    """Reads a repo-relative file at the report's commit, for reports without snippets."""
    repo = _repository(project) if commit else None
    if repo is None:
        return None

    def read(relative: str) -> str | None:
        try:
            return git.file_at(repo, commit, relative)
        except git.GitError:
            return None

    return read


def _order_key(project: Project | None, commit: str, meta: ReportMeta) -> tuple[datetime, str]:
    """When the scanned code was current: the commit's date, else the report's, else now."""
    if when := _commit_time(project, commit):
        return when, "commit"
    if meta.generated_at:
        parsed = parse_datetime(meta.generated_at.replace("Z", "+00:00"))
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed, timezone.utc)
            return parsed, "report"
    return timezone.now(), "arrival"


def _store_raw(source: Path, sha: str, fmt: str, name: str) -> str:
    """Keep the report under a generated name outside the web root (secrets redacted)."""
    target = Path(settings.DATA_DIR) / "reports" / sha[:2] / sha
    target.parent.mkdir(parents=True, exist_ok=True)
    parser = registry.parser_for(fmt)
    redact = getattr(parser, "redact_raw", None)
    if redact is not None:
        target.write_bytes(redact(source.read_bytes()))
    elif source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    return str(target)


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
    """Import one scanner report into a project (created if new); see the module docstring."""
    started = time.perf_counter()
    options = options or Options()
    name = filename or path.name
    if not path.is_file():
        raise IngestError(f"{name}: no such file")
    size = path.stat().st_size
    check_size(size, name)
    sha = sha256_of(path)
    project = Project.objects.filter(key=project_key).first()
    if project is None and not re.match(PROJECT_KEY_PATTERN, project_key):
        raise IngestError(
            f"project key {project_key!r} is not valid: use 2-20 characters of A-Z, 0-9 and '-'"
        )

    if project is not None:
        existing = (
            Report.objects.filter(project=project, sha256=sha, state=Report.State.DONE)
            .exclude(pk=getattr(report, "pk", None))
            .first()
        )
        if existing is not None:
            return _duplicate(existing, started)

    with tempfile.TemporaryDirectory(prefix="auditdash-") as workdir:
        source, start = utf8_source(path, name, Path(workdir))
        with source.open("rb") as handle:
            window = ReportWindow(handle, start)
            head = window.read(registry.HEAD_BYTES)
            window.seek(0)
            fmt = options.format or detect_format(head, name)
            if fmt == DOCUMENT_FORMAT:
                return _ingest_document(
                    path,
                    window,
                    name=name,
                    size=size,
                    sha=sha,
                    project_key=project_key,
                    options=options,
                    user=user,
                    report=report,
                    started=started,
                    on_progress=on_progress,
                )
            if fmt not in registry.FORMATS:
                raise IngestError(
                    f"{name}: unknown format {fmt!r}; expected one of {', '.join(registry.FORMATS)}"
                )
            upload = _Upload(
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
                return _import_scan(upload, window, project=project, on_progress=on_progress)
            except IntegrityError:
                return _lost_race(project_key, sha, started)


@dataclass
class _Upload:
    """What is known of a scanner report before it is parsed."""

    name: str
    size: int
    sha: str
    fmt: str
    project_key: str
    options: Options
    user: object
    report: Report | None
    started: float
    stored_from: Path


class _FactsMoved(Exception):
    """The report's commit or date, read after its first results, differ from the ones its
    streamed rows were merged with: the import starts again, parsing before merging."""


def _setting(upload: _Upload, project: Project | None) -> reading.Setting:
    options = upload.options
    return reading.Setting(
        fmt=upload.fmt,
        name=upload.name,
        commit=options.commit,
        branch=options.branch,
        default_branch=project.default_branch if project else "main",
        roots=(
            options.root,
            project.scan_root if project else "",
            project.repo_path if project else "",
        ),
        reader_at=lambda commit: _file_reader(project, commit),
    )


def _import_scan(
    upload: _Upload, window: ReportWindow, *, project: Project | None, on_progress
) -> IngestResult:
    """Import a scanner report: streamed on PostgreSQL, else parsed whole, then merged.

    Streaming merges each batch as soon as it is parsed, inside the one transaction, with
    the commit and date the report had stated by its first result; should it state others
    later (rare: a SARIF ``versionControlProvenance`` after the results), the transaction is
    rolled back and the import runs again the other way. Either way it imports whole or not
    at all.
    """
    if connection.vendor == "postgresql":
        try:
            return _import_streamed(upload, window, project=project, on_progress=on_progress)
        except _FactsMoved:
            window.seek(0)
    return _import_staged(upload, window, project=project, on_progress=on_progress)


def _import_streamed(
    upload: _Upload, window: ReportWindow, *, project: Project | None, on_progress
) -> IngestResult:
    payloads = _Payloads()
    events = reading.with_payload(reading.read_report(window, _setting(upload, project)), payloads)
    with reading.in_background(events) as parsed:
        try:
            first = next(parsed)
            facts = first if isinstance(first, reading.Start) else None
            order = _order_key(project, first.commit, first.meta)
            tick = _Ticker(on_progress, window, upload.size)
            with transaction.atomic():
                report = _open_report(upload, first.commit, first.branch, order)
                with services.ScanMerge(_context(report, order)) as merge:
                    payloads.bind(merge)
                    done = first if isinstance(first, reading.Done) else None
                    for event in parsed:
                        if isinstance(event, reading.Batch):
                            merge.add(event.rows, event.payload)
                            tick()
                        elif isinstance(event, reading.Done):
                            done = event
                    if facts is not None and not _same_place(project, facts, done, order):
                        raise _FactsMoved
                    return _finish(upload, done, report, merge)
        finally:
            payloads.release()


class _Payloads:
    """Makes each batch's load payload on the parse thread (``merge.payload``), once the
    merge that will load it exists: until then that thread waits, a batch ahead at most.
    ``release`` lets it go on without one (the import failed before its merge began)."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._merge: services.ScanMerge | None = None

    def bind(self, merge: services.ScanMerge) -> None:
        self._merge = merge
        self._ready.set()

    def release(self) -> None:
        self._ready.set()

    def __call__(self, rows: list[tuple]) -> bytes | None:
        self._ready.wait()
        return self._merge.payload(rows) if self._merge is not None else None


def _import_staged(
    upload: _Upload, window: ReportWindow, *, project: Project | None, on_progress
) -> IngestResult:
    tick = _Ticker(on_progress, window, upload.size)
    with services.ScanStage() as stage:
        for event in reading.read_report(window, _setting(upload, project)):
            if isinstance(event, reading.Batch):
                stage.add(event.rows)
                tick()
            elif isinstance(event, reading.Done):
                done = event
        order = _order_key(project, done.commit, done.meta)
        with transaction.atomic():
            report = _open_report(upload, done.commit, done.branch, order)
            with services.ScanMerge(_context(report, order)) as merge:
                merge.add_stage(stage)
                return _finish(upload, done, report, merge)


class _Ticker:
    """Calls ``on_progress`` with the share of the file read, at most every ``EVERY`` s."""

    EVERY = 0.5

    def __init__(self, on_progress: Progress | None, window: ReportWindow, size: int) -> None:
        self.on_progress = on_progress
        self.window = window
        self.size = max(size, 1)
        self.last = 0.0

    def __call__(self) -> None:
        if self.on_progress and time.monotonic() - self.last > self.EVERY:
            self.last = time.monotonic()
            self.on_progress(min(0.95, 0.95 * self.window.furthest / self.size))


def _same_place(
    project: Project | None,
    facts: reading.Start,
    done: reading.Done,
    order: tuple[datetime, str],
) -> bool:
    """Whether the report's final commit, branch and date are those its rows were merged
    with. A place in time taken from arrival is the same whenever it was taken."""
    if (done.commit, done.branch) != (facts.commit, facts.branch):
        return False
    final = _order_key(project, done.commit, done.meta)
    return final[1] == order[1] and (order[1] == "arrival" or final[0] == order[0])


def _open_report(upload: _Upload, commit: str, branch: str, order: tuple[datetime, str]) -> Report:
    """The report row an import writes its findings under, in the import's transaction.

    A queued report (an upload) is only written again when the import finishes: until then
    its progress is written on a connection of its own (see report_set_progress), which
    must not wait on this transaction's row lock.
    """
    project, _ = services.project_get_or_create(key=upload.project_key)
    report = upload.report or Report(project=project, uploaded_by=upload.user)
    report.project = project
    report.sha256 = upload.sha
    report.filename = upload.name[:500]
    report.size = upload.size
    report.format = upload.fmt
    report.kind = Report.Kind.SCAN
    report.tool = upload.fmt
    report.commit = commit
    report.branch = branch
    report.options = upload.options.as_dict()
    report.order_at, report.order_source = order
    report.state = Report.State.RUNNING
    if report.pk is None:
        report.save()
    return report


def _context(report: Report, order: tuple[datetime, str]) -> services.ScanContext:
    return services.ScanContext(
        project=report.project,
        report=report,
        commit=report.commit,
        branch=report.branch,
        order_at=order[0],
    )


def _finish(upload: _Upload, done: reading.Done, report: Report, merge) -> IngestResult:
    """The lifecycle pass, the report's own facts and counts: the end of the transaction."""
    meta, options = done.meta, upload.options
    project = report.project
    report.stored_path = _store_raw(upload.stored_from, upload.sha, upload.fmt, upload.name)
    report.tool = (meta.tool or (done.scopes[0][0] if done.scopes else upload.fmt))[:200]
    report.tool_version = meta.tool_version[:100]
    counts = merge.finish(scopes=done.scopes, scanned_paths=done.scanned, rules=done.rules)
    notes = []
    if counts.historic:
        notes.append(
            f"{counts.historic} findings were already gone in a newer report of the same "
            "scope: recorded as history, fixed there"
        )
    if report.order_source == "arrival":
        notes.append("no commit date or report date: placed in time by arrival")
    if done.unrooted:
        notes.append(f"{done.unrooted} absolute paths could not be made repo-relative: give --root")
    if meta.errors:
        notes.append(f"the tool reported {len(meta.errors)} errors: " + "; ".join(meta.errors[:3]))
    if options.root and options.remember_root:
        services.project_remember_root(project=project, root=options.root)
    seconds = time.perf_counter() - upload.started
    services.report_finish(report=report, counts=counts, seconds=seconds, note="\n".join(notes))
    return IngestResult(
        report=report.pk,
        project=project.key,
        tool=report.tool,
        format=upload.fmt,
        commit=report.commit,
        new=counts.new,
        still_open=counts.still_open,
        fixed=counts.fixed,
        regressed=counts.regressed,
        suppressed=counts.suppressed,
        seconds=round(seconds, 3),
        note=report.note,
    )


def _lost_race(project_key: str, sha: str, started: float) -> IngestResult:
    """After a unique-constraint failure: the same bytes were imported by a concurrent import.

    Must be called from an ``except IntegrityError`` block: any other integrity error is
    re-raised.
    """
    existing = Report.objects.filter(
        project__key=project_key, sha256=sha, state=Report.State.DONE
    ).first()
    if existing is None:
        raise
    return _duplicate(existing, started)


def _duplicate(existing: Report, started: float) -> IngestResult:
    return IngestResult(
        report=existing.pk,
        project=existing.project.key,
        tool=existing.tool,
        format=existing.format,
        commit=existing.commit,
        new=0,
        still_open=0,
        fixed=0,
        regressed=0,
        suppressed=0,
        seconds=round(time.perf_counter() - started, 3),
        duplicate=True,
        note=f"already imported as report #{existing.pk}: nothing changed",
    )


# --- remediation documents ----------------------------------------------------------------

DOCUMENT_FORMAT = "markdown"
_NOT_DOCUMENTS = (".json", ".jsonl", ".sarif", ".xml")


def _ingest_document(
    path: Path,
    window: ReportWindow,
    *,
    name: str,
    size: int,
    sha: str,
    project_key: str,
    options: Options,
    user,
    report: Report | None,
    started: float,
    on_progress: Progress | None,
) -> IngestResult:
    """Import a remediation document: extract it, then record it in one transaction.

    The extractor refuses binary input and documents over ``MAX_BYTES``; its message becomes
    the IngestError. Counts keep the scan keys; what each means for a document is in
    docs/documents.md.
    """
    if size > MAX_DOCUMENT_BYTES:
        raise IngestError(
            f"{name}: document is {size} bytes, over the {MAX_DOCUMENT_BYTES} byte limit"
        )
    data = window.read()
    try:
        extraction = extract_document(data, source=name)
        text = decode_document(data, source=name).text
    except ParseError as error:
        if not error.source:
            error.source = name
        raise IngestError(str(error)) from None
    if on_progress:
        on_progress(0.5)
    target = Path(settings.DATA_DIR) / "reports" / sha[:2] / sha
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.resolve() != target.resolve():
        shutil.copyfile(path, target)
    facts = extraction.document
    try:
        with transaction.atomic():
            project, _ = services.project_get_or_create(key=project_key)
            if report is None:
                report = Report(project=project, uploaded_by=user)
            report.sha256 = sha
            report.filename = name[:500]
            report.size = size
            report.stored_path = str(target)
            report.kind = Report.Kind.DOCUMENT
            report.format = DOCUMENT_FORMAT
            report.tool = "document"
            report.tool_version = ""
            report.commit = options.commit[:40]
            report.branch = options.branch[:200]
            report.options = options.as_dict()
            written = parse_datetime(f"{facts.date}T00:00:00+00:00") if facts.date else None
            report.order_at = min(written, timezone.now()) if written else timezone.now()
            report.order_source = "document" if written else "arrival"
            report.state = Report.State.RUNNING
            report.save()
            counts = services.document_record(
                project=project,
                report=report,
                extraction=extraction.to_dict(),
                text=text,
                user=user,
            )
            seconds = time.perf_counter() - started
            services.report_finish(
                report=report,
                counts=services.ScanCounts(
                    total=counts.total,
                    new=counts.new,
                    still_open=counts.still_open,
                    fixed=counts.fixed,
                    regressed=counts.regressed,
                    suppressed=counts.suppressed,
                ),
                seconds=seconds,
                note=counts.describe(),
            )
    except IntegrityError:
        return _lost_race(project_key, sha, started)
    return IngestResult(
        report=report.pk,
        project=project.key,
        tool=report.tool,
        format=DOCUMENT_FORMAT,
        commit=report.commit,
        new=counts.new,
        still_open=counts.still_open,
        fixed=counts.fixed,
        regressed=counts.regressed,
        suppressed=counts.suppressed,
        seconds=round(seconds, 3),
        note=report.note,
    )


# --- uploads -------------------------------------------------------------------------------


def queue_upload(*, project_key: str, upload, options: Options, user) -> Report:
    """Store an uploaded report under a generated name and queue its import (after commit).

    Refuses empty and oversized files and bytes already imported into the project, with the
    message the uploader should read.
    """
    from scanners.tasks import ingest_report

    name = Path(upload.name or "report").name
    check_size(upload.size or 0, name)
    folder = Path(settings.DATA_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
        stored = Path(handle.name)
    sha = digest.hexdigest()
    try:
        with transaction.atomic():
            project, _ = services.project_get_or_create(key=project_key)
            existing = (
                Report.objects.filter(project=project, sha256=sha)
                .exclude(state=Report.State.FAILED)
                .first()
            )
            if existing is not None:
                raise IngestError(
                    f"{name}: these exact bytes are already imported as report #{existing.pk}; "
                    "nothing changed"
                )
            report = services.report_create_queued(
                project=project,
                sha256=sha,
                filename=name,
                size=upload.size,
                stored_path=str(stored),
                user=user,
                options=options.as_dict(),
            )
            transaction.on_commit(lambda: ingest_report.delay(report.pk))
    except (IngestError, IntegrityError) as error:
        stored.unlink(missing_ok=True)
        if isinstance(error, IntegrityError):
            raise IngestError(f"{name}: the same bytes are being imported already") from None
        raise
    return report
