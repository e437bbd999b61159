"""Formatting only: no queries, no side effects."""

import nh3
from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from findings.lifecycle import Event, Status

register = template.Library()

# What a document's prose (a claim's problem or fix, a document finding's message) may keep
# of its Markdown: paragraphs, lists, code, emphasis and links. No headings, tables or images.
_PROSE = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).disable(
    ["image", "heading", "lheading", "table", "html_block", "html_inline"], ignoreInvalid=True
)
_PROSE_TAGS = {"p", "br", "ul", "ol", "li", "code", "pre", "em", "strong", "a", "blockquote"}

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


@register.filter
def prose(text: str) -> SafeString:
    """A document's prose as HTML: its Markdown links become links (http, https and mailto
    only, ``rel="noopener noreferrer nofollow"``), code and emphasis are kept, raw HTML is
    shown as text, and nh3 removes anything else (scripts, event handlers, other schemes)."""
    html = _PROSE.render(str(text or ""))
    clean = nh3.clean(
        html,
        tags=_PROSE_TAGS,
        attributes={"a": {"href", "title"}},
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https", "mailto"},
    )
    return mark_safe(clean)  # noqa: S308 - cleaned by nh3 just above


@register.filter
def with_document_link(note: str, url: str) -> SafeString:
    """A report's note (escaped, line breaks kept) whose "the document page" links to ``url``
    (no link without one)."""
    html = linebreaksbr(note, autoescape=True)
    if not url:
        return html
    link = format_html('<a href="{}">the document page</a>', url)
    return mark_safe(html.replace("the document page", link))  # noqa: S308 - both escaped


CHECK_WORDS = {
    "commit_exists": "the commit exists",
    "on_branch": "the commit is on the branch",
    "commit_cites_finding": "the commit names the finding",
    "file_resolved": "the named file is found in the repository",
    "touches_file": "the commit changes the file",
    "diff_overlaps": "the commit changes the claimed lines",
    "before_absent_at_commit": "the BEFORE code is gone after the fix",
    "after_present_at_commit": "the AFTER code is there after the fix",
    "before_absent_at_head": "the BEFORE code is still gone today",
    "after_present_at_head": "the AFTER code is still there today",
}


@register.filter
def check_words(name: str) -> str:
    """A claim check's name as the question it answers ("touches_file" -> "the commit
    changes the file"); an unknown name as words."""
    return CHECK_WORDS.get(name, (name or "").replace("_", " "))
