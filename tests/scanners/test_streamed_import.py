"""Imports merged batch by batch while they are parsed: still whole or nothing, still exact."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from findings import services
from findings.models import Event, Finding, Project, Report, RuleTitle, Sighting
from scanners import pipeline, reading
from scanners.pipeline import IngestError, Options, ingest_file

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
        for model in (Project, Report, Finding, Sighting, Event, RuleTitle)
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
    monkeypatch.setattr(pipeline._Ticker, "EVERY", 0.0)
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


def test_the_parsing_thread_stops_when_the_merge_fails(tmp_path, monkeypatch):
    path = tmp_path / "many.sarif"
    path.write_bytes(sarif_log(3 * reading.BATCH))

    def explode(self, rows):
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
