"""Health readings in headings and verdict lines, each pinned by a small document (issue 13)."""

from __future__ import annotations

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


def test_a_level_of_risk_is_the_reading_of_its_area() -> None:
    text = (
        "# Release Review\n\n## Outcome\n\n**Risk Level**: MEDIUM (two services unpatched)\n\n"
        "**Deployment Risk**: LOW\n\n**Risk**: data loss when the queue overflows\n"
    )
    assert _readings(text) == [
        ("Risk Level", "MEDIUM (two services unpatched)", "degraded"),
        ("Deployment Risk", "LOW", "stable"),
    ]
