"""Imports merged batch by batch while they are parsed: still whole or nothing, still exact."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from findings import services
from findings.models import (
    Event,
    Finding,
    Project,
    Report,
    Rule,
    RuleTitle,
    Sighting,
    StatusCount,
)
from findings.services.ingest import IngestError, Options, ingest_file, scan_import
from findings.services.scan.sql import MergeSQL
from scanners import reading

pytestmark = pytest.mark.django_db

COMMIT = "3" * 40


def sarif_log(count: int, *, provenance_last: bool = False) -> bytes:
    """A CodeQL-like log of ``count`` distinct results; its commit stated before or after them."""
    results = [
        {
            "ruleId": f"py/rule-{i % 7}",
            "message": {"text": f"problem {i}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"src/module_{i % 50}.py"},
                        "region": {"startLine": i + 1, "snippet": {"text": f"call_{i}(x)"}},
                    }
                }
            ],
        }
        for i in range(count)
    ]
    run: dict = {"tool": {"driver": {"name": "CodeQL"}}}
    provenance = [{"repositoryUri": "https://example.test/r", "revisionId": COMMIT}]
    if not provenance_last:
        run["versionControlProvenance"] = provenance
    run["results"] = results
    if provenance_last:
        run["versionControlProvenance"] = provenance
    return json.dumps({"version": "2.1.0", "runs": [run]}).encode()


def everything() -> list:
    return [
        list(model.objects.order_by("pk").values())
        for model in (Project, Report, Finding, Sighting, Event, RuleTitle, Rule)
    ]


def test_a_report_cut_after_several_merged_batches_changes_nothing(tmp_path):
    whole = sarif_log(3 * reading.BATCH + 100)
    path = tmp_path / "cut.sarif"
    path.write_bytes(whole[: int(len(whole) * 0.9)])
    before = everything()
    with pytest.raises(IngestError, match="cut.sarif"):
        ingest_file(path, project_key="CUT")
    assert everything() == before


def test_a_commit_stated_after_the_results_is_the_one_every_finding_records(tmp_path):
    path = tmp_path / "late.sarif"
    path.write_bytes(sarif_log(reading.BATCH + 10, provenance_last=True))
    result = ingest_file(path, project_key="LATE")
    assert result.commit == COMMIT and result.new == reading.BATCH + 10
    assert set(Finding.objects.values_list("first_seen_commit", flat=True)) == {COMMIT}
    assert Report.objects.get().commit == COMMIT
    numbers = sorted(Finding.objects.values_list("number", flat=True))
    assert numbers == list(range(1, reading.BATCH + 11))


def test_a_rescan_in_batches_matches_every_finding_and_numbers_only_new_ones(tmp_path):
    first, second = tmp_path / "one.sarif", tmp_path / "two.sarif"
    first.write_bytes(sarif_log(2 * reading.BATCH + 5))
    second.write_bytes(sarif_log(2 * reading.BATCH + 8))
    ingest_file(first, project_key="TWICE", options=Options(commit="1" * 40))
    again = ingest_file(second, project_key="TWICE", options=Options(commit="2" * 40))
    assert (again.new, again.still_open, again.fixed) == (3, 2 * reading.BATCH + 5, 0)
    assert Finding.objects.count() == 2 * reading.BATCH + 8
    assert max(Finding.objects.values_list("number", flat=True)) == 2 * reading.BATCH + 8
    assert Sighting.objects.count() == 2 * (2 * reading.BATCH + 5) + 3
    assert set(RuleTitle.objects.values_list("rule_id", flat=True)) == {
        f"py/rule-{i}" for i in range(7)
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_by_other_connections_while_the_import_is_still_open(
    tmp_path, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("imports stream inside their transaction on PostgreSQL only")
    monkeypatch.setattr(scan_import._Ticker, "EVERY", 0.0)
    path = tmp_path / "big.sarif"
    path.write_bytes(sarif_log(4 * reading.BATCH))
    project, _ = services.project_get_or_create(key="PROG")
    report = services.report_create_queued(
        project=project,
        sha256="0" * 64,
        filename="big.sarif",
        size=1,
        stored_path="",
        user=None,
        options={},
    )
    params = connection.get_connection_params()
    outside: list[tuple[int, int]] = []

    def progress(fraction: float) -> None:
        services.report_set_progress(report_id=report.pk, progress=int(fraction * 100))
        with psycopg.connect(**params, autocommit=True) as other:
            seen = other.execute(
                "SELECT progress FROM findings_report WHERE id = %s", [report.pk]
            ).fetchone()[0]
            findings = other.execute(
                "SELECT COUNT(*) FROM findings_finding WHERE project_id = %s", [project.pk]
            ).fetchone()[0]
        outside.append((seen, findings))

    ingest_file(path, project_key="PROG", report=report, on_progress=progress)
    assert len(outside) >= 3
    assert [seen for seen, _ in outside] == sorted(seen for seen, _ in outside)
    assert outside[-1][0] > 50
    # Nothing of the import itself shows before it commits.
    assert {findings for _, findings in outside} == {0}
    assert Report.objects.get(pk=report.pk).state == Report.State.DONE
    assert Finding.objects.filter(project=project).count() == 4 * reading.BATCH


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("taken", ["empty table", "other project only", "project with 3"])
def test_a_rescan_looks_each_fingerprint_up_in_one_probe_whatever_the_statistics(
    tmp_path, monkeypatch, taken
):
    """Statistics taken before the project had its findings (autovacuum may be late, or off)
    must not lead the lookup to another index of the project: that would read every finding
    of the project for each row of the report."""
    if connection.vendor != "postgresql":
        pytest.skip("the streamed merge's lookup is PostgreSQL's")

    def analyze():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE findings_finding")

    if taken == "empty table":
        analyze()
    other = tmp_path / "other.sarif"
    other.write_bytes(sarif_log(3000).replace(b"problem", b"other problem"))
    ingest_file(other, project_key="OTHER")
    if taken == "project with 3":
        few = tmp_path / "few.sarif"
        few.write_bytes(sarif_log(3))
        ingest_file(few, project_key="STALE")
    if taken != "empty table":
        analyze()
    first, again = tmp_path / "first.sarif", tmp_path / "again.sarif"
    first.write_bytes(sarif_log(2 * reading.BATCH))
    again.write_bytes(sarif_log(2 * reading.BATCH + 4))
    ingest_file(first, project_key="STALE")
    plans: list[str] = []
    run = MergeSQL.run

    def explained(self, statement, params=()):
        if "JOIN LATERAL" in statement:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + statement, params)
                plans.append("\n".join(line for (line,) in cursor.fetchall()))
        return run(self, statement, params)

    monkeypatch.setattr(MergeSQL, "run", explained)
    result = ingest_file(again, project_key="STALE")
    assert (result.new, result.still_open) == (4, 2 * reading.BATCH)
    assert len(plans) == 3
    for plan in plans:
        assert "Index Scan using finding_fingerprint on findings_finding" in plan, plan


def test_the_parsing_thread_stops_when_the_merge_fails(tmp_path, monkeypatch):
    path = tmp_path / "many.sarif"
    path.write_bytes(sarif_log(3 * reading.BATCH))

    def explode(self, rows, payload=None):
        raise RuntimeError("injected failure in a batch")

    monkeypatch.setattr(services.ScanMerge, "add", explode)
    monkeypatch.setattr(services.ScanMerge, "add_stage", lambda self, stage: explode(self, []))
    before = everything()
    with pytest.raises(RuntimeError, match="injected"):
        ingest_file(path, project_key="FAIL")
    assert everything() == before
    import threading

    assert not [t for t in threading.enumerate() if t.name == "auditdash-parse"]
    # The file is free again: the same import now succeeds.
    monkeypatch.undo()
    assert ingest_file(Path(path), project_key="FAIL").new == 3 * reading.BATCH


def test_the_parsing_thread_stops_when_the_import_fails_before_its_merge_begins(
    tmp_path, monkeypatch
):
    path = tmp_path / "early.sarif"
    path.write_bytes(sarif_log(3 * reading.BATCH))

    def refuse(self):
        raise RuntimeError("injected failure before the merge")

    monkeypatch.setattr(services.ScanMerge, "__enter__", refuse)
    before = everything()
    with pytest.raises(RuntimeError, match="before the merge"):
        ingest_file(path, project_key="EARLY")
    assert everything() == before
    import threading

    assert not [t for t in threading.enumerate() if t.name == "auditdash-parse"]


AWKWARD = [
    r"tab\there",
    r"two\nlines\r\nand more",
    r"back\\slash \\N \\t not escapes",
    r"nul\u0000inside",
    r"lone \ud800 surrogate",
    "accents éß and 🦀",
    r"\\N",
    "",
]
"""JSON-escaped texts: each must come out of the database as the report meant it."""


def awkward_log() -> bytes:
    results = []
    for i, text in enumerate(AWKWARD):
        results.append(
            f"""{{"ruleId": "r{i}", "message": {{"text": "msg {text}"}},
            "locations": [{{"logicalLocations": [{{"name": "fn {text}"}}], "physicalLocation": {{
                "artifactLocation": {{"uri": "src/f{i} {text}.py"}},
                "region": {{"startLine": {i + 1}, "snippet": {{"text": "code {text}"}}}}}}}}]}}"""
        )
    rules = ", ".join(
        f"""{{"id": "r{i}", "shortDescription": {{"text": "title {text}"}},
        "helpUri": "https://example.test/r{i}", "properties": {{"tags": ["t {text}"]}}}}"""
        for i, text in enumerate(AWKWARD)
    )
    return (
        '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Odd", '
        f'"rules": [{rules}]}}}}, "results": [{", ".join(results)}]}}]}}'
    ).encode()


def stored(text: str) -> str:
    """What the database keeps of a decoded text: NUL and lone surrogates become U+FFFD."""
    return text.replace("\x00", "\ufffd").replace("\ud800", "\ufffd")


@pytest.mark.parametrize("first", [True, False], ids=["first report", "later report"])
def test_texts_with_tabs_newlines_backslashes_nul_and_broken_unicode_are_kept(tmp_path, first):
    """A project's first report is copied straight into the findings table (PostgreSQL), a
    later one merged through a temporary table: both keep every text as the report meant it,
    with what no database column can hold (NUL, half a UTF-16 pair) shown as U+FFFD."""
    if not first:
        earlier = tmp_path / "earlier.sarif"
        earlier.write_bytes(sarif_log(3))
        ingest_file(earlier, project_key="ODD")
    path = tmp_path / "odd.sarif"
    path.write_bytes(awkward_log())
    result = ingest_file(path, project_key="ODD")
    assert result.new == len(AWKWARD)
    texts = [json.loads(f'"{text}"') for text in AWKWARD]
    offset = 0 if first else 3
    findings = Finding.objects.filter(project__key="ODD", number__gt=offset).order_by("number")
    assert [f.rule_id for f in findings] == [f"r{i}" for i in range(len(AWKWARD))]
    for finding, text in zip(findings, texts, strict=True):
        assert finding.message == stored(f"msg {text}")
        assert finding.title == " ".join(stored(f"title {text}").split())  # one line
        assert finding.snippet == stored(f"code {text}")
        # Paths are normalised: a backslash is a Windows separator.
        assert finding.path == stored(f"src/f{finding.rule_id[1:]} {text}.py").replace("\\", "/")
        assert finding.extra == {"logical_location": stored(f"fn {text}")}
        assert finding.status == "open"
        sighting = Sighting.objects.get(finding=finding)
        assert (sighting.path, sighting.start_line) == (finding.path, finding.start_line)
    rules = {rule.rule_id: rule.details for rule in Rule.objects.filter(project__key="ODD")}
    for i, text in enumerate(texts):
        assert rules[f"r{i}"] == {
            "tags": [stored(f"t {text}")],
            "help_uri": f"https://example.test/r{i}",
        }
    assert set(RuleTitle.objects.filter(project__key="ODD").values_list("title", flat=True)) >= {
        " ".join(stored(f"title {text}").split()) for text in texts
    }


def test_a_first_report_copied_in_stores_what_the_merge_would_store(tmp_path):
    """The first-report shortcut (COPY straight into findings, PostgreSQL) and the merge
    through a temporary table store the same values in every column."""
    path = tmp_path / "log.sarif"
    path.write_bytes(sarif_log(reading.BATCH + 7))
    # FRESH gets the shortcut; MERGED already has a finding, so the same log is merged.
    ingest_file(path, project_key="FRESH", options=Options(commit=COMMIT, branch="dev"))
    services.project_get_or_create(key="MERGED")
    seed = tmp_path / "seed.sarif"
    seed.write_bytes(sarif_log(1).replace(b'"CodeQL"', b'"Other"'))
    ingest_file(seed, project_key="MERGED", options=Options(commit="4" * 40, branch="dev"))
    ingest_file(path, project_key="MERGED", options=Options(commit=COMMIT, branch="dev"))

    skip = {"id", "project_id", "number", "first_seen_report_id", "last_seen_report_id"}
    skip |= {"status_changed_at", "created_at", "first_seen_at", "last_seen_at"}

    def rows(key: str) -> list[dict]:
        found = Finding.objects.filter(project__key=key, tool="CodeQL").order_by("number")
        return [
            {name: value for name, value in row.items() if name not in skip}
            for row in found.values()
        ]

    fresh, merged = rows("FRESH"), rows("MERGED")
    assert len(fresh) == reading.BATCH + 7 and fresh == merged
    assert fresh[0]["first_seen_commit"] == fresh[0]["last_seen_commit"] == COMMIT
    assert fresh[0]["branch"] == "dev" and fresh[0]["fixed_in_commit"] == ""
    for key in ("FRESH", "MERGED"):
        report = Report.objects.get(project__key=key, commit=COMMIT)
        found = Finding.objects.filter(project__key=key, tool="CodeQL")
        assert set(found.values_list("first_seen_report_id", "last_seen_report_id")) == {
            (report.pk, report.pk)
        }
        assert Sighting.objects.filter(report=report).count() == reading.BATCH + 7
        numbers = list(found.order_by("number").values_list("number", flat=True))
        assert numbers == list(range(numbers[0], numbers[0] + reading.BATCH + 7))
        seen = set(found.values_list("first_seen_at", "last_seen_at", "created_at"))
        assert len(seen) == 1


def test_a_first_report_counts_its_suppressed_results_apart_and_sums_up_by_status(tmp_path):
    log = json.loads(sarif_log(reading.BATCH + 3))
    for result in log["runs"][0]["results"][:4]:
        result["suppressions"] = [{"kind": "inSource"}]
    path = tmp_path / "some-suppressed.sarif"
    path.write_bytes(json.dumps(log).encode())
    result = ingest_file(path, project_key="SUMS")
    assert (result.new, result.suppressed) == (reading.BATCH - 1, 4)
    project = Project.objects.get(key="SUMS")
    summary = {
        (cell.severity, cell.status): cell.n for cell in StatusCount.objects.filter(project=project)
    }
    recount = {}
    for severity, status in Finding.objects.filter(project=project).values_list(
        "severity", "status"
    ):
        recount[(severity, status)] = recount.get((severity, status), 0) + 1
    assert summary == recount and sum(n for (_, s), n in summary.items() if s == "suppressed") == 4
