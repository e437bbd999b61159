"""The shipped CI snippet (docs/ci/upload-report.sh) run with bash and curl against a live
server: it uploads, waits for the import and fails the CI step when the import fails."""

from __future__ import annotations

import os
import subprocess

import pytest

from findings.models import Finding, Project, Role
from findings.services import membership_set, token_create
from tests.conftest import ROOT
from tests.findings.test_api import BANDIT

pytestmark = pytest.mark.django_db(transaction=True)
SCRIPT = ROOT / "docs" / "ci" / "upload-report.sh"


@pytest.fixture
def ci_token(live_server, django_user_model) -> str:
    project = Project.objects.create(key="LILY")
    manager = django_user_model.objects.create_user("mona")
    membership_set(project=project, user=manager, role=Role.MANAGER)
    return token_create(project=project, creator=manager, name="CI", role=Role.DEVELOPER).secret


def run_script(live_server, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUDITDASH_URL": live_server.url, "AUDITDASH_TOKEN": token}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_ci_script_uploads_waits_and_prints_the_counts(live_server, ci_token):
    done = run_script(live_server, ci_token, "LILY", str(BANDIT), "4f2a9c1", "main")

    assert done.returncode == 0, done.stderr
    found = Finding.objects.filter(project__key="LILY").count()
    assert f'"new": {found}' in done.stdout and found > 0
    assert ci_token not in done.stdout + done.stderr


def test_the_ci_script_fails_the_step_when_the_import_fails(live_server, ci_token, tmp_path):
    broken = tmp_path / "broken.sarif"
    broken.write_text('{"version": "2.1.0", "runs": [')

    failed = run_script(live_server, ci_token, "LILY", str(broken))

    assert failed.returncode == 1
    assert "the import failed: broken.sarif" in failed.stderr


def test_the_ci_script_reports_a_refused_token_without_printing_it(live_server, ci_token):
    refused = run_script(live_server, "adt_wrong-token", "LILY", str(BANDIT))

    assert refused.returncode == 1
    assert "refused" in refused.stderr and "Authorization: Bearer <token>" in refused.stderr
    assert "adt_wrong-token" not in refused.stdout + refused.stderr
