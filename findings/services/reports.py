"""Reports: queued, progressing, failed or finished; counts never change once finished."""

from __future__ import annotations

import json

from django.db import connection, connections, transaction
from django.utils import timezone

from findings.models import Event, Project, Report
from findings.services.counts import ImportCounts


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
