"""python manage.py demo: a small linked repository, scanned by the real bandit and ruff, and a
remediation document committed in it.

Gives a fresh install something true to look at: findings that were fixed by an edit, one
that is new in the second commit, lines shifted by an insertion, and a document whose three
claimed fixes the evidence treats differently: one is scan-confirmed (a later scan no longer
reports it), one code-checked (its commit changed the claimed lines as the document says),
one fails its checks (its commit left the code as it was). Running it again keeps the data
and only prints the sign-in details. The demo user is a site admin, so it can create projects.
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
from findings.services.repositories import RepositoryError

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


# The claimed fixes after the scans: one real (MD5), one that only adds a docstring (pickle).
THIRD = {"app/storage.py": FIRST["app/storage.py"].replace("hashlib.md5(", "hashlib.sha256(")}
FOURTH = {"app/storage.py": '"""Checksums and saved objects."""\n\n' + THIRD["app/storage.py"]}
COMMITS = (
    ("Initial service", FIRST),
    ("Evaluate numbers with int(), catch only OSError, read settings as YAML", SECOND),
    ("Checksums with SHA-256 instead of MD5", THIRD),
    ("Harden restore()", FOURTH),
)
SCANNED = 2  # the scans run at the first two commits only, so one fix stays code-checked

DOCUMENT = """# Demo service: security fixes

**Date**: 2025-10-15
**Status**: 3 fixes applied

## Fix #1: eval() runs user input ✅

**Severity**: HIGH
**File**: `app/server.py:17-18`
**Commit**: {eval_fix}

### Problem
`calculate` passed the expression to `eval`, which runs any code it is given.
```python
# BEFORE
def calculate(expression):
    return eval(expression)
```

### Solution
Parse the number instead; see
[the Python documentation of eval](https://docs.python.org/3/library/functions.html#eval).
```python
# AFTER
def calculate(expression):
    return int(expression)
```

## Fix #2: MD5 checksums ✅

**Severity**: MEDIUM
**File**: `app/storage.py:5-6`
**Commit**: {md5_fix}

### Problem
MD5 is a weak hash.
```python
# BEFORE
def checksum(data):
    return hashlib.md5(data).hexdigest()
```

### Solution
```python
# AFTER
def checksum(data):
    return hashlib.sha256(data).hexdigest()
```

## Fix #3: Unsafe pickle deserialization ✅

**Severity**: HIGH
**File**: `app/storage.py:9-10`
**Commit**: {pickle_fix}

### Problem
`pickle.loads` on stored blobs runs code hidden in them.
```python
# BEFORE
def restore(blob):
    return pickle.loads(blob)
```

### Solution
```python
# AFTER
def restore(blob):
    return json.loads(blob)
```
"""


class Command(BaseCommand):
    help = (
        "Create demo data: a linked git repository scanned by bandit and ruff, and a "
        "remediation document whose claimed fixes are checked against it."
    )

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
        # A site admin: a newcomer's first upload to a new key creates that project.
        user.is_superuser = True
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
        shas = []
        for number, (message, files) in enumerate(COMMITS, start=1):
            shas.append(_commit(git, repo, files, message, clock=number))
            if number <= SCANNED:
                self._scan(key, repo, shas[-1])
        document = DOCUMENT.format(eval_fix=shas[1], md5_fix=shas[2], pickle_fix=shas[3])
        _commit(git, repo, {"docs/REMEDIATION.md": document}, "Remediation notes", clock=5)
        try:
            services.repository_link(project=project, target=str(repo), branch="main")
        except RepositoryError as error:
            raise CommandError(
                f"the demo repository could not be linked ({error}); the data folder must be "
                "one of AUDITDASH_REPO_ROOTS"
            ) from error
        self._import(repo / "docs/REMEDIATION.md", key, "REMEDIATION.md")
        for evidence in services.project_verify(project=project):
            self.stdout.write(f"{evidence.claim.title}: {evidence.level}")

    def _scan(self, key: str, repo: Path, sha: str) -> None:
        for tool, argv in (
            ("bandit", ["bandit", "-q", "-r", ".", "-f", "json"]),
            (
                "ruff",
                ["ruff", "check", "--no-cache", "--select", "E,F,S,B"]
                + ["--output-format", "json", "."],
            ),
        ):
            output = _run_tool(argv, repo)
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
                handle.write(output)
            try:
                result = self._import(
                    Path(handle.name),
                    key,
                    f"{tool}-{sha[:7]}.json",
                    Options(commit=sha, branch="main", root=str(repo)),
                )
            finally:
                os.unlink(handle.name)
            self.stdout.write(
                f"{tool} at {sha[:7]}: {result.new} new, {result.fixed} fixed, "
                f"{result.still_open} still open"
            )

    def _import(self, path: Path, key: str, filename: str, options: Options | None = None):
        try:
            return ingest_file(path, project_key=key, options=options, filename=filename)
        except IngestError as error:
            raise CommandError(str(error)) from error


def _commit(git: _Git, repo: Path, files: dict[str, str], message: str, *, clock: int) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git("add", "-A")
    git("commit", "-q", "-m", message, clock=clock)
    return git("rev-parse", "HEAD")


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
