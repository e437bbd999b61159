"""gunicorn's settings for auditdash (read by ``gunicorn auditdash.wsgi`` from this folder;
``make serve`` runs it). Each value can be changed by the environment, see
docs/performance.md, "Serving pages", for why these defaults.

GUNICORN_BIND      address to listen on; default 127.0.0.1:8000 (a proxy sits in front)
WEB_CONCURRENCY    worker processes; default the number of cores
GUNICORN_THREADS   threads per worker; default 4
GUNICORN_TIMEOUT   seconds before a silent worker is restarted; default 120
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One process per core runs Python (one holds the GIL at a time); its threads overlap the
# waits on PostgreSQL, Redis and the client, which sync workers spend idle.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# Browsers and the load balancer reuse connections between pages.
keepalive = 5
# Load the application once, in the master: workers start fast and share its memory.
preload_app = True
