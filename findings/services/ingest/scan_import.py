"""Importing a scanner report: parsed (streaming), normalised, merged in one transaction.

On PostgreSQL each batch is merged as soon as it is parsed, inside the one transaction;
elsewhere the rows are staged in a temporary table and merged once parsing is over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import connection, transaction

from findings import services
from findings.models import Project, Report
from findings.services.ingest.results import IngestResult, Options, Progress, ingest_result
from findings.services.ingest.storage import ScanKeeper
from findings.services.ingest.timeline import Order, file_reader, order_key, repository
from findings.services.scan.moves import Whereabouts
from scanners import reading
from scanners.files import ReportWindow
from scanners.normalise import storable_text
from scanners.rows import StagedRow

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class Upload:
    """What is known of a scanner report before it is parsed."""

    name: str
    size: int
    sha: str
    fmt: str
    project_key: str
    options: Options
    user: User | None
    report: Report | None
    started: float
    stored_from: Path


class _FactsMoved(Exception):
    """The report's commit or date, read after its first results, differ from the ones its
    streamed rows were merged with: the import starts again, parsing before merging."""


def import_scan(
    upload: Upload, window: ReportWindow, *, project: Project | None, on_progress: Progress | None
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


def _setting(upload: Upload, project: Project | None) -> reading.Setting:
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
        reader_at=lambda commit: file_reader(project, commit),
    )


def _import_streamed(
    upload: Upload, window: ReportWindow, *, project: Project | None, on_progress
) -> IngestResult:
    payloads = _Payloads()
    keeper = ScanKeeper(upload.stored_from, upload.sha, upload.fmt)
    read = _keep_once_read(reading.read_report(window, _setting(upload, project)), keeper)
    events = reading.with_payload(read, payloads)
    with keeper, reading.in_background(events) as parsed:
        try:
            first = next(parsed)
            if isinstance(first, reading.Batch):
                raise RuntimeError("read_report gave a batch before the report's start")
            facts = first if isinstance(first, reading.Start) else None
            order = order_key(project, first.commit, first.meta)
            tick = _Ticker(on_progress, window, upload.size)
            with transaction.atomic():
                report = _open_report(upload, first.commit, first.branch, order)
                keeper.opened()
                with services.ScanMerge(_context(report, order)) as merge:
                    payloads.bind(merge)
                    done = first if isinstance(first, reading.Done) else None
                    for event in parsed:
                        if isinstance(event, reading.Batch):
                            merge.add(event.rows, event.payload)
                            tick()
                        elif isinstance(event, reading.Done):
                            done = event
                    if done is None:
                        raise RuntimeError("read_report ended without its Done event")
                    if facts is not None and not _same_place(project, facts, done, order):
                        raise _FactsMoved
                    return _record(upload, done, report, merge, keeper)
        finally:
            payloads.release()


def _keep_once_read(events: Iterator[reading.Event], keeper: ScanKeeper) -> Iterator[reading.Event]:
    """``events``, telling ``keeper`` on the parse thread as soon as the report is read: it
    is compressed while the transaction merges the last batch and runs the passes."""
    for event in events:
        if isinstance(event, reading.Done):
            keeper.read()
        yield event


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

    def __call__(self, rows: list[StagedRow]) -> bytes | None:
        self._ready.wait()
        return self._merge.payload(rows) if self._merge is not None else None


def _import_staged(
    upload: Upload, window: ReportWindow, *, project: Project | None, on_progress
) -> IngestResult:
    tick = _Ticker(on_progress, window, upload.size)
    keeper = ScanKeeper(upload.stored_from, upload.sha, upload.fmt)
    with keeper, services.ScanStage() as stage:
        for event in reading.read_report(window, _setting(upload, project)):
            if isinstance(event, reading.Batch):
                stage.add(event.rows)
                tick()
            elif isinstance(event, reading.Done):
                done = event
        keeper.read()
        order = order_key(project, done.commit, done.meta)
        with transaction.atomic():
            report = _open_report(upload, done.commit, done.branch, order)
            keeper.opened()
            with services.ScanMerge(_context(report, order)) as merge:
                merge.add_stage(stage)
                return _record(upload, done, report, merge, keeper)


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
    project: Project | None, facts: reading.Start, done: reading.Done, order: Order
) -> bool:
    """Whether the report's final commit, branch and date are those its rows were merged
    with. A place in time taken from arrival is the same whenever it was taken."""
    if (done.commit, done.branch) != (facts.commit, facts.branch):
        return False
    final = order_key(project, done.commit, done.meta)
    return final[1] == order[1] and (order[1] == "arrival" or final[0] == order[0])


def _open_report(upload: Upload, commit: str, branch: str, order: Order) -> Report:
    """The report row an import writes its findings under, in the import's transaction.

    A queued report (an upload) is only written again when the import finishes: until then
    its progress is written on a connection of its own (see report_set_progress), which
    must not wait on this transaction's row lock.
    """
    project, _ = services.project_get_or_create(key=upload.project_key)
    report = upload.report or Report(project=project, uploaded_by=upload.user)
    report.project = project
    report.sha256 = upload.sha
    report.filename = storable_text(upload.name)[:500]
    report.size = upload.size
    report.format = upload.fmt
    report.kind = Report.Kind.SCAN
    report.tool = upload.fmt
    report.commit = commit
    report.branch = branch
    report.options = {key: storable_text(value) for key, value in upload.options.as_dict().items()}
    report.order_at, report.order_source = order
    report.state = Report.State.RUNNING
    if report.pk is None:
        report.save()
    return report


def _context(report: Report, order: Order) -> services.ScanContext:
    return services.ScanContext(
        project=report.project,
        report=report,
        commit=report.commit,
        branch=report.branch,
        order_at=order[0],
    )


def _record(
    upload: Upload,
    done: reading.Done,
    report: Report,
    merge: services.ScanMerge,
    keeper: ScanKeeper,
) -> IngestResult:
    """The lifecycle pass, the report's own facts, counts and note, and the kept report's
    path: the end of the transaction. Should recording fail, ``keeper`` removes a copy this
    import kept (the transaction rolls back the rows)."""
    meta, options = done.meta, upload.options
    project = report.project
    report.tool = (meta.tool or (done.scopes[0][0] if done.scopes else upload.fmt))[:200]
    report.tool_version = meta.tool_version[:100]
    where = Whereabouts.of(
        scanned=done.scanned,
        failed=done.failed,
        only=[line for line in options.only.splitlines() if line.strip()],
        repo=repository(project),
        commit=done.commit,
    )
    counts = merge.finish(
        scopes=done.scopes, scanned_paths=done.scanned, rules=done.rules, where=where
    )
    report.stored_path = keeper.path()
    notes = []
    if counts.moved or counts.edited:
        notes.append(
            f"{counts.moved} findings moved to another file and {counts.edited} flagged lines "
            "changed but still reported: kept as the same findings, not counted as new"
        )
    if where.partial:
        notes.append(
            "the scan covered only " + ", ".join(where.coverage) + ": findings elsewhere were "
            "not scanned and stay as they are (not seen since their last scan)"
        )
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
    if done.cut:
        notes.append(done.cut)
    if options.root and options.remember_root:
        services.project_remember_root(project=project, root=options.root)
    seconds = time.perf_counter() - upload.started
    services.report_finish(report=report, counts=counts, seconds=seconds, note="\n".join(notes))
    return ingest_result(report)
