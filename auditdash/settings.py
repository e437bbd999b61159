"""auditdash settings: one file, every deployment knob an environment variable.

DATABASE_URL       default: a SQLite file under var/ (WAL mode)
CELERY_BROKER_URL  default: unset, tasks run in-process (eager)
SECRET_KEY         required when DEBUG is off
DEBUG              "1"/"true" to enable; default off
ALLOWED_HOSTS      comma-separated; default "localhost,127.0.0.1" (plus testserver when DEBUG)
AUDITDASH_DATA_DIR where uploads, caches and clones live; default var/
AUDITDASH_MAX_REPORT_BYTES  largest report accepted; default 512 MB

A variable read as a whole number that holds anything else stops start-up with
ImproperlyConfigured, naming the variable and the value.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default: float, kind: type[int] | type[float], what: str) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, not {value!r}") from None


def _env_int(name: str, default: int) -> int:
    """The integer in environment variable ``name``, or ``default`` when it is unset.

    Raises ImproperlyConfigured naming the variable and its value when that is not an integer,
    so the operator reads which setting is wrong, not a bare ValueError from ``int()``.
    """
    return int(_env_number(name, default, int, "an integer"))


def _env_float(name: str, default: float) -> float:
    """Like :func:`_env_int`, for a number of seconds that may have a fraction."""
    return float(_env_number(name, default, float, "a number"))


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _env_bool("DEBUG")
DATA_DIR = Path(os.environ.get("AUDITDASH_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in the data folder (mode 0600).

    A fixed fallback key in the repository would be a shared secret; a generated one is not.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "findings",
    "scanners",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "auditdash.sessions.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "auditdash.urls"
WSGI_APPLICATION = "auditdash.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'auditdash.sqlite3'}"),
        conn_max_age=_env_int("DB_CONN_MAX_AGE", 60),
        # A kept connection is checked (once per request, only if it errored or was idle)
        # before use, so a restarted database costs one reconnect instead of a failed page.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the dashboard read while an import writes; IMMEDIATE takes the write lock
        # at BEGIN, so two writers queue instead of failing half way with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory: the live test server's threads and a real Celery worker must see the
    # test database too. One per process, so two test runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Static files are few and small: serve them from the source folders, no collectstatic step.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "findings:overview"
LOGOUT_REDIRECT_URL = "login"

UPLOAD_DIR = DATA_DIR / "uploads"
MAX_REPORT_BYTES = _env_int("AUDITDASH_MAX_REPORT_BYTES", 512 * 1024 * 1024)
# Uploads larger than this go to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = _env_int("AUDITDASH_TASK_TIME_LIMIT", 3600)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("AUDITDASH_CELERY_QUEUE", "celery")
# A task whose worker died unacknowledged is delivered again after this long. Longer than the
# time limit, so a task still running is never delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
# Imports that stop (see README, "When an import stops"): a running import writes a heartbeat
# on its report every AUDITDASH_IMPORT_HEARTBEAT seconds; the sweeper (beat, every
# AUDITDASH_IMPORT_SWEEP_INTERVAL seconds, and at every worker start, upload and CLI import of
# the same bytes) marks a running report silent for AUDITDASH_IMPORT_STALE_AFTER seconds
# failed, sends a queued report whose task was never sent after that long again, and one sent
# but not started after AUDITDASH_IMPORT_REQUEUE_AFTER seconds (the broker may have lost it).
AUDITDASH_IMPORT_HEARTBEAT = _env_float("AUDITDASH_IMPORT_HEARTBEAT", 10)
AUDITDASH_IMPORT_STALE_AFTER = _env_float("AUDITDASH_IMPORT_STALE_AFTER", 60)
AUDITDASH_IMPORT_SWEEP_INTERVAL = _env_float("AUDITDASH_IMPORT_SWEEP_INTERVAL", 30)
AUDITDASH_IMPORT_REQUEUE_AFTER = _env_float(
    "AUDITDASH_IMPORT_REQUEUE_AFTER", CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
)
# `celery -A auditdash beat` scans the head of each linked project's default branch and
# sweeps imports that stopped.
CELERY_BEAT_SCHEDULE = {
    "sweep-imports": {
        "task": "findings.tasks.sweep_imports",
        "schedule": AUDITDASH_IMPORT_SWEEP_INTERVAL,
    },
    "scan-branch-heads": {
        "task": "findings.tasks.scan_branch_heads",
        "schedule": _env_float("AUDITDASH_SCAN_INTERVAL", 3600),
    },
    "fetch-repositories": {
        "task": "findings.tasks.fetch_repositories",
        "schedule": _env_float("AUDITDASH_FETCH_INTERVAL", 900),
    },
}

# Days a finding of each severity may stay open before it breaches its SLA.
AUDITDASH_SLA_DAYS = os.environ.get("AUDITDASH_SLA_DAYS", "critical=7,high=30,medium=90,low=180")

# Git: local repositories may be linked in place only under these folders (colon-separated);
# every git call is killed after the timeout (seconds).
AUDITDASH_REPO_ROOTS = os.environ.get("AUDITDASH_REPO_ROOTS", str(DATA_DIR))
AUDITDASH_GIT_TIMEOUT = _env_float("AUDITDASH_GIT_TIMEOUT", 120)

CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Security: sessions, login rate limit, headers, CSP (see README, "Accounts and roles") ---
# SESSION_COOKIE_AGE        idle timeout in seconds; default 8 hours
# SESSION_RENEW_AFTER       a session's expiry moves on at most this often (s); default 300
# SECURE_COOKIES            "0" to allow cookies over plain HTTP when DEBUG is off; default on
# SECURE_SSL_REDIRECT       "1" when Django itself must redirect HTTP to HTTPS; default off
# SECURE_PROXY_SSL_HEADER   "1" when a TLS proxy sets X-Forwarded-Proto: https
# SECURE_HSTS_SECONDS       HSTS max-age; default 0 (off: enable once HTTPS is certain)
# SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD   "1" to add them to the HSTS header
# AXES_FAILURE_LIMIT        failed logins (per username and address) before a lockout; default 5
# AXES_COOLOFF_MINUTES      how long a lockout lasts; default 15

# A session ends at browser close, or after SESSION_COOKIE_AGE without a request, whichever
# comes first. A request renews it when its last renewal is SESSION_RENEW_AFTER old
# (auditdash/sessions.py), not on every request: that was a database write per page view.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = _env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_RENEW_AFTER = _env_int("SESSION_RENEW_AFTER", 300)
SESSION_SAVE_EVERY_REQUEST = False
# With a shared cache (CACHE_URL, Redis), sessions are read from it and written through to the
# database; without one, from the database (a per-process cache would keep a signed-out
# session alive in the other web processes).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT")
if _env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD")
if not DEBUG:
    SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = _env_bool("SECURE_COOKIES", True)

# Pages load only this site's own script and stylesheet: no inline script or style, no
# eval (htmx runs with allowEval off, see base.html), nothing framed, forms post home only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Failed logins are counted per (username, address) in the database, so every web process
# shares them; a lockout lifts after the cool-off and a successful login resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# --- end of security settings ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
