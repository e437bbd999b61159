"""The Celery app. With no ``CELERY_BROKER_URL`` tasks run in-process (see settings).

The tasks are in ``findings.tasks``, found by autodiscovery over the installed apps.
"""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditdash.settings")

app = Celery("auditdash")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _sweep_after_start(sender=None, **kwargs) -> None:
    """A worker that starts (often: restarted after one died) sweeps the imports that stopped
    once a heartbeat could have gone silent, so a report left running by a dead worker ends
    even where no beat runs."""
    from django.conf import settings

    sender.app.send_task(
        "findings.tasks.sweep_imports",
        countdown=settings.AUDITDASH_IMPORT_STALE_AFTER + settings.AUDITDASH_IMPORT_HEARTBEAT,
    )
