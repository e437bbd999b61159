"""Structural forms real documents take, each pinned by a small document written for it.

Ledger tables read by header and merged with the details that restate them; pipe tables
strict GFM rejects; severity and status words in other languages; files with their lines;
health readings with when they hold.
"""

from __future__ import annotations

from pathlib import Path

from scanners.documents import Extraction, extract
from scanners.documents.model import Finding

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "documents"


def _read(name: str) -> Extraction:
    path = SAMPLES / name
    return extract(path.read_bytes(), source=path.name)


def _places(finding: Finding) -> list[tuple[str | None, list[list[int]]]]:
    return [(f.path, f.lines) for f in finding.files]


def test_a_ledger_row_and_its_detail_section_are_one_finding_with_the_rows_cells() -> None:
    result = _read("own_10_ledger_merge.md")
    by_ref = {f.ref: f for f in result.findings}
    assert sorted(str(k) for k in by_ref) == ["RV-01", "RV-02", "RV-03"], (
        "one finding per ID, not two"
    )
    first = by_ref["RV-01"]
    assert first.title == "Invoice total ignores discounts"
    assert (first.severity, first.status, first.commits) == ("critical", "fixed", ["4c1d2e9"])
    assert _places(first) == [("src/billing/invoice.py", [[88, 88]])]
    second = by_ref["RV-02"]
    assert (second.severity, second.status) == ("medium", "partially_fixed")
    # "`tax.py` line 14" in the text and the row's full path and lines are one place.
    assert _places(second) == [("src/billing/tax.py", [[12, 20]])]
    # A row only in the ledger keeps its reason as its title and its deferral as open.
    third = by_ref["RV-03"]
    assert (third.title, third.severity, third.status) == (
        "wording of the refund section",
        "info",
        "identified",
    )


def test_yaml_front_matter_is_not_a_heading_and_gives_the_document_status() -> None:
    result = _read("own_10_ledger_merge.md")
    assert result.document.title == "Sprint 4 Review Fixes"
    assert result.document.status == "in_progress"


def test_a_table_with_a_wider_delimiter_row_and_an_unescaped_pipe_keeps_every_row() -> None:
    result = _read("own_11_loose_table.md")
    assert [f.ref for f in result.findings] == ["D-1", "D-2", "D-3"]
    assert [f.severity for f in result.findings] == ["high", "medium", "low"]
    assert [f.status for f in result.findings] == ["fixed", "identified", "identified"]
    assert _places(result.findings[0]) == [("web/session.py", [[40, 40]])]
    broken = result.findings[1]
    assert [n.text for n in broken.notes if n.label == "table"] == [
        "row has 6 cells, its header 5; kept as written"
    ]


def test_severity_and_status_words_in_russian_chinese_italian_and_portuguese_tables() -> None:
    result = _read("own_12_languages.md")
    got = [(f.title, f.severity, f.status) for f in result.findings]
    assert got == [
        ("Утечка соединений в пуле", "critical", "fixed"),
        ("Нет таймаута у HTTP-клиента", "medium", "identified"),
        ("文件上传丢失", "critical", "fixed"),
        ("Nonce mancante nel form", None, "fixed"),
        ("Query senza prepare", None, "partially_fixed"),
        # "Correções críticas" gives its rows their severity.
        ("Vazamento de memória no buffer", "critical", "fixed"),
    ]


def test_a_line_number_keeps_its_file_and_a_size_is_not_a_line() -> None:
    result = _read("own_13_places.md")
    first, second = result.findings
    assert _places(first) == [("export/csv_writer.py", [[30, 42]])], "~15 lines is a size"
    assert _places(second) == [("net/retry.py", [[57, 57]]), ("worker.py", [[19, 19]])]


def test_health_readings_say_when_they_hold() -> None:
    result = _read("own_13_places.md")
    got = [(h.area, h.status, h.when) for h in result.health]
    assert got == [
        ("Exports before", "critical", "before"),
        ("Exports now", "stable", "current"),
        ("Exports target", "healthy", "projected"),
    ]
    assert all("when" in h for h in result.to_dict()["health"])


def test_health_comes_from_score_cards_verdicts_status_tables_and_before_after() -> None:
    result = _read("own_14_health.md")
    got = [(h.area, h.status, h.when, h.score) for h in result.health]
    assert got == [
        ("Score", "at_risk", "current", "62/100"),
        ("VERDICT", "critical", "current", None),
        ("Gateway", "healthy", "current", None),
        ("Worker", "degraded", "current", None),
        ("Error rate", "unknown", "before", "4%"),
        ("Error rate", "unknown", "current", "1%"),
        ("Error rate", "unknown", "projected", None),
        ("Queue depth", "unknown", "before", None),
        ("Queue depth", "healthy", "current", None),
    ]
    assert result.health[1].raw == "NOT READY FOR PRODUCTION", "the document's own words"
    assert result.unparsed == []


def test_a_bug_report_table_is_titled_by_what_happens_not_by_its_root_cause() -> None:
    result = _read("own_15_bug_report_table.md")
    got = [(f.ref, f.title, f.severity, f.status) for f in result.findings]
    assert got == [
        ("QA-7", "Total keeps the removed item's price", "high", "fixed"),
        ("QA-8", "Coupon accepted silently", "low", "identified"),
        # With no other problem column, the root cause is what names the finding.
        ("QA-9", "Session cookie set without the Secure flag", None, "fixed"),
    ]
    assert result.findings[0].problem == "Cache key ignores quantity"
    assert _places(result.findings[0]) == [("shop/cart.py", [[31, 31]])]


def test_a_plans_own_table_gives_its_phase_items_and_the_findings_they_track() -> None:
    result = _read("own_16_sprint_tables.md")
    got = [(f.ref, f.title, f.status) for f in result.findings]
    assert got == [
        (None, "Guard the cache with a lock", "fixed"),
        (None, "Cancel workers gracefully", "fixed"),
        ("T-4", "Flaky login test", "partially_fixed"),
    ], "a row without an ID in a table that has IDs is a task, not a finding"
    assert _places(result.findings[0]) == [("app/cache.py", [[40, 44]])]
    items = {p.name: [(i.done, i.finding_refs) for i in p.items] for p in result.phases}
    assert items == {
        "Sprint 1: Stop the crashes - COMPLETE": [(True, ["F1"]), (True, ["F2"])],
        # The Status cell says whether an item is done: partial is not done yet.
        "Sprint 2: Tidy the tests - IN PROGRESS": [(False, ["F3"]), (False, [])],
    }


def test_a_plan_item_is_done_by_its_leading_mark_or_its_trailing_status() -> None:
    text = (
        "# Handoff\n\n**Date:** 2026-02-02\n\n## Roadmap\n\n### Phase 1: Quick Wins (1 week)\n"
        "1. Add HTTP timeouts ✓ DONE\n"
        "2. ✓ Cap list endpoints\n"
        "3. Rate limit guards (fixed)\n"
        "4. Retry policy — in progress\n"
        "5. Deploy gunicorn workers\n"
        "6. Batch the nightly task (recommended)\n"
    )
    (phase,) = extract(text.encode(), source="plan.md").phases
    assert [(item.text, item.done) for item in phase.items] == [
        ("Add HTTP timeouts", True),
        ("Cap list endpoints", True),
        ("Rate limit guards", True),
        ("Retry policy", False),
        ("Deploy gunicorn workers", None),
        ("Batch the nightly task (recommended)", None),
    ]


def test_marked_statements_under_before_and_after_headings_are_readings_of_their_moment() -> None:
    text = (
        "# Queue fixes\n\n## Results\n\n### Before Fix\n\n"
        "- ❌ Deploys would fail with a missing column: `timezone`\n"
        "- ❌ Duplicate reminders after restart\n\n"
        "### After Fix\n\n"
        "- ✅ Deploys safe (schema migration works)\n"
        "- ✅ Zero duplicate timers — mutual exclusion\n"
        "- Some prose without a mark stays prose\n"
    )
    result = extract(text.encode(), source="fixes.md")
    got = [(h.area, h.status, h.when) for h in result.health]
    assert got == [
        ("Deploys would fail with a missing column", "critical", "before"),
        ("Duplicate reminders after restart", "critical", "before"),
        ("Deploys safe", "healthy", "current"),
        ("Zero duplicate timers", "healthy", "current"),
    ]
    assert result.health[2].raw == "Deploys safe (schema migration works)"


def test_a_bold_moment_label_makes_the_list_after_it_readings_of_that_moment() -> None:
    text = (
        "# Session notes\n\n## Impact\n\n"
        "**Before Fixes**:\n- Worker service: 100% down (5 errors in 2h)\n- Coverage: 0%\n\n"
        "**After Fixes**:\n- Worker service: ✅ Healthy\n- Coverage: Still 0% (recovery running)\n\n"
        "**Notes**:\n- Queue: drained by hand\n"
    )
    result = extract(text.encode(), source="notes.md")
    got = [(h.area, h.raw, h.when) for h in result.health]
    assert got == [
        ("Worker service", "100% down (5 errors in 2h)", "before"),
        ("Coverage", "0%", "before"),
        ("Worker service", "Healthy", "current"),
        ("Coverage", "Still 0% (recovery running)", "current"),
    ], "a list under a label that names no moment is not read as states"


def test_a_numbered_section_of_severity_led_items_is_their_container_not_one_finding() -> None:
    text = (
        "# Status\n\n## 1. Confirmed Actions\n\n- [x] Keys rotated\n- [x] Backups reviewed\n\n"
        "## 2. Remaining Risks\n\n"
        "- Critical: Old commits may hold secrets — purge planning required.\n"
        "- Medium: `ci.yml` still reads secrets from the repository.\n\n"
        "## 3. SQL injection in search\n\nThe query is built by string formatting.\n"
    )
    result = extract(text.encode(), source="status.md")
    got = [(f.title, f.severity, f.status) for f in result.findings]
    assert got == [
        ("Old commits may hold secrets", "critical", "identified"),
        ("ci.yml still reads secrets from the repository", "medium", "identified"),
        ("SQL injection in search", None, "identified"),
    ]
    (checklist,) = result.phases
    assert [(i.text, i.done) for i in checklist.items] == [
        ("Keys rotated", True),
        ("Backups reviewed", True),
    ]


def test_id_led_sub_items_of_a_plan_item_are_the_findings_it_tracks() -> None:
    text = (
        "# Verification\n\n## Next Steps\n\n"
        "1. **Address High-Priority Bugs** (2 remaining):\n"
        "   - PAY-N3-004: Hardcoded fee calculation\n"
        "   - PAY-N3-011: No rate limiting on sensitive endpoints\n"
        "2. **Run load tests**:\n   - Run K6 against staging\n"
    )
    result = extract(text.encode(), source="verify.md")
    got = [(f.ref, f.title, f.severity, f.status) for f in result.findings]
    assert got == [
        ("PAY-N3-004", "Hardcoded fee calculation", "high", "identified"),
        ("PAY-N3-011", "No rate limiting on sensitive endpoints", "high", "identified"),
    ]
    (plan,) = result.phases
    assert [i.finding_refs for i in plan.items] == [["F1", "F2"], []]


def test_a_titles_trailing_file_aside_is_its_place_not_its_name() -> None:
    text = (
        "# Fixes\n\n## Fixes Applied\n\n### ✅ C6: Queue Saturation (hub.js)\n\n"
        "The queue had no size limit.\n\n### ✅ C7: Retry storm (`net/retry.py`, `net/pool.py`)\n\n"
        "Backoff added.\n\n### ✅ C8: Handles dates (e.g. 2024)\n\nParsed.\n"
    )
    result = extract(text.encode(), source="fixes.md")
    got = [(f.title, [p.path for p in f.files]) for f in result.findings]
    assert got == [
        ("Queue Saturation", ["hub.js"]),
        ("Retry storm", ["net/retry.py", "net/pool.py"]),
        ("Handles dates (e.g. 2024)", []),
    ]


def test_a_heading_naming_one_fix_holds_its_properties_not_more_findings() -> None:
    text = (
        "# Fixes\n\n## Bugs Fixed\n\n- ✅ Cache query uses the wrong clock (`db/cache.py`)\n\n"
        "## Stability\n\n### Cache Fix:\n\n- ✅ Uses the standard `datetime`\n- ✅ Simpler logic\n"
    )
    result = extract(text.encode(), source="fixes.md")
    assert [f.title for f in result.findings] == ["Cache query uses the wrong clock"]


def test_a_field_heading_in_a_set_of_issues_is_part_of_it_in_any_language() -> None:
    text = (
        "# バグ修正レポート\n\n## 問題概要\n\n### 症状\n\n画像が表示されない。\n\n"
        "### 根本原因\n\nパスが二重になる。\n\n## Known Issues\n\n### Root Cause\n\nA race.\n\n"
        "### Missing retry components\n\n`net/retry.py` has no backoff.\n"
    )
    result = extract(text.encode(), source="report.md")
    assert [f.title for f in result.findings] == ["Missing retry components"]


def test_a_tally_of_the_work_is_not_the_health_of_an_area() -> None:
    text = (
        "# Fixes\n\n## Summary Statistics\n\n- **Critical Issues Fixed**: 5/5 (100%)\n"
        "- **Files Modified**: 1 (app.py)\n- **Memory**: ✅ Stable\n"
    )
    result = extract(text.encode(), source="fixes.md")
    assert [(h.area, h.status) for h in result.health] == [("Memory", "stable")]


def test_a_file_keyed_table_gives_each_finding_it_cites_that_file() -> None:
    text = (
        "# Tracker\n\n## Bugs\n\n| ID | Bug | Status | Notes |\n|---|---|---|---|\n"
        "| C1 | Return emits a dead value | DONE | ~L475 |\n"
        "| C3 | Hash dispatch mismatch | DONE | |\n\n"
        "## File Impact Summary\n\n| File | Changes |\n|---|---|\n"
        "| [src/codegen/mod.rs](src/codegen/mod.rs) | C1: Return fix. C3+C9: hash path gone. |\n"
        "| `src/lexer.rs` | P1: new keywords |\n"
    )
    result = extract(text.encode(), source="tracker.md")
    got = {f.ref: [(p.path, p.lines) for p in f.files] for f in result.findings}
    # C9 and P1 are no finding's ID: nothing is made of them. C1's line joins its one file.
    assert got == {
        "C1": [("src/codegen/mod.rs", [[475, 475]])],
        "C3": [("src/codegen/mod.rs", [])],
    }


def test_a_titles_trailing_grade_is_its_severity_not_its_name() -> None:
    text = (
        "# Fixes\n\n## Fixes Applied\n\n### 1. ✅ Blake Threshold Test Bounds (P3 - LOW)\n\n"
        "Bounds widened in `tests/test_blake.py`.\n\n### 2. ✅ Missing log_audit_event()\n\n"
        "Added in `audit.py`.\n\n### 3. ✅ Queue Drain (High)\n\nDrains in `queue.py`.\n"
    )
    result = extract(text.encode(), source="fixes.md")
    got = [(f.title, f.severity) for f in result.findings]
    assert got == [
        ("Blake Threshold Test Bounds", "low"),
        ("Missing log_audit_event()", None),
        ("Queue Drain", "high"),
    ]
