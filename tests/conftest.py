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
CORPUS = ROOT.parent / "shared" / "corpus" / "scanners"
SEEDS = ROOT.parent / "shared" / "seeds"
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
    return django_user_model.objects.create_user("olivia", password="owner-pass-123")


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
    log = open(ROOT / "var" / "test-celery-worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "auditdash",
            "worker",
            "--pool=solo",
            "-Q",
            "celery",
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
        if "ready." in (ROOT / "var" / "test-celery-worker.log").read_text():
            break
        if worker.poll() is not None:
            raise AssertionError("the Celery worker exited: see var/test-celery-worker.log")
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
