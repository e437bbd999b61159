"""Reports: queued, progressing, failed or finished; counts never change once finished.

An import that stops never leaves its report queued or running for good: a running import
writes a heartbeat on its report (:class:`ReportHeartbeat`), and the sweeper
(:func:`report_fail_stale`, :func:`report_lost_queued`) ends a report whose heartbeat went
silent and finds queued reports whose task was never sent (or was lost).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from findings.models import Event, Project, Report
from findings.services.counts import ImportCounts

log = logging.getLogger(__name__)

CLAIMED = "claimed"
"""What :func:`report_claim` answers when the caller now runs the import."""


def report_create_queued(
    *,
    project: Project,
    sha256: str,
    filename: str,
    size: int,
    stored_path: str,
    user,
    options: dict,
) -> Report:
    """A report waiting for its import task. IntegrityError when the same bytes are already in."""
    with transaction.atomic():
        report = Report.objects.create(
            project=project,
            sha256=sha256,
            filename=filename[:500],
            size=size,
            stored_path=stored_path,
            uploaded_by=user,
            options=options,
            state=Report.State.QUEUED,
        )
        Event.objects.create(
            project=project,
            report=report,
            actor=user,
            action="report_queued",
            after=Report.State.QUEUED,
            note=filename[:200],
            created_at=timezone.now(),
        )
    return report


def report_set_progress(*, report_id: int, progress: int, state: str | None = None) -> None:
    """Progress is written outside the import transaction so pages can see it move.

    On PostgreSQL an import merges inside its transaction while it parses; called from
    there, the write goes through a short connection of its own, committed at once. (On
    SQLite imports parse before they open their transaction, and a second writer would
    wait for it.)
    """
    fields: dict = {"progress": max(0, min(100, progress))}
    if state:
        fields["state"] = state
    if not (connection.in_atomic_block and connection.vendor == "postgresql"):
        Report.objects.filter(pk=report_id).update(**fields)
        return
    side = connections.create_connection(connection.alias)
    try:
        side.set_autocommit(True)
        with side.cursor() as cursor:
            cursor.execute(
                "UPDATE findings_report SET progress = %s, state = COALESCE(%s, state) "
                "WHERE id = %s",
                [fields["progress"], state or None, report_id],
            )
    finally:
        side.close()


def report_fail(*, report_id: int, error: str) -> None:
    """Mark a report failed with the error the user will read; nothing else changes."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        before = report.state
        report.state = Report.State.FAILED
        report.error = error[:5000]
        report.finished_at = timezone.now()
        report.save(update_fields=["state", "error", "finished_at"])
        Event.objects.create(
            project_id=report.project_id,
            report=report,
            action="report_failed",
            before=before,
            after=Report.State.FAILED,
            note=error[:2000],
            created_at=timezone.now(),
        )


def report_finish(*, report: Report, counts: ImportCounts, seconds: float, note: str = "") -> None:
    """Record a finished import's counts; they never change afterwards."""
    report.state = Report.State.DONE
    report.progress = 100
    report.total = counts.total
    report.new = counts.new
    report.still_open = counts.still_open
    report.fixed = counts.fixed
    report.regressed = counts.regressed
    report.suppressed = counts.suppressed
    report.seconds = round(seconds, 3)
    report.note = note
    report.error = ""
    report.finished_at = timezone.now()
    report.save()
    Event.objects.create(
        project_id=report.project_id,
        report=report,
        actor=report.uploaded_by,
        action="report_done",
        after=Report.State.DONE,
        note=json.dumps(
            {
                k: getattr(counts, k)
                for k in ("new", "still_open", "fixed", "regressed", "suppressed")
            }
        ),
        created_at=timezone.now(),
    )


# --- Imports that stop: claim, heartbeat, sweep ------------------------------------------


def report_claim(*, report_id: int) -> str:
    """Take a queued report for import: :data:`CLAIMED`, or the state that stops the caller.

    Only a queued report is taken (atomically), so a task delivered twice imports once. A
    report found running was taken by an earlier delivery: if that one went silent (its worker
    died) the report is failed now (``"failed"``); else it is still being imported
    (``"running"``), and the sweeper ends it should it stop. ``"missing"`` when deleted.
    """
    taken = Report.objects.filter(pk=report_id, state=Report.State.QUEUED).update(
        state=Report.State.RUNNING, progress=1, heartbeat_at=timezone.now()
    )
    if taken:
        return CLAIMED
    state = Report.objects.filter(pk=report_id).values_list("state", flat=True).first()
    if state is None:
        return "missing"
    if state == Report.State.RUNNING and report_fail_stale(report_ids=[report_id]):
        return Report.State.FAILED
    return state


def report_beat(*, report_id: int) -> None:
    """The running import of ``report_id`` is alive (written at once, on its own)."""
    Report.objects.filter(pk=report_id, state=Report.State.RUNNING).update(
        heartbeat_at=timezone.now()
    )


def report_mark_sent(*, report_ids: list[int]) -> None:
    """The import tasks of these queued reports were just sent to the broker."""
    Report.objects.filter(pk__in=report_ids, state=Report.State.QUEUED).update(
        heartbeat_at=timezone.now()
    )


def _silent_since(cutoff) -> Q:
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)


def report_fail_stale(
    *,
    project: Project | None = None,
    sha256: str = "",
    report_ids: list[int] | None = None,
    projects: QuerySet[Project] | None = None,
) -> list[int]:
    """Fail every running report (of ``project`` with these bytes, these ids, or any of
    ``projects``) whose import has written no heartbeat for ``AUDITDASH_IMPORT_STALE_AFTER``
    seconds: its worker died (killed, out of memory, its machine gone) and its transaction was
    rolled back. The ids.

    The state is changed by one conditional UPDATE each, so an import that finishes at the
    same moment keeps its "done".
    """
    silence = settings.AUDITDASH_IMPORT_STALE_AFTER
    stale = _silent_since(timezone.now() - timedelta(seconds=silence))
    candidates = Report.objects.filter(stale, state=Report.State.RUNNING)
    if project is not None:
        candidates = candidates.filter(project=project, sha256=sha256)
    if report_ids is not None:
        candidates = candidates.filter(pk__in=report_ids)
    if projects is not None:
        candidates = candidates.filter(project__in=projects)
    failed = []
    for report_id, project_id, filename in candidates.values_list("pk", "project_id", "filename"):
        error = (
            f"{filename}: the worker stopped during the import (no sign of life for "
            f"{silence:g} s); nothing was written. Import the file again to retry."
        )
        with transaction.atomic():
            now = timezone.now()
            ended = Report.objects.filter(stale, pk=report_id, state=Report.State.RUNNING).update(
                state=Report.State.FAILED, error=error, finished_at=now
            )
            if not ended:
                continue
            Event.objects.create(
                project_id=project_id,
                report_id=report_id,
                action="report_failed",
                before=Report.State.RUNNING,
                after=Report.State.FAILED,
                note=error[:2000],
                created_at=now,
            )
        log.warning("report %s: %s", report_id, error)
        failed.append(report_id)
    return failed


def report_fail_if_stale(*, report: Report) -> Report:
    """``report`` as a reader should see it: a running report whose import went silent is
    failed first, as the sweeper would fail it (the imports and report pages and the API call
    this, so a site without celery beat never shows an import running for good). No query
    unless the report is running."""
    if report.state == Report.State.RUNNING and report_fail_stale(report_ids=[report.pk]):
        report.refresh_from_db()
    return report


def report_lost_queued() -> list[int]:
    """Queued reports no task may ever run, oldest first: never sent (the web process died, or
    the broker was down, between storing the upload and sending its task) for
    ``AUDITDASH_IMPORT_STALE_AFTER`` seconds, or sent ``AUDITDASH_IMPORT_REQUEUE_AFTER``
    seconds ago and still not started. The caller sends their tasks again (a task runs a
    report once, however often it is sent) and marks them sent."""
    now = timezone.now()
    never_sent = Q(
        heartbeat_at__isnull=True,
        created_at__lt=now - timedelta(seconds=settings.AUDITDASH_IMPORT_STALE_AFTER),
    )
    sent_long_ago = Q(
        heartbeat_at__lt=now - timedelta(seconds=settings.AUDITDASH_IMPORT_REQUEUE_AFTER)
    )
    return list(
        Report.objects.filter(never_sent | sent_long_ago, state=Report.State.QUEUED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


class ReportHeartbeat:
    """While open, a thread writes the report's heartbeat every ``AUDITDASH_IMPORT_HEARTBEAT``
    seconds, on a database connection of its own (so neither the import's transaction nor its
    row locks hold it back). A write that fails (the database restarting) is tried again at the
    next beat; the beat stops with the block, or with the process."""

    def __init__(self, report_id: int) -> None:
        self.report_id = report_id
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{report_id}", daemon=True
        )

    def __enter__(self) -> ReportHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.AUDITDASH_IMPORT_HEARTBEAT):
                try:
                    report_beat(report_id=self.report_id)
                except DatabaseError as error:
                    log.warning("heartbeat of report %s not written: %s", self.report_id, error)
                    _close_quietly()
        finally:
            _close_quietly()


def _close_quietly() -> None:
    """Drop this thread's connection (a broken one is reopened at the next query)."""
    try:
        connection.close()
    except DatabaseError:
        pass
