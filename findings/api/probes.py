"""Liveness and readiness for deployments; no credentials, and nothing revealed but yes or no.

``/health`` answers as long as the process serves requests. ``/ready`` checks what an import
needs: the database answers and has every migration applied, the data folder is writable,
and the Celery broker (when one is configured) accepts a connection. It answers 503 naming
the check that failed, never a host name, URL or password.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest
from ninja import Router, Status

from findings.api import schemas

router = Router(tags=["deployment"])

BROKER_TIMEOUT = 2.0


@router.get("/health", auth=None, response=schemas.Liveness, summary="Liveness")
def health(request: HttpRequest):
    return {"status": "ok"}


@router.get(
    "/ready",
    auth=None,
    response={200: schemas.Readiness, 503: schemas.Readiness},
    summary="Readiness",
)
def ready(request: HttpRequest):
    checks = {
        "database": _database(),
        "data_dir": _data_dir(),
        "broker": _broker(),
    }
    ok = all(result in ("ok", "not used") for result in checks.values())
    return Status(200 if ok else 503, {"status": "ready" if ok else "not_ready", "checks": checks})


def _database() -> str:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return f"unavailable ({type(error).__name__})"
    return f"{len(pending)} migrations not applied" if pending else "ok"


def _data_dir() -> str:
    try:
        with tempfile.TemporaryFile(dir=settings.DATA_DIR):
            pass
    except OSError as error:
        return f"not writable ({error.strerror or type(error).__name__})"
    return "ok"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not used"
    from auditdash.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return f"unavailable ({type(error).__name__})"
    return "ok"
