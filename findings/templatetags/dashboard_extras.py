"""Formatting for the dashboard pages: SVG coordinates, ages and bar widths. No queries."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def sparkline(levels: list[int], size: str = "120x32") -> str:
    """SVG polyline points for health levels (0 healthy .. 2 at risk), oldest left.

    ``size`` is "<width>x<height>"; a higher level is drawn lower, as a fall in health reads.
    A single reading is drawn as a flat line across the box.
    """
    width, height = (int(part) for part in size.split("x"))
    if not levels:
        return ""
    if len(levels) == 1:
        levels = levels * 2
    pad = 4
    step = (width - 2 * pad) / (len(levels) - 1)
    span = height - 2 * pad
    return " ".join(
        f"{pad + i * step:.1f},{pad + span * level / 2:.1f}" for i, level in enumerate(levels)
    )


@register.filter
def level_word(level: int) -> str:
    return {0: "healthy", 1: "degraded", 2: "at risk"}.get(level, "unknown")


@register.filter
def part_name(name: str, parent: str) -> str:
    """A sub-area's own name: "Security / API Keys" inside "Security" is "API Keys"."""
    prefix = f"{parent} / "
    return name[len(prefix) :] if name.casefold().startswith(prefix.casefold()) else name


@register.filter
def percent(part: int, whole: int) -> int:
    """``part`` of ``whole`` as a whole percentage, 0 when ``whole`` is 0."""
    return round(100 * part / whole) if whole else 0


@register.filter
def age(days: int) -> str:
    """Days as a reader scans them: "today", "3d", "5w", "14mo"."""
    if days < 1:
        return "today"
    if days < 21:
        return f"{days}d"
    if days < 120:
        return f"{days // 7}w"
    return f"{days // 30}mo"


@register.filter
def words(status: str) -> str:
    """A status key as words ("at_risk" -> "at risk")."""
    return (status or "").replace("_", " ")


@register.filter
def index(values: list, position: int):
    """``values[position]``, for tables that walk several series side by side."""
    return values[position]
