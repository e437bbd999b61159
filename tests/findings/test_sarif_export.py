"""The SARIF 2.1.0 export of a project's open findings (``manage.py export --format sarif`` and
``GET /api/v1/projects/{key}/sarif``): valid against the OASIS schema, one run per tool, each
finding's lifecycle and evidence in its property bag, ``baselineState`` from the lifecycle,
and a log that auditdash's own SARIF importer reads back as the same findings."""

from __future__ import annotations

import json
import tracemalloc
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from jsonschema import Draft4Validator

from findings.models import Check, ClaimEvidence, Finding, Project, Role
from findings.selectors.sarif import sarif_log
from findings.services import finding_transition, review_record, token_create
from tests.conftest import SAMPLES
from tests.findings.test_dashboard_health import claim

pytestmark = pytest.mark.django_db

SCHEMA = json.loads((SAMPLES / "sarif_schema" / "sarif-schema-2.1.0.json").read_text())
BANDIT = SAMPLES / "bandit" / "context_and_errors.json"
DOCUMENT = SAMPLES / "documents" / "own_01_tables.md"

# (rule, path, line, flagged code, message) of the results of a made-up SARIF tool.
A = ("AL001", "src/app.py", 10, "eval(request.args['q'])", "eval of user input")
B = ("AL002", "src/db.py", 20, "cursor.execute('SELECT ' + name)", "SQL built by concatenation")
C = ("AL002", "src/db.py", 40, "cursor.execute('DELETE ' + name)", "SQL built by concatenation")
D = ("AL003", "src/my file.py", 5, "pickle.loads(blob)", "unpickling untrusted data")
F = ("AL001", "src/admin.py", 7, "eval(form['expr'])", "eval of user input")


def sarif_report(tmp_path: Path, name: str, results: list[tuple]) -> Path:
    """A SARIF log of the made-up tool 'acme-lint' with these results."""
    rules = sorted({result[0] for result in results})
    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "acme-lint",
                        "version": "1.4.2",
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {"text": f"Rule {rule}"},
                                "helpUri": f"https://lint.example/{rule}",
                                "properties": {"tags": ["security", "external/cwe/cwe-95"]},
                            }
                            for rule in rules
                        ],
                    }
                },
                "automationDetails": {"id": "backend/nightly-7"},
                "results": [
                    {
                        "ruleId": rule,
                        "level": "error" if rule != "AL003" else "note",
                        "message": {"text": message},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": path},
                                    "region": {
                                        "startLine": line,
                                        "endLine": line + 1,
                                        "snippet": {"text": code},
                                    },
                                }
                            }
                        ],
                    }
                    for rule, path, line, code, message in results
                ],
            }
        ],
    }
    target = tmp_path / name
    target.write_text(json.dumps(log))
    return target


def ingest(path: Path, key: str = "ACME", **options) -> str:
    out = StringIO()
    call_command("ingest", str(path), project=key, stdout=out, **options)
    return out.getvalue()


def export(key: str = "ACME", **options) -> dict:
    out = StringIO()
    call_command("export", project=key, fmt="sarif", stdout=out, **options)
    return json.loads(out.getvalue())


@pytest.fixture
def history(acme, reviewer, manager, tmp_path):
    """ACME after two scans of acme-lint, a bandit scan and a remediation document:

    A seen twice, untouched; B claimed fixed by hand, then seen again (regressed); C fixed by
    the second scan; D first seen by the second scan; F seen twice and claimed after it. A
    carries a checked claim, F a reviewer's verdict.
    """
    ingest(sarif_report(tmp_path, "scan1.sarif", [A, B, C, F]), branch="main")
    found = {f.path + str(f.start_line): f for f in Finding.objects.filter(project=acme)}
    finding_transition(finding=found["src/db.py20"], event="claim", actor=manager)
    ingest(sarif_report(tmp_path, "scan2.sarif", [A, B, D, F]), branch="main")
    finding_transition(finding=found["src/admin.py7"], event="claim", actor=manager)
    review_record(
        finding=found["src/admin.py7"], reviewer=reviewer, verdict="needs_work", comment="a test?"
    )
    documented = claim(acme, found["src/app.py10"], "Removed the eval")
    documented.status, documented.commits = "fixed", ["a1b2c3d4e5f6"]
    documented.save()
    run = uuid.uuid4()
    Check.objects.create(
        project=acme,
        finding=found["src/app.py10"],
        claim=documented,
        run=run,
        name="diff_overlaps",
        path="src/app.py",
        result="pass",
        reason="the diff touches lines 10-11",
        commit="a1b2c3d4e5f6",
        side="old",
        created_at=timezone.now(),
    )
    ClaimEvidence.objects.create(
        claim=documented,
        level="code-checked",
        run=run,
        commit="a1b2c3d4e5f6",
        checked_at=timezone.now(),
    )
    ingest(BANDIT, branch="main")
    ingest(DOCUMENT)
    return {key: Finding.objects.get(pk=f.pk) for key, f in found.items()}


def results_by_path(log: dict, driver: str = "acme-lint") -> dict[str, dict]:
    (run,) = [r for r in log["runs"] if r["tool"]["driver"]["name"] == driver]
    return {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        + str(r["locations"][0]["physicalLocation"]["region"]["startLine"]): r
        for r in run["results"]
    }


def test_the_export_is_valid_sarif_2_1_0_with_one_run_per_tool(history):
    log = export()

    errors = sorted(Draft4Validator(SCHEMA).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    drivers = [run["tool"]["driver"] for run in log["runs"]]
    assert [d["name"] for d in drivers] == ["acme-lint", "bandit", "auditdash documents"]
    lint = log["runs"][0]
    assert drivers[0]["version"] == "1.4.2"
    assert [rule["id"] for rule in drivers[0]["rules"]] == ["AL001", "AL002", "AL003"]
    assert drivers[0]["rules"][0]["helpUri"] == "https://lint.example/AL001"
    assert lint["automationDetails"] == {"id": "backend/"}
    assert lint["properties"]["auditdash"] == {"project": "ACME", "branch": "main"}
    for result in lint["results"]:
        assert drivers[0]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    d = results_by_path(log)["src/my%20file.py5"]
    assert d["level"] == "note" and d["properties"]["security-severity"] == "0.1"
    location = d["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/my%20file.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "endLine": 6, "snippet": {"text": D[3]}}
    stored = Finding.objects.get(project__key="ACME", path="src/my file.py")
    assert d["partialFingerprints"] == {"auditdash/v1": stored.fingerprint}
    assert d["message"] == {"text": D[4]}
    # Every open finding is there once; nothing fixed is.
    exported = [r["properties"]["auditdash"]["key"] for run in log["runs"] for r in run["results"]]
    open_keys = [
        f.key
        for f in Finding.objects.filter(
            project__key="ACME", status__in=["open", "regressed", "claimed"]
        ).select_related("project")
    ]
    assert sorted(exported) == sorted(open_keys) and len(exported) == len(set(exported))
    assert history["src/db.py40"].key not in exported


def test_baseline_state_is_set_from_the_lifecycle(history):
    plain = results_by_path(export())
    assert plain["src/app.py10"]["baselineState"] == "unchanged"  # seen by both scans
    assert plain["src/db.py20"]["baselineState"] == "updated"  # claimed, then seen: regressed
    assert plain["src/db.py20"]["properties"]["auditdash"]["status"] == "regressed"
    assert plain["src/my%20file.py5"]["baselineState"] == "new"  # first seen by the second
    assert plain["src/admin.py7"]["baselineState"] == "updated"  # claimed since the baseline
    assert "src/db.py40" not in plain

    with_fixed = export(with_fixed=True)
    assert not list(Draft4Validator(SCHEMA).iter_errors(with_fixed))
    gone = results_by_path(with_fixed)["src/db.py40"]
    assert gone["baselineState"] == "absent"
    assert gone["properties"]["auditdash"]["status"] == "verified"
    # SARIF: a run that gives one result a baselineState gives it to all; documents have none.
    for run in with_fixed["runs"]:
        states = {"baselineState" in result for result in run["results"]}
        assert states == (
            {False} if run["tool"]["driver"]["name"].startswith("auditdash") else {True}
        )


def test_each_finding_carries_its_lifecycle_and_evidence(history):
    results = results_by_path(export())
    a = results["src/app.py10"]["properties"]["auditdash"]
    assert a["key"] == history["src/app.py10"].key and a["status"] == "open"
    assert a["severity"] == "high" and a["firstSeenAt"] and a["lastSeenAt"]
    assert a["evidence"]["level"] == "code-checked"
    (documented,) = a["evidence"]["claims"]
    assert documented["says"] == "fixed" and documented["commits"] == ["a1b2c3d4e5f6"]
    assert documented["document"] == "fixes.md" and documented["linked"] is False
    assert (
        documented["evidenceLevel"] == "code-checked" and documented["fixCommit"] == "a1b2c3d4e5f6"
    )
    (check,) = documented["checks"]
    assert check == {
        "name": "diff_overlaps",
        "result": "pass",
        "path": "src/app.py",
        "commit": "a1b2c3d4e5f6",
        "side": "old",
        "reason": "the diff touches lines 10-11",
    }
    f = results["src/admin.py7"]["properties"]["auditdash"]
    assert f["status"] == "claimed"
    assert f["evidence"]["review"]["verdict"] == "needs_work"
    assert f["evidence"]["review"]["reviewer"] == "remy"
    assert f["evidence"]["review"]["comment"] == "a test?"
    d = results["src/my%20file.py5"]["properties"]["auditdash"]
    assert d["evidence"] == {"level": "unverified", "claims": [], "review": None}


def _identity(finding: Finding) -> tuple:
    return (
        finding.tool,
        finding.category,
        finding.rule_id,
        finding.severity,
        finding.path,
        finding.start_line,
        finding.end_line,
        finding.message,
        finding.snippet,
        finding.cwe,
    )


def test_the_export_imports_back_as_the_same_findings(history, tmp_path):
    log = export()
    copy = tmp_path / "acme.sarif"
    copy.write_text(json.dumps(log))

    assert "new" in ingest(copy, key="COPY", branch="main")

    scanned = Finding.objects.filter(
        project__key="ACME", status__in=["open", "regressed", "claimed"]
    ).exclude(tool="document")
    copied = Finding.objects.filter(project__key="COPY").exclude(tool="auditdash documents")
    assert sorted(map(_identity, copied)) == sorted(map(_identity, scanned))
    lint_titles = {(f.rule_id, f.title) for f in copied if f.tool == "acme-lint"}
    assert lint_titles == {(f"AL00{n}", f"Rule AL00{n}") for n in (1, 2, 3)}
    documents = Finding.objects.filter(
        project__key="ACME", status__in=["open", "regressed", "claimed"], tool="document"
    )
    as_copied = Finding.objects.filter(project__key="COPY", tool="auditdash documents")
    assert sorted((f.title, f.severity) for f in as_copied) == sorted(
        (f.title, f.severity) for f in documents
    )
    # auditdash's fingerprint is the identity the copy keeps: once ACME fixes D, the next
    # export fixes D's copy, and only it.
    Finding.objects.filter(project__key="ACME", path="src/my file.py").update(status="verified")
    copy.write_text(json.dumps(export()))
    assert "1 fixed" in ingest(copy, key="COPY", branch="main")
    fixed = Finding.objects.get(project__key="COPY", status="verified")
    assert fixed.path == "src/my file.py"


def test_the_command_refuses_an_unknown_project_and_writes_a_file_whole(history, tmp_path):
    with pytest.raises(CommandError, match="no project with the key 'NOPE'"):
        call_command("export", project="NOPE", fmt="sarif")
    with pytest.raises(CommandError, match="--with-fixed is for --format sarif"):
        call_command("export", project="ACME", fmt="csv", with_fixed=True)
    Project.objects.create(key="EMPTY")
    empty = export("EMPTY")
    assert empty["runs"] == [] and not list(Draft4Validator(SCHEMA).iter_errors(empty))
    target = tmp_path / "out.sarif"
    call_command("export", project="ACME", fmt="sarif", output=str(target))
    assert json.loads(target.read_text()) == export()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_triaged_findings_are_exported_as_suppressed_results_when_asked(history, manager, tmp_path):
    finding_transition(
        finding=history["src/app.py10"],
        event="mark_false_positive",
        actor=manager,
        reason="the input is a constant",
    )
    assert "src/app.py10" not in results_by_path(export())

    log = export(with_triaged=True)

    assert not list(Draft4Validator(SCHEMA).iter_errors(log))
    triaged = results_by_path(log)["src/app.py10"]
    assert triaged["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "false positive: the input is a constant",
        }
    ]
    assert triaged["properties"]["auditdash"]["status"] == "false_positive"
    assert all(
        "suppressions" not in r for p, r in results_by_path(log).items() if p != "src/app.py10"
    )
    # Read back, the suppression keeps the copy out of the open findings.
    copy = tmp_path / "triaged.sarif"
    copy.write_text(json.dumps(log))
    ingest(copy, key="COPY", branch="main")
    copied = Finding.objects.get(project__key="COPY", path="src/app.py", start_line=10)
    assert copied.status == "suppressed"
    with pytest.raises(CommandError, match="--with-triaged is for --format sarif"):
        call_command("export", project="ACME", fmt="json", with_triaged=True)


# --- the API ---------------------------------------------------------------------------------


def test_the_api_streams_the_same_log_to_a_caller_of_the_project(history, manager, client):
    secret = token_create(
        project=history["src/app.py10"].project,
        creator=manager,
        name="Code scanning",
        role=Role.VIEWER,
    ).secret
    answer = client.get("/api/v1/projects/ACME/sarif", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert answer.status_code == 200 and answer.streaming
    assert answer["Content-Type"] == "application/sarif+json"
    assert answer["Content-Disposition"] == 'attachment; filename="ACME.sarif"'
    assert json.loads(b"".join(answer.streaming_content)) == export()
    fixed = client.get(
        "/api/v1/projects/ACME/sarif?with_fixed=true", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert json.loads(b"".join(fixed.streaming_content)) == export(with_fixed=True)
    triaged = client.get(
        "/api/v1/projects/ACME/sarif?with_triaged=true", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert json.loads(b"".join(triaged.streaming_content)) == export(with_triaged=True)


def test_the_api_export_needs_a_caller_who_may_see_the_project(
    history, client, client_for, outsider, viewer
):
    refused = client.get("/api/v1/projects/ACME/sarif")
    assert refused.status_code == 401 and "Bearer" in refused.json()["detail"]
    assert (
        client.get("/api/v1/projects/ACME/sarif", HTTP_AUTHORIZATION="Bearer adt_x").status_code
        == 401
    )
    other = Project.objects.get(key="OTHER")
    foreign = token_create(project=other, creator=outsider, name="ci", role=Role.VIEWER).secret
    hidden = client.get("/api/v1/projects/ACME/sarif", HTTP_AUTHORIZATION=f"Bearer {foreign}")
    assert hidden.status_code == 404 and hidden.json() == {
        "detail": "No project ACME that you may see."
    }
    assert client_for(outsider).get("/api/v1/projects/ACME/sarif").status_code == 404
    assert client_for(outsider).get("/api/v1/projects/NOPE/sarif").status_code == 404
    session = client_for(viewer).get("/api/v1/projects/ACME/sarif")
    assert session.status_code == 200
    assert json.loads(b"".join(session.streaming_content)) == export()


# --- memory ----------------------------------------------------------------------------------


def _many(project: Project, count: int) -> None:
    now = timezone.now()
    Finding.objects.bulk_create(
        [
            Finding(
                project=project,
                number=n,
                fingerprint=f"{n:032x}",
                tool="acme-lint",
                rule_id=f"AL{n % 40:03d}",
                title=f"Rule AL{n % 40:03d}",
                message=f"problem number {n} " * 4,
                severity=1 + n % 5,
                path=f"src/module_{n % 700}.py",
                start_line=n % 3000 + 1,
                snippet="value = compute(arguments)",
                status="open",
                status_changed_at=now,
                first_seen_at=now,
                last_seen_at=now,
            )
            for n in range(1, count + 1)
        ],
        batch_size=2000,
    )


def _peak_while_streaming(project: Project) -> tuple[int, int]:
    """Bytes written and the peak of Python memory while the log is streamed."""
    tracemalloc.start()
    try:
        written = sum(len(piece) for piece in sarif_log(project=project))
        return written, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_export_streams_in_flat_memory(db):
    small, _ = Project.objects.get_or_create(key="SMALL")
    large, _ = Project.objects.get_or_create(key="LARGE")
    _many(small, 2_000)
    _many(large, 20_000)

    small_size, small_peak = _peak_while_streaming(small)
    large_size, large_peak = _peak_while_streaming(large)

    assert large_size > 9 * small_size  # ten times the findings, ten times the log...
    assert large_peak < 1.5 * small_peak  # ...in the same memory
