"""Formatting only: no queries, no side effects."""

from django import template

from findings.lifecycle import Event, Status

register = template.Library()

_ACTIONS = {
    "report_queued": "import queued",
    "report_done": "import finished",
    "report_failed": "import failed",
    "project_created": "project created",
    "scan_root": "scan root remembered",
    "moved": "Moved",
    "edited": "Flagged line changed, still reported",
}


@register.filter
def action_label(action: str) -> str:
    """A lifecycle event or log action as a reader would say it."""
    try:
        return Event(action).label
    except ValueError:
        return _ACTIONS.get(action, action.replace("_", " "))


@register.filter
def status_label(status: str) -> str:
    try:
        return Status(status).label
    except ValueError:
        return status or "—"
