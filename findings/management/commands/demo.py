"""python manage.py demo: a small repository, scanned by the real bandit and ruff at two commits.

Gives a fresh install something true to look at: findings that were fixed by an edit, one
that is new in the second commit, and lines shifted by an insertion. Running it again keeps
the data and only prints the sign-in details.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from findings import services
from findings.models import Project, Role
from findings.services.ingest import IngestError, Options, ingest_file

FIRST = {
    "app/server.py": """import os
import subprocess
import sys


DB_PASSWORD = "hunter2-admin"


def run(command):
    return subprocess.call(command, shell=True)


def calculate(expression):
    return eval(expression)


def load_settings(path):
    try:
        with open(path) as handle:
            return handle.read()
    except:
        return None
""",
    "app/storage.py": """import hashlib
import pickle


def checksum(data):
    return hashlib.md5(data).hexdigest()


def restore(blob):
    return pickle.loads(blob)
""",
}

SECOND = {
    "app/server.py": '''"""The demo service: run commands and read settings."""

import logging
import subprocess

import yaml

log = logging.getLogger(__name__)

DB_PASSWORD = "hunter2-admin"


def run(command):
    return subprocess.call(command, shell=True)


def calculate(expression):
    return int(expression)


def load_settings(path):
    try:
        with open(path) as handle:
            return yaml.load(handle)
    except OSError:
        return None
''',
}


class Command(BaseCommand):
    help = "Create demo data: a git repository scanned by bandit and ruff at two commits."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", default="DEMO")
        parser.add_argument("--user", default="demo")

    def handle(self, *args, **opts) -> None:
        key = opts["project"]
        if not Project.objects.filter(key=key, reports__isnull=False).exists():
            self._build(key)
        password = secrets.token_urlsafe(12)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=opts["user"])
        user.set_password(password)
        user.save()
        services.membership_set(project=Project.objects.get(key=key), user=user, role=Role.MANAGER)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready. Sign in at http://127.0.0.1:8000/ as {user.username!r} with the "
                f"password {password!r} (new each run)."
            )
        )

    def _build(self, key: str) -> None:
        repo = Path(settings.DATA_DIR) / "demo-repo"
        if repo.exists():
            subprocess.run(["rm", "-rf", str(repo)], check=True)
        repo.mkdir(parents=True)
        project, _ = services.project_get_or_create(key=key, name="Demo service")
        project.repo_path = str(repo)
        project.save(update_fields=["repo_path"])
        git = _Git(repo)
        git("init", "-q", "-b", "main")
        for number, files in enumerate((FIRST, SECOND), start=1):
            for name, text in files.items():
                (repo / name).parent.mkdir(parents=True, exist_ok=True)
                (repo / name).write_text(text)
            git("add", "-A")
            git("commit", "-q", "-m", f"demo commit {number}", clock=number)
            sha = git("rev-parse", "HEAD")
            for tool, argv in (
                ("bandit", ["bandit", "-q", "-r", ".", "-f", "json"]),
                (
                    "ruff",
                    [
                        "ruff",
                        "check",
                        "--no-cache",
                        "--select",
                        "E,F,S,B",
                        "--output-format",
                        "json",
                        ".",
                    ],
                ),
            ):
                output = _run_tool(argv, repo)
                with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
                    handle.write(output)
                try:
                    result = ingest_file(
                        Path(handle.name),
                        project_key=key,
                        options=Options(commit=sha, branch="main", root=str(repo)),
                        filename=f"{tool}-{sha[:7]}.json",
                    )
                except IngestError as error:
                    raise CommandError(str(error)) from error
                finally:
                    os.unlink(handle.name)
                self.stdout.write(
                    f"{tool} at {sha[:7]}: {result.new} new, {result.fixed} fixed, "
                    f"{result.still_open} still open"
                )


class _Git:
    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def __call__(self, *args: str, clock: int = 0) -> str:
        stamp = f"@{1_760_000_000 + clock * 86400} +0000"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Demo Dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Demo Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        result = subprocess.run(
            ["git", *args], cwd=self.repo, env=env, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()


def _run_tool(argv: list[str], cwd: Path) -> str:
    executable = Path(sys.executable).parent / argv[0]
    result = subprocess.run(
        [str(executable), *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    if result.returncode not in (0, 1):
        raise CommandError(f"{argv[0]} failed: {result.stderr[-1000:]}")
    return result.stdout
