"""Celery tasks: thin, idempotent, loading by id and calling the pipeline."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.db import OperationalError

from findings import services
from findings.models import Report
from scanners.pipeline import IngestError, Options, ingest_file

log = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True)
def ingest_report(report_id: int) -> str:
    """Import a queued report. A finished report is left alone, so a redelivery is harmless."""
    report = Report.objects.select_related("project", "uploaded_by").get(pk=report_id)
    if report.is_finished:
        return report.state
    services.report_set_progress(report_id=report_id, progress=1, state=Report.State.RUNNING)
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
    except OperationalError:
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
