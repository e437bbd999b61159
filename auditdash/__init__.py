"""The auditdash Django project: settings, URLs and the Celery app (``auditdash.celery``).

The Celery app is not imported here: a command such as ``manage.py ingest`` needs none of
it (a fifth of a second of start-up). ``findings.tasks`` imports it, so whatever queues a
task has the configured app, and ``celery -A auditdash`` finds ``auditdash.celery.app``.
"""
