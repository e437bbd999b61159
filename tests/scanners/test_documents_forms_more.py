"""More structural forms, each pinned by a small document written for it (issue 13).

Commits named once in the document's header; headings that name a moment or a check
rather than a problem; tables that are timelines or test matrices rather than readings.
"""

from __future__ import annotations

from scanners.documents import extract


def test_the_header_commit_is_the_commit_of_each_fix_that_names_none() -> None:
    text = (
        "# Fixes Applied\n**Date:** 2025-03-01\n**Commit:** `a1b2c3d`\n\n"
        "## Bugs Fixed\n\n### 1. Cache query ✅ FIXED\n\n**File:** `db/cache.py:32`\n\n"
        "### 2. Retry loop ✅ FIXED\n\n**File:** `net/retry.py:8`\n\n**Commit:** `9f8e7d6`\n\n"
        "## History\n\n- `0a1b2c3` - earlier work\n- `a1b2c3d` - this commit\n"
    )
    result = extract(text.encode(), source="fixes.md")
    assert [(f.title, f.commits) for f in result.findings] == [
        ("Cache query", ["a1b2c3d"]),
        ("Retry loop", ["9f8e7d6"]),
    ]


def test_a_qualified_commit_label_in_the_header_is_the_branchs_state_not_the_fix() -> None:
    text = (
        "# Session Notes\n**Latest Commit:** `a1b2c3d`\n\n## Bugs Fixed\n\n"
        "### 1. Cache query ✅ FIXED\n\n**File:** `db/cache.py:32`\n\n"
        "## History\n\n- `0a1b2c3` - earlier work\n"
    )
    result = extract(text.encode(), source="notes.md")
    assert [(f.title, f.commits) for f in result.findings] == [("Cache query", [])]


def test_a_timeline_table_gives_events_not_readings() -> None:
    text = (
        "# Session\n\n## Timeline\n\n| Time | Event | Status |\n|---|---|---|\n"
        "| 09:10 AM | Started the deploy | ⏳ |\n| 09:40 AM | Deploy verified | ✅ |\n\n"
        "## Services\n\n| Service | Status |\n|---|---|\n| API | ✅ Healthy |\n"
    )
    result = extract(text.encode(), source="session.md")
    assert [(h.area, h.status) for h in result.health] == [("API", "healthy")]


def test_a_matrix_of_single_test_cases_is_not_a_reading_per_case() -> None:
    text = (
        "# Validation\n\n## Results\n\n| Test | Before | After |\n|---|---|---|\n"
        "| 1.1 Threshold | ❌ FAIL | ✅ PASS |\n| 1.2 Frequency | ✅ PASS | ✅ PASS |\n\n"
        "## Suites\n\n| Test Category | Status |\n|---|---|\n| Core monads | ✅ PASS |\n"
    )
    result = extract(text.encode(), source="validation.md")
    assert [(h.area, h.raw) for h in result.health] == [("Core monads", "PASS")]


def test_a_cjk_heading_names_a_set_of_fixes_only_when_the_word_ends_it() -> None:
    text = (
        "# 修正レポート\n\n## 実施した修正\n\n- ✅ `api.py` のタイムアウトを追加\n\n"
        "## 修正が対応するケース\n\n1. ✅ **旧データ**: 互換性あり\n2. ✅ **Null値**: 安全に処理\n"
    )
    result = extract(text.encode(), source="report.md")
    assert [f.title for f in result.findings] == ["api.py のタイムアウトを追加"]


def test_numbered_steps_under_a_verification_heading_are_not_findings() -> None:
    text = (
        "# Fix Report\n\n## Fixes Applied\n\n### 1. Normalise upload paths\n\n"
        "Changed `server.js` line 100.\n\n## Verification Results\n\n"
        "### 1. Restart the backend\n\n```\npm2 restart api\n```\n\n"
        "### 2. Database check\n\nAll 74 paths are relative.\n"
    )
    result = extract(text.encode(), source="report.md")
    assert [f.title for f in result.findings] == ["Normalise upload paths"]


def test_items_of_a_status_section_that_read_an_area_are_health_readings() -> None:
    text = (
        "# Fix Report\n\n## Security Status\n\n- **API Keys:** ✅ Securely stored\n"
        "- ✅ No vulnerable packages detected\n- Reviewed by the team\n"
    )
    result = extract(text.encode(), source="report.md")
    # A marked line without an area is a claim of the work done, not a reading.
    assert [(h.area, h.status) for h in result.health] == [("API Keys", "healthy")]
    assert result.document.headline_claims == ["No vulnerable packages detected"]


def test_items_under_a_plans_severity_band_are_issues_of_that_grade_and_plan_items() -> None:
    text = (
        "# Report\n\n## Next Steps\n\n### High Priority (Blockers)\n\n"
        "- Budget manager race conditions\n- [x] File locking in writes\n\n"
        "### Week 1: Critical Fixes\n\n- Fix the build (Day 1-2)\n"
    )
    result = extract(text.encode(), source="report.md")
    got = [(f.title, f.severity, f.status) for f in result.findings]
    assert got == [
        ("Budget manager race conditions", "high", "identified"),
        ("File locking in writes", "high", "fixed"),
    ]
    assert [len(p.items) for p in result.phases] == [2, 1]


def test_a_fix_made_of_labelled_sub_issues_gives_one_finding_per_sub_issue() -> None:
    text = (
        "# Session\n\n## Fixes Implemented\n\n### Fix #1: Service boot failure\n\n"
        "**Commits**: 48b9389f\n\n#### Sub-Issue 1A: Optional driver import\n\n"
        "Guarded the import in `config.py`.\n\n#### Sub-Issue 1B: Wrong import paths\n\n"
        "Three paths fixed in `utils.py`.\n\n### Fix #2: Stale dependency check\n\n"
        "Uses the latest date in `deps.py`.\n\n**Commit**: 640cfcba\n"
    )
    result = extract(text.encode(), source="session.md")
    got = [(f.ref, f.title, f.commits) for f in result.findings]
    assert got == [
        ("Sub-Issue 1A", "Optional driver import", ["48b9389f"]),
        ("Sub-Issue 1B", "Wrong import paths", ["48b9389f"]),
        ("Fix #2", "Stale dependency check", ["640cfcba"]),
    ]


def test_each_sub_issue_keeps_its_own_files_and_commit_and_inherits_the_fix_commit_otherwise() -> (
    None
):
    text = (
        "# Session\n\n## Fixes Implemented\n\n### Fix #1: Worker boot failure\n\n"
        "**Commits**: 1a2b3c4d\n\n#### Sub-Issue 1A: Wrong import paths\n\n"
        "Shared code must import from `shared.utils`.\n\n**Files Changed**:\n"
        "- lib/queue/consumer.py (2 imports fixed)\n- lib/config/dates.py (1 import fixed)\n\n"
        "#### Sub-Issue 1B: Duplicate base class\n\n"
        "**Root Cause**: the refactoring in commit 9f8e7d6c moved the mixin into the base.\n\n"
        "**Fix**:\nRemoved the duplicate base in `jobs/cache_job.py`.\n\n"
        "#### Sub-Issue 1C: Retry storm\n\n**Fix**:\nCapped retries in `net/retry.py`, "
        "commit 5e6f7a8b.\n"
    )
    result = extract(text.encode(), source="session.md")
    got = [(f.ref, [r.path for r in f.files], f.commits) for f in result.findings]
    assert got == [
        ("Sub-Issue 1A", ["lib/queue/consumer.py", "lib/config/dates.py"], ["1a2b3c4d"]),
        # The commit it names caused the bug: the fix commit is still the parent's.
        ("Sub-Issue 1B", ["jobs/cache_job.py"], ["9f8e7d6c", "1a2b3c4d"]),
        ("Sub-Issue 1C", ["net/retry.py"], ["5e6f7a8b"]),
    ]


def test_a_before_marker_in_a_code_block_that_names_a_file_gives_the_place() -> None:
    text = (
        "# Fixes\n\n## Fixes Applied\n\n### Fix #1: Optional driver import\n\n"
        "```python\n# Before (shared/config.py:4):\nimport driver\n\n# After:\n"
        "try:\n    import driver\nexcept ImportError:\n    driver = None\n```\n"
    )
    result = extract(text.encode(), source="fixes.md")
    [finding] = result.findings
    assert [(f.path, f.lines) for f in finding.files] == [("shared/config.py", [[4, 4]])]
    assert finding.before == ["import driver"]


def test_a_trailing_priority_or_status_aside_grades_a_heading_and_leaves_its_title() -> None:
    text = (
        "# Audit\n\n## Critical Issues\n\n### 1. Time-based filtering ❌ (HIGH PRIORITY)\n\n"
        "Only shows data after `last_handover`.\n\n"
        "### 2. Data validation ✅ (FIXED - October 4, 2025)\n\nChecks in `save.ts`.\n\n"
        "### 3. Cache warmup (PARTIALLY RESOLVED)\n\nHalf done in `cache.py`.\n"
    )
    result = extract(text.encode(), source="audit.md")
    got = [(f.title, f.severity, f.status) for f in result.findings]
    assert got == [
        ("Time-based filtering", "high", "identified"),
        ("Data validation", "critical", "fixed"),
        ("Cache warmup", "critical", "partially_fixed"),
    ]


def test_a_priority_code_or_items_frames_a_headings_severity_for_its_rows() -> None:
    text = (
        "# Status\n\n## P0 - Critical ✅\n\n| Task | File | Status |\n|---|---|---|\n"
        "| Notebook runs | `nb/run.py` | ✅ Done |\n\n## All Critical Items Addressed\n\n"
        "### 1. Starlette DoS (CVE-2025-62727)\n\nPinned in `pyproject.toml:31`.\n"
    )
    result = extract(text.encode(), source="status.md")
    assert [(f.title, f.severity) for f in result.findings] == [
        ("Notebook runs", "critical"),
        ("Starlette DoS (CVE-2025-62727)", "critical"),
    ]


def test_a_test_heading_over_only_a_status_table_gives_readings_not_a_checklist() -> None:
    text = (
        "# Status\n\n## Test Categories Performance\n\n| Category | Pass Rate | Status |\n"
        "|---|---|---|\n| Unit Tests | ~75% | ⚠️ Needs work |\n| Integration Tests | 97% | ✅ Good |\n\n"
        "## Testing\n\n- [x] Smoke test passes\n"
    )
    result = extract(text.encode(), source="status.md")
    assert [(h.area, h.raw) for h in result.health] == [
        ("Unit Tests", "Needs work"),
        ("Integration Tests", "Good"),
    ]
    assert [(p.name, p.kind) for p in result.phases] == [("Testing", "checklist")]


def test_labelled_items_under_a_risk_level_heading_read_their_areas_at_that_level() -> None:
    text = (
        "# Status\n\n## Risk Assessment\n\n### Critical Risks 🔴\n\n"
        "1. **Technical Debt**: 4 weeks of work remaining\n\n### Low Risks 🟢\n\n"
        "1. **Stability**: Emergency fixes complete\n2. Nothing else to report\n"
    )
    result = extract(text.encode(), source="status.md")
    assert [(h.area, h.status, h.raw) for h in result.health] == [
        ("Technical Debt", "critical", "4 weeks of work remaining"),
        ("Stability", "stable", "Emergency fixes complete"),
    ]


def test_a_bare_list_item_restating_a_row_folds_into_it_by_number_within_its_band() -> None:
    text = (
        "# Bug Status\n\n## High Severity Bugs\n\n| # | Description | File | Status |\n"
        "|---|---|---|---|\n| 7 | JSON decode unchecked | `ajax.php` | ✅ FIXED |\n\n"
        "## Low Severity Bugs\n\n| # | Description | File | Status |\n|---|---|---|---|\n"
        "| 7 | Missing curl timeout | `net.php` | ✅ FIXED |\n\n## Detailed List\n\n"
        "### High\n\n7. ✅ JSON no check → Data corruption\n\n### Low\n\n"
        "7. ✅ Curl wait → Hang\n"
    )
    result = extract(text.encode(), source="bugs.md")
    got = [(f.title, f.severity, [p.path for p in f.files]) for f in result.findings]
    assert got == [
        ("JSON decode unchecked", "high", ["ajax.php"]),
        ("Missing curl timeout", "low", ["net.php"]),
    ]


def test_numbered_checks_under_a_positive_findings_heading_are_readings_not_issues() -> None:
    text = (
        "# Security Audit\n\n## ✅ Positive Findings\n\n### 1. No Hardcoded Secrets\n\n"
        "- **Status:** ✅ PASS\n- Nothing found in `src/`\n\n### 2. Clean Git History\n\n"
        "- **Status:** ✅ PASS\n\n## Security Concerns\n\n"
        "### 1. Input Validation (LOW-MEDIUM PRIORITY)\n\nNo checks in `config.js`.\n"
    )
    result = extract(text.encode(), source="audit.md")
    assert [(h.area, h.status, h.raw) for h in result.health] == [
        ("No Hardcoded Secrets", "healthy", "PASS"),
        ("Clean Git History", "healthy", "PASS"),
    ]
    assert [(f.title, f.severity) for f in result.findings] == [("Input Validation", "low")]


def test_bold_named_items_under_an_issues_heading_are_open_issues_and_tallies_are_not() -> None:
    text = (
        "# Audit\n\n## Security Concerns\n\n### Current Issues\n\n"
        "1. **No Audit Log**: Cannot track who viewed what\n"
        "2. **Counted**: 4 of 7\n\n## Lessons\n\n1. **Avoid Reserved Names:** check them first\n"
    )
    result = extract(text.encode(), source="audit.md")
    assert [(f.title, f.status) for f in result.findings] == [("No Audit Log", "identified")]


def test_a_status_column_led_by_marks_is_read_before_a_state_column() -> None:
    text = (
        "# Handoff\n\n## Supported Cities\n\n| City | State | Status |\n|---|---|---|\n"
        "| Denver | CO | ✅ Ready |\n| Dallas | TX | 🔴 BLOCKED |\n"
    )
    result = extract(text.encode(), source="handoff.md")
    assert [(h.area, h.raw) for h in result.health] == [("Denver", "Ready"), ("Dallas", "BLOCKED")]


def test_a_heading_that_leads_with_before_or_after_a_phase_is_a_moment_not_a_phase() -> None:
    text = (
        "# Phase 1 Report\n\n## Impact\n\n### Before Phase 1:\n\n"
        "- **Runtime Errors**: 3 confirmed crash risks\n\n### After Phase 1:\n\n"
        "- **Runtime Errors**: 0 crash risks\n\n## Phase 2: Hardening\n\n- Add retries\n"
    )
    result = extract(text.encode(), source="report.md")
    assert [(h.area, h.when) for h in result.health] == [
        ("Runtime Errors", "before"),
        ("Runtime Errors", "current"),
    ]
    assert [p.name for p in result.phases] == ["Phase 2: Hardening"]


def test_lines_given_roughly_are_marked_approximate_and_keep_their_numbers() -> None:
    text = (
        "# Fixes\n\n## Fix 1: Session leak ✅\n\n**File:** `app/db.py`\n"
        "**Lines:** ~406, 500-510\n\nThe pool is closed around line 620 now.\n\n"
        "## Fix 2: Retry loop ✅\n\n**File:** `net/retry.py` (lines 8-12, ~10)\n"
    )
    result = extract(text.encode(), source="fixes.md")
    files = result.to_dict()["findings"][0]["files"]
    assert files == [
        {
            "path": "app/db.py",
            "lines": [[406, 406], [500, 510], [620, 620]],
            "approximate": [[406, 406], [620, 620]],
        }
    ]
    # "~10" inside an exact range adds nothing rough: the exact range says where.
    assert result.to_dict()["findings"][1]["files"] == [
        {"path": "net/retry.py", "lines": [[8, 12]]}
    ]


def test_a_code_block_fenced_as_another_language_than_the_file_is_an_illustration() -> None:
    text = (
        "# Fixes\n\n## Fix 1: Stale rows ✅\n\n**File:** `app/mixin.py`\n\n"
        "**Before:**\n```python\nrows = fetch(all=True)\n```\n\n"
        "**After:**\n```python\nrows = fetch(fresh=True)\n```\n\n"
        "**Example**:\n```sql\n-- New (FIXED):\nSELECT * FROM rows WHERE fresh;\n```\n\n"
        "## Fix 2: Timeouts ✅\n\n**File:** `web/client.ts`\n\n"
        "**After:**\n```javascript\nfetch(url, { signal: timeout(5000) })\n```\n"
    )
    first, second = extract(text.encode(), source="fixes.md").findings
    assert first.before == ["rows = fetch(all=True)"]
    assert first.after == ["rows = fetch(fresh=True)"]
    assert any("SELECT * FROM rows" in code for code in first.code)
    # JavaScript and TypeScript are one family: the block is the file's code.
    assert second.after == ["fetch(url, { signal: timeout(5000) })"]
