"""Queueing an uploaded report for import by the worker (the web page and the API).

Not re-exported by the package: it queues :func:`findings.tasks.ingest_report`, and the
tasks import the package, so the imports go one way (uploads -> tasks -> ingest).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from findings import services
from findings.models import Report
from findings.services.ingest.results import Options
from findings.services.ingest.storage import upload_folder
from findings.tasks import ingest_report
from scanners.files import IngestError, check_size


def queue_upload(*, project_key: str, upload, options: Options, user) -> Report:
    """Store an uploaded report under a generated name and queue its import (after commit).

    Refuses empty and oversized files and bytes already imported into the project, with the
    message the uploader should read.
    """
    name = Path(upload.name or "report").name
    check_size(upload.size or 0, name, limit=settings.MAX_REPORT_BYTES)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=upload_folder(), delete=False) as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
        stored = Path(handle.name)
    sha = digest.hexdigest()
    try:
        with transaction.atomic():
            project, _ = services.project_get_or_create(key=project_key)
            # An earlier import of these bytes whose worker died must not block them.
            services.report_fail_stale(project=project, sha256=sha)
            existing = (
                Report.objects.filter(project=project, sha256=sha)
                .exclude(state=Report.State.FAILED)
                .first()
            )
            if existing is not None:
                raise IngestError(_already(name, existing))
            report = services.report_create_queued(
                project=project,
                sha256=sha,
                filename=name,
                size=upload.size,
                stored_path=str(stored),
                user=user,
                options=options.as_dict(),
            )
            transaction.on_commit(lambda: _send(report.pk))
    except (IngestError, IntegrityError) as error:
        stored.unlink(missing_ok=True)
        if isinstance(error, IntegrityError):
            raise IngestError(f"{name}: the same bytes are being imported already") from None
        raise
    return report


def _send(report_id: int) -> None:
    """Send the import task, then note it sent. Should this process die (or the broker be
    down) before, the report stays queued, never sent: the sweeper sends it."""
    ingest_report.delay(report_id)
    services.report_mark_sent(report_ids=[report_id])


def _already(name: str, existing: Report) -> str:
    if existing.state == Report.State.DONE:
        return (
            f"{name}: these exact bytes are already imported as report #{existing.pk}; "
            "nothing changed"
        )
    return (
        f"{name}: these exact bytes are being imported already as report #{existing.pk} "
        f"({existing.state}, {existing.progress}%); nothing changed"
    )
