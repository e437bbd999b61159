"""The Celery app. With no ``CELERY_BROKER_URL`` tasks run in-process (see settings).

The tasks are in ``findings.tasks``, found by autodiscovery over the installed apps.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditdash.settings")

app = Celery("auditdash")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
