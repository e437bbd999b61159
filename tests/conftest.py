"""Shared fixtures: personas, real tools, real git repositories, a real Celery worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Public scanner reports (with their licence and manifest) and the seed remediation documents,
# copied into the repository: the tests read nothing outside it.
SAMPLES = ROOT / "tests" / "samples"
CORPUS = SAMPLES / "corpus"
SEEDS = SAMPLES / "documents"
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _tasks_in_process(request):
    """Tasks run in-process unless a test is marked to use the real worker."""
    from auditdash.celery import app

    app.conf.task_always_eager = "celery" not in request.keywords
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def owner(django_user_model):
    """A site admin: creates projects by uploading to new keys and sees every project."""
    return django_user_model.objects.create_user(
        "olivia", password="owner-pass-123", is_superuser=True
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def run_tool(*args: str, cwd: Path) -> str:
    """Run a scanner from this virtualenv; scanners exit non-zero when they find something."""
    result = subprocess.run(
        [str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if result.returncode not in (0, 1):
        raise AssertionError(f"{args[0]} failed: {result.stderr[-2000:]}")
    return result.stdout


class GitRepo:
    """A real repository in a temporary folder, committed to with the git command line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "Dev")
        self.clock = 1_700_000_000

    def git(self, *args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_DATE": f"@{getattr(self, 'clock', 0)} +0000",
            "GIT_COMMITTER_DATE": f"@{getattr(self, 'clock', 0)} +0000",
        }
        return subprocess.run(
            ["git", *args], cwd=self.path, check=True, capture_output=True, text=True, env=env
        ).stdout.strip()

    def write(self, name: str, text: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(self, message: str) -> str:
        self.clock += 3600
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def checkout(self, sha: str) -> None:
        self.git("checkout", "-q", sha)


@pytest.fixture
def git_repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker) -> Iterator[subprocess.Popen]:
    """A real Celery worker over the broker in CELERY_BROKER_URL, on the test database."""

    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        pytest.skip("CELERY_BROKER_URL is not set: no broker for a real worker")
    env = subprocess_env()
    # A queue of this test process's own, so parallel test processes never take each other's
    # tasks (each worker is on its own test database).
    from auditdash.celery import app

    queue = f"auditdash-test-{os.getpid()}"
    app.conf.task_default_queue = queue
    env["AUDITDASH_CELERY_QUEUE"] = queue  # what the worker sends itself (its start's sweep)
    log_path = ROOT / "var" / f"test-celery-worker-{os.getpid()}.log"
    log = open(log_path, "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "auditdash",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--purge",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "ready." in log_path.read_text():
            break
        if worker.poll() is not None:
            raise AssertionError(f"the Celery worker exited: see {log_path}")
        time.sleep(0.2)
    yield worker
    worker.terminate()
    worker.wait(20)
    log.close()


def subprocess_env() -> dict[str, str]:
    """The environment for a child process (manage.py, a worker) that must use the test DB."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    name = connection.settings_dict["NAME"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{name}"
    else:
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"
        )
    return env


def tool_available(name: str) -> bool:
    return (BIN / name).exists() or shutil.which(name) is not None


# --- Personas with per-project roles (findings.access) ---------------------------------------


@pytest.fixture
def acme(db):
    """A project with one member of each role; ``outsider`` belongs to another project."""
    from findings.services import project_get_or_create

    project, _ = project_get_or_create(key="ACME", name="Acme web shop")
    return project


@pytest.fixture
def second_reviewer(django_user_model, acme):
    """Another reviewer of ACME, for the rules that need two people."""
    from findings.models import Role
    from findings.services import membership_set

    user = django_user_model.objects.create_user("rafa", email="rafa@example.com")
    membership_set(project=acme, user=user, role=Role.REVIEWER)
    return user


def _member(django_user_model, username: str, project, role_name: str | None):
    from findings.models import Role
    from findings.services import membership_set

    # No password: hashing one costs most of a second, and tests sign personas in directly.
    user = django_user_model.objects.create_user(username)
    if project is not None and role_name:
        membership_set(project=project, user=user, role=Role.from_name(role_name))
    return user


@pytest.fixture
def viewer(django_user_model, acme):
    return _member(django_user_model, "vic", acme, "viewer")


@pytest.fixture
def developer(django_user_model, acme):
    return _member(django_user_model, "dana", acme, "developer")


@pytest.fixture
def reviewer(django_user_model, acme):
    return _member(django_user_model, "remy", acme, "reviewer")


@pytest.fixture
def manager(django_user_model, acme):
    return _member(django_user_model, "mona", acme, "manager")


@pytest.fixture
def outsider(django_user_model, db):
    """A member of another project (OTHER), never of ACME."""
    from findings.services import project_get_or_create

    other, _ = project_get_or_create(key="OTHER")
    return _member(django_user_model, "otto", other, "manager")


@pytest.fixture
def client_for():
    """A test client signed in as the given user."""
    from django.test import Client

    def signed_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture(autouse=True, scope="session")
def _flush_past_append_only_triggers():
    """Let the suite wipe SQLite between live-server tests despite the append-only triggers.

    PostgreSQL's flush is a TRUNCATE, which row triggers do not see; SQLite's is a DELETE per
    table, which they refuse (as they should in production). Only the test flush drops them
    for its own transaction and puts them back.
    """
    import importlib

    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    DatabaseOperations = type(connection.ops)  # noqa: N806 - the backend's class
    migrations = [
        importlib.import_module(f"findings.migrations.{name}")
        for name in ("0011_append_only", "0020_git_evidence")
    ]
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            for migration in migrations:
                for statement in migration.sqlite_remove():
                    cursor.execute(statement)
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                for migration in migrations:
                    for statement in migration.sqlite_install():
                        cursor.execute(statement)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


def sarif_log(rule: str, message: str, places: list[tuple[str, str]], *, when: str = "") -> bytes:
    """A CodeQL-like SARIF log of ``rule`` flagged once in each (path, flagged line), at line
    3; ``when`` is the scan's end time (ISO 8601), when the test needs one."""
    import json

    results = [
        {
            "ruleId": rule,
            "message": {"text": message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": path},
                        "region": {"startLine": 3, "snippet": {"text": line}},
                    }
                }
            ],
        }
        for path, line in places
    ]
    run: dict = {"tool": {"driver": {"name": "CodeQL", "rules": [{"id": rule}]}}}
    if when:
        run["invocations"] = [{"executionSuccessful": True, "endTimeUtc": when}]
    return json.dumps({"version": "2.1.0", "runs": [{**run, "results": results}]}).encode()


def make_finding(project, *, status: str = "open", title: str = "Use of eval", number=None):
    """A finding written directly (no scan), with its status summary kept in step."""
    from django.utils import timezone

    from findings.models import Finding, Project
    from findings.services import status_counts_refresh

    if number is None:
        number = project.next_number
        Project.objects.filter(pk=project.pk).update(next_number=number + 1)
        project.next_number = number + 1
    now = timezone.now()
    finding = Finding.objects.create(
        project=project,
        number=number,
        fingerprint=f"fp-{project.key}-{number}",
        tool="bandit",
        rule_id="B307",
        title=title,
        severity=2,
        path="app.py",
        start_line=9,
        status=status,
        status_changed_at=now,
        first_seen_at=now,
        last_seen_at=now,
    )
    status_counts_refresh(project_id=project.pk)
    return finding


def make_document(
    project,
    *,
    uploader=None,
    text: str = "# Handoff\n",
    commit: str = "",
    day=None,
    commits: tuple[str, ...] = (),
    identity: str = "handoff",
):
    """A document report with its Document row, as an import would leave it: ``commit`` as
    given with --commit, ``day`` the document's date, ``commits`` those it names."""
    import hashlib

    from findings.models import Document, Report

    report = Report.objects.create(
        project=project,
        sha256=hashlib.sha256(f"{project.key}{text}{commit}{day}".encode()).hexdigest(),
        kind=Report.Kind.DOCUMENT,
        format="document",
        filename="handoff.md",
        state=Report.State.DONE,
        uploaded_by=uploader,
        commit=commit,
    )
    Document.objects.create(
        report=report,
        project=project,
        identity=identity,
        text=text,
        date=day,
        commits=list(commits),
    )
    return report
