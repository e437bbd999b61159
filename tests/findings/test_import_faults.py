"""Process faults during an import, with a real worker over a real broker: a killed worker, a
database that drops its connections, a web process that died before sending the task, and
the same bytes imported at once from two processes. No report stays queued or running for
good, and a failed report never blocks the same bytes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from bench.sarif_gen import write_sarif
from findings.models import Finding, Report, Role
from findings.services import token_create
from tests.conftest import BIN, ROOT, subprocess_env

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

RESULTS = 30_000
"""Enough results that an import takes a few seconds on this machine: long enough to be
caught half way."""

TIMINGS = {
    "AUDITDASH_IMPORT_HEARTBEAT": "0.5",
    "AUDITDASH_IMPORT_STALE_AFTER": "3",
    "AUDITDASH_IMPORT_SWEEP_INTERVAL": "1",
    # The beat in the test worker sweeps imports only.
    "AUDITDASH_SCAN_INTERVAL": "100000",
    "AUDITDASH_FETCH_INTERVAL": "100000",
}


class Worker:
    """A Celery worker of the production shape (a main process and a prefork pool, with an
    embedded beat) on a queue of its own, that a test may kill with SIGKILL."""

    def __init__(self, folder: Path, queue: str, *, beat: bool = True) -> None:
        self.folder = folder
        self.queue = queue
        self.beat = beat
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log_path = self.folder / f"worker-{self.starts}.log"
        env = {**subprocess_env(), **TIMINGS, "AUDITDASH_CELERY_QUEUE": self.queue}
        self.process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "auditdash",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                *(["-B", "-s", str(self.folder / "beat-schedule")] if self.beat else []),
                "-Q",
                self.queue,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: "ready." in log_path.read_text(), 60, f"worker ready ({log_path})")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        assert self.process is not None
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert found, "the worker has no pool process"
        return [int(pid) for pid in found]

    def kill(self) -> None:
        """SIGKILL to the main process and every process of its pool (and beat)."""
        assert self.process is not None
        for pid in [self.process.pid, *self.children()]:
            os.kill(pid, signal.SIGKILL)
        self.process.wait(10)

    def kill_pool(self) -> None:
        """SIGKILL to the pool's processes only: the main process lives on."""
        for pid in self.children():
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def _worker(tmp_path: Path, settings, *, beat: bool) -> Iterator[Worker]:
    from auditdash.celery import app

    if not os.environ.get("CELERY_BROKER_URL"):
        pytest.skip("CELERY_BROKER_URL is not set: no broker for a real worker")
    for name, value in TIMINGS.items():
        setattr(settings, name, float(value))
    queue = f"auditdash-faults-{os.getpid()}-{time.monotonic_ns()}"
    before = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    started = Worker(tmp_path, queue, beat=beat)
    started.start()
    try:
        yield started
    finally:
        started.stop()
        app.conf.task_default_queue = before


@pytest.fixture
def worker(tmp_path, settings) -> Iterator[Worker]:
    """A started :class:`Worker` with its beat; this test process sends its tasks to the
    worker's queue and sweeps with the worker's timings."""
    yield from _worker(tmp_path, settings, beat=True)


@pytest.fixture
def worker_without_beat(tmp_path, settings) -> Iterator[Worker]:
    """The same, with no beat: nothing sweeps on a schedule."""
    yield from _worker(tmp_path, settings, beat=False)


def wait_for(check: Callable[[], object], seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up after {seconds} s waiting for: {what}")


@pytest.fixture
def big_sarif(tmp_path) -> Path:
    return write_sarif(tmp_path / "codeql.sarif", RESULTS)


@pytest.fixture
def api(acme, manager) -> Callable[[Path], dict]:
    secret = token_create(project=acme, creator=manager, name="CI", role=Role.DEVELOPER).secret
    client = Client()

    def upload(path: Path):
        with path.open("rb") as handle:
            return client.post(
                "/api/v1/projects/ACME/reports",
                data={"file": handle},
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )

    return upload


def report(pk: int) -> Report:
    return Report.objects.get(pk=pk)


def ended(pk: int) -> Report | None:
    found = report(pk)
    return found if found.is_finished else None


def half_way(pk: int) -> Report | None:
    found = report(pk)
    return found if found.state == Report.State.RUNNING and found.progress >= 20 else None


def ingest_command(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "python"), "manage.py", "ingest", str(path), "--project", "ACME"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_killed_worker_ends_its_report_failed_and_the_same_bytes_import_again(
    worker, big_sarif, api
):
    accepted = api(big_sarif)
    assert accepted.status_code == 202, accepted.content
    pk = accepted.json()["id"]
    wait_for(lambda: half_way(pk), 60, "the import half way")

    worker.kill()
    assert report(pk).state == Report.State.RUNNING
    worker.start()

    failed = wait_for(lambda: ended(pk), 30, "the stopped import to end")
    assert failed.state == Report.State.FAILED
    assert failed.error.startswith(
        "codeql.sarif: the worker stopped during the import (no sign of life for 3 s); "
        "nothing was written."
    )
    assert Finding.objects.filter(project__key="ACME").count() == 0

    cli = ingest_command(big_sarif)
    assert cli.returncode == 0 and "Traceback" not in cli.stderr, cli.stderr
    assert f"{RESULTS} new" in cli.stdout
    again = api(big_sarif)
    done = Report.objects.get(project__key="ACME", state=Report.State.DONE)
    assert again.status_code == 400
    assert f"already imported as report #{done.pk}" in again.json()["detail"]
    assert Finding.objects.filter(project__key="ACME").count() == RESULTS


def test_a_killed_pool_process_ends_its_report_failed_without_a_beat(
    worker_without_beat, big_sarif, api
):
    pk = api(big_sarif).json()["id"]
    wait_for(lambda: half_way(pk), 60, "the import half way")

    worker_without_beat.kill_pool()

    failed = wait_for(lambda: ended(pk), 30, "the stopped import to end")
    assert failed.state == Report.State.FAILED
    assert "the worker stopped during the import" in failed.error
    assert worker_without_beat.alive()
    assert Finding.objects.filter(project__key="ACME").count() == 0
    again = api(big_sarif)
    assert again.status_code == 202, again.content
    done = wait_for(lambda: ended(again.json()["id"]), 60, "the second upload to be imported")
    assert done.state == Report.State.DONE and done.new == RESULTS


def test_an_upload_whose_task_was_never_sent_is_sent_by_the_sweeper(
    worker, big_sarif, acme, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from findings.services.ingest import Options, uploads

    # The web process dies between storing the upload (committed) and sending its task.
    monkeypatch.setattr(uploads, "_send", lambda report_id: None)
    upload = SimpleUploadedFile("codeql.sarif", big_sarif.read_bytes())
    queued = uploads.queue_upload(project_key="ACME", upload=upload, options=Options(), user=None)
    assert report(queued.pk).heartbeat_at is None

    done = wait_for(lambda: ended(queued.pk), 60, "the lost upload to be imported")
    assert done.state == Report.State.DONE, done.error
    assert done.new == RESULTS


def test_a_database_that_drops_its_connections_mid_import_leaves_the_worker_and_the_import(
    worker, big_sarif, api
):
    if connection.vendor != "postgresql":
        pytest.skip("terminating the worker's server connections is a PostgreSQL test")
    pk = api(big_sarif).json()["id"]
    wait_for(lambda: half_way(pk), 60, "the import half way")

    # What a server restart does to every client: each connection is cut.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1

    finished = wait_for(lambda: ended(pk), 90, "the import to end")
    assert worker.alive()
    assert finished.state == Report.State.DONE, finished.error
    assert finished.new == RESULTS == Finding.objects.filter(project__key="ACME").count()


def test_the_command_line_says_when_the_same_bytes_are_being_imported_by_the_worker(
    worker, big_sarif, api
):
    pk = api(big_sarif).json()["id"]
    wait_for(lambda: half_way(pk), 60, "the import half way")

    cli = ingest_command(big_sarif)

    # While the worker imports: "being imported" (an error). Should the worker finish first
    # (SQLite parses the whole report before it writes): "already imported".
    assert "Traceback" not in cli.stderr, cli.stderr
    if cli.returncode == 1:
        assert (
            f"codeql.sarif: these exact bytes are being imported already as report #{pk} (running, "
        ) in cli.stderr
    else:
        assert cli.stdout == f"ACME: already imported as report #{pk}: nothing changed\n"
    finished = wait_for(lambda: ended(pk), 60, "the upload's import to end")
    assert finished.state == Report.State.DONE, finished.error
    assert Finding.objects.filter(project__key="ACME").count() == RESULTS
