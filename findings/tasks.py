"""Celery tasks: thin, idempotent, loading by id and calling a service.

Found by ``celery -A auditdash worker`` through the app's autodiscovery (``findings.tasks``);
the beat schedule in settings names them ``findings.tasks.<name>``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from auditdash.celery import app
from findings import services
from findings.models import Project, Report, Repository
from findings.services.ingest import IngestError, Options, ScanError, ingest_file, scan_commit
from scanners.git import GitError, ResolveOutcome, open_repo, resolve
from scanners.runners import TOOLS

log = logging.getLogger(__name__)

_DB_GONE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
"""A lost database connection (the server restarting, the network): worth another try."""

DB_RETRY_DELAYS = (1, 2, 4, 8)
"""Seconds between the attempts of an import whose database connection was lost."""


@app.task(
    bind=True,
    autoretry_for=_DB_GONE,
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
    reject_on_worker_lost=True,
)
def ingest_report(self, report_id: int) -> str:
    """Import a queued report; the state it ends in.

    The report is claimed first (queued -> running, atomically), so a task sent or delivered
    twice imports it once. While it runs, its heartbeat is written; should this worker die,
    the sweeper (``sweep_imports``) fails the report once the heartbeat is silent. Should only
    its pool process die, the task comes back at once (``reject_on_worker_lost``), finds the
    report running and looks again once a dead import's heartbeat would be silent: the report
    ends failed even where no beat runs. A lost database connection (the server restarting)
    is retried here, from the start: the import's transaction was rolled back with the
    connection, so nothing was written.
    """
    claim = services.report_claim(report_id=report_id)
    if claim == Report.State.RUNNING:
        raise self.retry(
            countdown=settings.AUDITDASH_IMPORT_STALE_AFTER,
            max_retries=int(settings.CELERY_TASK_TIME_LIMIT / settings.AUDITDASH_IMPORT_STALE_AFTER)
            + 2,
        )
    if claim != services.CLAIMED:
        log.info("report %s not imported by this task: it is %s", report_id, claim)
        return claim
    with services.ReportHeartbeat(report_id):
        for attempt in range(len(DB_RETRY_DELAYS) + 1):
            try:
                return _import_claimed(report_id)
            except _DB_GONE as error:
                lost = error
                log.warning("import of report %s lost the database: %s", report_id, error)
                _drop_connection()
                if attempt < len(DB_RETRY_DELAYS):
                    time.sleep(DB_RETRY_DELAYS[attempt])
        try:
            filename = Report.objects.values_list("filename", flat=True).get(pk=report_id)
            services.report_fail(
                report_id=report_id,
                error=f"{filename}: the database could not be reached during the import "
                f"({type(lost).__name__}: {str(lost).strip()[:200]}); nothing was written. "
                "Import the file again to retry.",
            )
        except _DB_GONE:
            log.warning("report %s left to the sweeper: the database is still away", report_id)
        return Report.State.FAILED


def _import_claimed(report_id: int) -> str:
    """One attempt at the import of a claimed report; a lost database raises."""
    report = Report.objects.select_related("project", "uploaded_by").get(pk=report_id)
    upload = Path(report.stored_path)

    def progress(fraction: float) -> None:
        services.report_set_progress(report_id=report_id, progress=int(fraction * 100))

    try:
        ingest_file(
            upload,
            project_key=report.project.key,
            options=Options(**report.options),
            filename=report.filename,
            user=report.uploaded_by,
            report=report,
            on_progress=progress,
        )
    except IngestError as error:
        services.report_fail(report_id=report_id, error=str(error))
        return Report.State.FAILED
    except _DB_GONE:
        raise
    except Exception as error:
        log.exception("import of report %s failed", report_id)
        services.report_fail(
            report_id=report_id,
            error=f"{report.filename}: internal error while importing ({type(error).__name__})",
        )
        return Report.State.FAILED
    if upload.parent.name == "uploads":
        upload.unlink(missing_ok=True)
    return Report.State.DONE


def _drop_connection() -> None:
    """Close this thread's broken connection; the next query opens a new one."""
    try:
        connection.close()
    except DatabaseError:
        pass


@app.task
def sweep_imports() -> dict:
    """End imports that stopped (the beat entry, also sent at every worker start).

    Fails each running report whose heartbeat went silent, and sends again the task of each
    queued report that no task will run. Returns ``{"failed": [ids], "sent": [ids]}``.
    """
    failed = services.report_fail_stale()
    lost = services.report_lost_queued()
    for report_id in lost:
        ingest_report.delay(report_id)
    if lost:
        log.warning("sent the import of queued reports %s again", lost)
        services.report_mark_sent(report_ids=lost)
    return {"failed": failed, "sent": lost}


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True)
def scan_project_commit(project_id: int, commit: str, branch: str) -> dict:
    """Run the scanners over one commit of a linked project and import their reports.

    Returns the scan summary as a dict (``ScanSummary.as_dict``), or ``{"project",
    "commit", "branch", "error"}`` when the scan cannot run (no repository, unknown commit).
    A redelivery scans again; its reports are new only where the tools' output differs.
    """
    project = Project.objects.get(pk=project_id)
    try:
        summary = scan_commit(project=project, commit=commit, branch=branch)
    except ScanError as error:
        log.warning("scan of %s at %s failed: %s", project.key, commit, error)
        return {"project": project.key, "commit": commit, "branch": branch, "error": str(error)}
    for outcome in summary.failures:
        log.warning(
            "scan of %s at %s: %s %s",
            project.key,
            summary.commit[:12],
            outcome.run.describe(),
            outcome.import_error,
        )
    return summary.as_dict()


@app.task
def scan_branch_heads() -> int:
    """Queue a scan of the head of each linked project's default branch, unless a report
    of one of the runner's tools already exists at that commit. Returns how many were queued.

    A repository that cannot be read is logged and skipped; the others still get their scan.
    """
    queued = 0
    for project in Project.objects.exclude(repo_path="").order_by("key"):
        try:
            head = resolve(open_repo(project.repo_path), project.default_branch)
        except GitError as error:
            log.warning("scheduled scan of %s skipped: %s", project.key, error)
            continue
        if head.outcome is not ResolveOutcome.FOUND or not head.sha:
            log.warning("scheduled scan of %s skipped: %s", project.key, head.reason)
            continue
        scanned = (
            Report.objects.filter(project=project, commit=head.sha, tool__in=list(TOOLS))
            .exclude(state=Report.State.FAILED)
            .exists()
        )
        if not scanned:
            scan_project_commit.delay(project.pk, head.sha, project.default_branch)
            queued += 1
    return queued


# --- Linked repositories: fetch on demand and on the beat schedule ---------------------------


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True)
def fetch_repository(project_id: int) -> dict:
    """Fetch one project's linked repository, read its new commits and look for regressions.

    Returns ``{"project", "ok", "message", "head", "commits", "links", "regressed"}``. A git
    failure is recorded on the repository (and returned), not raised, so it is not retried.
    """
    project = Project.objects.get(pk=project_id)
    try:
        summary = services.repository_fetch(project=project)
    except services.RepositoryError as error:
        log.warning("fetch of %s failed: %s", project.key, error)
        return {"project": project.key, "ok": False, "message": str(error)}
    if not summary.ok:
        log.warning("fetch of %s failed: %s", project.key, summary.message)
    return {
        "project": summary.project,
        "ok": summary.ok,
        "message": summary.message,
        "head": summary.head_sha,
        "commits": summary.sync.commits,
        "links": summary.sync.links,
        "regressed": summary.regressed,
    }


@app.task
def fetch_repositories() -> int:
    """Queue a fetch of every linked repository (the beat entry). Returns how many."""
    project_ids = list(
        Repository.objects.order_by("project__key").values_list("project_id", flat=True)
    )
    for project_id in project_ids:
        fetch_repository.delay(project_id)
    return len(project_ids)
