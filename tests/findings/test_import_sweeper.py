"""The sweeper and the claim: a report whose worker died ends failed with a clear message, a
queued report no task will run is sent again, a failed report never blocks the same bytes,
and the same bytes imported at once from two processes make one import, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from findings import services, tasks
from findings.models import Event, Finding, Report
from findings.services.ingest.storage import upload_folder
from scanners.files import sha256_of
from tests.conftest import BIN, ROOT, SAMPLES, subprocess_env

pytestmark = pytest.mark.django_db

BANDIT = SAMPLES / "bandit" / "context_and_errors.json"
STOPPED = "the worker stopped during the import (no sign of life for 60 s); nothing was written"


def left_by_a_worker(
    project, *, state: str, silent_for: float | None, progress: int = 95
) -> Report:
    """A report as an upload leaves it: stored, queued; then as a worker left it."""
    stored = upload_folder() / f"test-{project.key}-{state}-{silent_for}"
    shutil.copyfile(BANDIT, stored)
    report = services.report_create_queued(
        project=project,
        sha256=sha256_of(BANDIT),
        filename=BANDIT.name,
        size=BANDIT.stat().st_size,
        stored_path=str(stored),
        user=None,
        options={},
    )
    now = timezone.now()
    Report.objects.filter(pk=report.pk).update(
        state=state,
        progress=progress,
        heartbeat_at=None if silent_for is None else now - timedelta(seconds=silent_for),
        created_at=now - timedelta(seconds=600),
    )
    return Report.objects.get(pk=report.pk)


def test_the_sweeper_fails_a_silent_import_and_leaves_a_live_one(acme):
    from findings.services import project_get_or_create

    other, _ = project_get_or_create(key="OTHER")
    legacy, _ = project_get_or_create(key="LEGACY")
    silent = left_by_a_worker(acme, state="running", silent_for=61)
    live = left_by_a_worker(other, state="running", silent_for=5)
    unknown = left_by_a_worker(legacy, state="running", silent_for=None)

    swept = tasks.sweep_imports()

    assert sorted(swept["failed"]) == sorted([silent.pk, unknown.pk])
    failed = Report.objects.get(pk=silent.pk)
    assert failed.state == "failed" and failed.finished_at is not None
    assert failed.error.startswith(f"{BANDIT.name}: {STOPPED}.")
    assert Report.objects.get(pk=live.pk).state == "running"
    assert Event.objects.filter(report=failed, action="report_failed").count() == 1
    assert tasks.sweep_imports() == {"failed": [], "sent": []}


def test_the_sweeper_sends_a_queued_report_whose_task_was_never_sent(acme):
    lost = left_by_a_worker(acme, state="queued", silent_for=None, progress=0)
    waiting, _ = services.project_get_or_create(key="WAIT")
    sent = left_by_a_worker(waiting, state="queued", silent_for=30, progress=0)

    swept = tasks.sweep_imports()  # tasks run in-process here: the import runs at once

    assert swept == {"failed": [], "sent": [lost.pk]}
    done = Report.objects.get(pk=lost.pk)
    assert done.state == "done" and done.new == Finding.objects.filter(project=acme).count() > 0
    assert Report.objects.get(pk=sent.pk).state == "queued"


def test_a_task_imports_its_report_once_and_ends_one_its_dead_worker_left(acme):
    queued = left_by_a_worker(acme, state="queued", silent_for=None, progress=0)
    assert tasks.ingest_report(queued.pk) == "done"
    assert tasks.ingest_report(queued.pk) == "done"  # delivered twice
    assert Report.objects.filter(project=acme, state="done").count() == 1

    other, _ = services.project_get_or_create(key="OTHER")
    dead = left_by_a_worker(other, state="running", silent_for=120)
    third, _ = services.project_get_or_create(key="THIRD")
    alive = left_by_a_worker(third, state="running", silent_for=1)

    assert tasks.ingest_report(dead.pk) == "failed"  # delivered again after its worker died
    assert STOPPED in Report.objects.get(pk=dead.pk).error
    with pytest.raises(Retry):  # a duplicate while it runs: looks again later
        tasks.ingest_report(alive.pk)
    assert Report.objects.get(pk=alive.pk).state == "running"


def test_the_command_line_imports_bytes_a_dead_worker_left_running(acme):
    stuck = left_by_a_worker(acme, state="running", silent_for=61)
    out = StringIO()

    call_command("ingest", str(BANDIT), project="ACME", stdout=out)

    assert "ACME report #" in out.getvalue() and "2 new" in out.getvalue()
    assert Report.objects.get(pk=stuck.pk).state == "failed"
    assert Report.objects.get(project=acme, state="done").sha256 == stuck.sha256


def test_the_command_line_says_the_same_bytes_are_being_imported(acme):
    running = left_by_a_worker(acme, state="running", silent_for=2, progress=40)
    err = StringIO()

    with pytest.raises(CommandError, match="1 of 1 reports failed"):
        call_command("ingest", str(BANDIT), project="ACME", stderr=err)

    assert (
        f"error: {BANDIT}: these exact bytes are being imported already as report "
        f"#{running.pk} (running, 40%); nothing changed"
    ) in err.getvalue()
    assert Report.objects.get(pk=running.pk).state == "running"


def test_an_upload_of_bytes_a_dead_worker_left_running_is_imported(
    acme, manager, django_capture_on_commit_callbacks
):
    stuck = left_by_a_worker(acme, state="running", silent_for=61)
    client = Client()
    client.force_login(manager)

    with BANDIT.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        accepted = client.post("/api/v1/projects/ACME/reports", data={"file": handle})
    assert accepted.status_code == 202, accepted.content
    assert Report.objects.get(pk=stuck.pk).state == "failed"

    with BANDIT.open("rb") as handle:
        again = client.post("/api/v1/projects/ACME/reports", data={"file": handle})
    assert again.status_code == 400
    assert f"already imported as report #{accepted.json()['id']}" in again.json()["detail"]


def test_an_upload_of_bytes_being_imported_says_so(acme, manager):
    running = left_by_a_worker(acme, state="running", silent_for=2, progress=40)
    client = Client()
    client.force_login(manager)

    with BANDIT.open("rb") as handle:
        refused = client.post("/api/v1/projects/ACME/reports", data={"file": handle})

    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        f"{BANDIT.name}: these exact bytes are being imported already as report "
        f"#{running.pk} (running, 40%); nothing changed"
    )


@pytest.mark.django_db(transaction=True)
def test_the_same_bytes_from_three_processes_at_once_are_one_import(acme, tmp_path):
    report = tmp_path / "bandit.json"
    shutil.copyfile(BANDIT, report)
    command = [str(BIN / "python"), "manage.py", "ingest", str(report), "--project", "ACME"]
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    outputs = [
        (run.wait(120), *(stream.read().decode() for stream in (run.stdout, run.stderr)))
        for run in runs
    ]

    assert [code for code, _, _ in outputs] == [0, 0, 0], outputs
    assert not any("Traceback" in err for _, _, err in outputs), outputs
    done = Report.objects.get(project=acme)
    said = sorted(
        (out.splitlines()[0] for _, out, _ in outputs), key=lambda line: "already" in line
    )
    assert said[0].startswith(f"ACME report #{done.pk} (bandit, bandit): 2 new")
    assert said[1:] == [f"ACME: already imported as report #{done.pk}: nothing changed"] * 2


def test_the_beat_sweeps_imports_and_a_task_is_never_delivered_twice_while_it_runs():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-imports"]
    assert entry["task"] == "findings.tasks.sweep_imports"
    assert entry["schedule"] < settings.AUDITDASH_IMPORT_STALE_AFTER
    assert settings.AUDITDASH_IMPORT_HEARTBEAT * 3 <= settings.AUDITDASH_IMPORT_STALE_AFTER
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT
    assert Path(tasks.__file__).name == "tasks.py" and tasks.sweep_imports.name == entry["task"]
