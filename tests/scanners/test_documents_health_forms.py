"""Health readings in headings and verdict lines, each pinned by a small document (issue 13)."""

from __future__ import annotations

import pytest

from scanners.documents import extract


def _readings(text: str) -> list[tuple[str, str, str]]:
    result = extract(text.encode(), source="status.md")
    return [(h.area, h.raw, h.status) for h in result.health]


def test_a_health_heading_that_states_a_score_is_a_reading_and_its_items_are_too() -> None:
    text = (
        "# Status Report\n\n## Summary\n\n### Platform Health Score: 82/100\n\n"
        "- **Queue**: ✅ **STABLE** - drains within a minute\n"
        "- **Search**: ⚠️ **DEGRADED** - slow facets\n"
    )
    assert [(a, s) for a, _, s in _readings(text)] == [
        ("Platform Health Score", "healthy"),
        ("Queue", "stable"),
        ("Search", "degraded"),
    ]


def test_a_health_heading_without_a_state_gives_only_its_items() -> None:
    text = "# Report\n\n## System Health\n\n- **Queue**: ✅ Stable\n"
    assert [a for a, _, _ in _readings(text)] == ["Queue"]


_RISK_FIELDS = (
    "# Release Review\n\n## Outcome\n\n**Risk Level**: MEDIUM (two services unpatched)\n\n"
    "**Deployment Risk**: LOW\n\n**Risk**: data loss when the queue overflows\n"
)
_RISK_TABLE = (
    "# Migration\n\n## Rollout\n\n| Scenario | Behaviour | Risk |\n|---|---|---|\n"
    "| Empty database | Tables created | None |\n| Large tenant | Slow backfill | Medium |\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            _RISK_FIELDS,
            [
                ("Risk Level", "MEDIUM (two services unpatched)", "degraded"),
                ("Deployment Risk", "LOW", "stable"),
            ],
        ),
        (
            _RISK_TABLE,
            [("Empty database", "None", "healthy"), ("Large tenant", "Medium", "degraded")],
        ),
    ],
    ids=["fields", "table-column"],
)
def test_a_level_of_risk_is_the_reading_of_its_area(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert _readings(text) == expected


def test_rows_of_scenarios_are_projected_readings() -> None:
    text = _RISK_TABLE
    # Scenarios are what would happen: readings of the projected state.
    assert {h.when for h in extract(text.encode(), source="m.md").health} == {"projected"}


def test_no_risk_as_a_field_of_a_fix_is_no_reading() -> None:
    text = "# Fixes\n\n## Cache Fix\n\n- **Risk:** None\n- **Risk Level:** Low\n"
    assert _readings(text) == [("Risk Level", "Low", "stable")]


def test_a_metric_table_with_no_status_column_reads_each_metric_across_its_columns() -> None:
    text = (
        "# Load Review\n\n## Scaling\n\n| Metric | 10 Users | 500 Users |\n|---|---|---|\n"
        "| **Response Time** | 80ms | 2s |\n| Error Rate | 0% | 4% |\n"
    )
    assert _readings(text) == [
        ("Response Time", "10 Users: 80ms; 500 Users: 2s", "unknown"),
        ("Error Rate", "10 Users: 0%; 500 Users: 4%", "unknown"),
    ]
