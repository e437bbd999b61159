"""List items that carry their own facts: a leading severity ("Critical: …"), an issue ID
("BUG-N03-004: …"), or a checkbox, and the sections whose lists are made of them; and the
one-line and prose findings that are not headings."""

from __future__ import annotations

import re

from scanners.documents import fields as F
from scanners.documents import signals as S
from scanners.documents import vocabulary as V
from scanners.documents import words as W
from scanners.documents.findings import Draft, clean_title, heading_status
from scanners.documents.statements import split_title
from scanners.documents.structure import Item, Line, Section, strip_marker

# "BUG-N03-004: Hardcoded fee calculation": an ID with a letter prefix and a number.
SUB_ID_RE = re.compile(
    r"^(?P<ref>[A-Z][A-Z0-9]{0,9}(?:-[A-Z0-9]{1,8})*-\d{1,5})\s*[:—–]\s+(?P<title>\S.{3,})$"
)

_SEVERITY_LEAD_RE = re.compile(r"^\W*(?:\*\*)?(?P<word>[\w-]{2,12})(?:\*\*)?\s*[:—–]\s*(?=\S)")


def severity_lead(text: str) -> re.Match[str] | None:
    """``"Critical: Past commits …"``: the item's leading severity word and its colon."""
    lead = _SEVERITY_LEAD_RE.match(text)
    return lead if lead and S.severity_in(lead.group("word")) else None


def holds_own_items(sec: Section) -> str | None:
    """What the section's only list holds when its items each carry a checkbox
    (``"checkbox"``) or lead with a severity (``"severity"``, "Critical: …"): several
    items of their own, not one finding's details. None otherwise."""
    lists = [b for b in sec.blocks if b.kind == "list"]
    if len(lists) != 1 or len(lists[0].items) < 2:
        return None
    items = lists[0].items
    for kind, has in (
        ("checkbox", lambda item: item.checked is not None),
        ("severity", lambda item: severity_lead(item.first.text) is not None),
    ):
        if sum(map(has, items)) * 3 >= len(items) * 2:
            return kind
    return None


def sub_findings(item: Item, section: list[str], accounted: set[int]) -> list[Draft]:
    """A plan item's sub-items led by an issue ID ("BUG-12: Hardcoded fee"): the findings it
    tracks, open unless they say otherwise, with the item's severity ("High-Priority Bugs")."""
    severity = S.severity_in(item.first.text)
    drafts = []
    for ln in item.rest:
        m = SUB_ID_RE.match(W.strip_decoration(strip_marker(ln.text)))
        if not m or ln.number in accounted:
            continue
        draft = Draft(
            ref=m.group("ref"),
            title=clean_title(m.group("title")),
            line=ln.number,
            section=section,
            heading_status=heading_status(m.group("title")) or S.IDENTIFIED,
            backticks_anywhere=True,
        )
        draft.origin = "item"
        if severity:
            draft.field_severity = severity
        draft.scan(m.group("title"))
        draft.used.add(ln.number)
        drafts.append(draft)
    return drafts


# "C1: Statement::Return ...", "**SEC-4** — ...": a list item led by its own ID.
_ITEM_ID_RE = re.compile(r"^(?P<ref>[A-Z]{1,4}-?\d{1,4})\s*[:—–-]\s+(?P<title>\S.*)$")
_CONCRETE_RE = re.compile(r"`[^`]+`|\]\(|\blines?\s+\d|\bzeilen?\s+\d|\blignes?\s+\d", re.I)


# "### Current Issues" over "1. **No Audit Log**: Can't track who viewed what": under a
# heading that names problems (not fixes), an item that names itself in bold is an issue.
_ISSUE_SET_RE = re.compile(
    r"\b(?:issues|problems|concerns|gaps|vulnerabilities|weaknesses|defects|bugs)\b|"
    + V.alternation(
        "problemi|problemas|problèmes|probleme|schwachstellen|lacune|lacunas|проблемы|"
        "уязвимости|问题|漏洞|問題|課題|문제".split("|")
    ),
    re.I,
)
_NAMED_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*\*\*[^*]{3,60}\*\*\s*:?\s*[^\W\d_]")


def item_draft(item: Item, sec: Section, path: list[str]) -> Draft | None:
    """A one-line finding: a list item directly under a heading that names issues.

    Only items that say something checkable count: a checkbox, a status or severity
    signal, a file, a line or a commit. Advice like "**Avoid Reserved Names:**" does not.
    """
    text = item.first.text
    full = " ".join(ln.text for ln in item.lines)
    named = bool(_ISSUE_SET_RE.search(sec.title) and _NAMED_RE.match(text))
    if not (
        item.checked is not None
        or heading_status(text)
        or S.status_in(sec.title)
        or S.severity_in(text, heading=True)
        or _CONCRETE_RE.search(full)
        or F.commits_in(full)
        or named
    ):
        return None
    lead = severity_lead(text)
    title, rest = split_title(text[lead.end() :] if lead else text)
    labelled = _ITEM_ID_RE.match(W.strip_decoration(text))
    if labelled and not item.number:
        title = clean_title(labelled.group("title"))
    draft = Draft(
        ref=item.number or (labelled.group("ref") if labelled else None),
        title=title,
        line=item.first.number,
        section=path,
        heading_status=None,
        backticks_anywhere=True,
    )
    severity = S.severity_in(text, heading=True) or (S.severity_in(lead.group(0)) if lead else None)
    if severity:
        draft.field_severity = severity
    default = S.IDENTIFIED if named else None  # an issue named under "Current Issues" is open
    _read_item(draft, item, labelled.group("title") if labelled else text, rest, default)
    return draft


def prose_draft(lines: list[Line], path: list[str]) -> Draft | None:
    """A paragraph under an issue heading that names a file, line or commit."""
    text = " ".join(ln.text.strip() for ln in lines)
    if not (_CONCRETE_RE.search(text) or F.commits_in(text)):
        return None
    title, _ = split_title(text)
    draft = Draft(
        ref=None,
        title=title,
        line=lines[0].number,
        section=path,
        backticks_anywhere=True,
    )
    draft.field_status = S.status_in(text)
    draft.field_status_source = "content"
    draft.current = "fix" if draft.field_status == S.FIXED else "problem"
    for ln in lines:
        draft.text(ln.text)
        draft.used.add(ln.number)
    return draft


def band_draft(item: Item, band: str, path: list[str]) -> Draft:
    """An item under a plan's severity band ("### High Priority" in "Next Steps"): an issue of
    that grade, open unless its own mark or checkbox says it is done."""
    text = item.first.text
    title, rest = split_title(text)
    draft = Draft(ref=None, title=title, line=item.first.number, section=path)
    draft.backticks_anywhere = True
    draft.field_severity = S.severity_in(band, heading=True)
    _read_item(draft, item, text, rest, S.IDENTIFIED)
    return draft


def _read_item(draft: Draft, item: Item, text: str, rest: str, default: str | None) -> None:
    """Status from the checkbox, else the item's own mark (else ``default``); then its
    text, its rest and its sub-lines."""
    draft.origin = "item"
    if item.checked is not None:
        draft.field_status = S.FIXED if item.checked else S.IDENTIFIED
        draft.field_status_source = "checkbox"
    else:
        draft.heading_status = heading_status(item.first.text) or default
    draft.current = "fix" if draft.field_status == S.FIXED else "problem"
    draft.scan(text)
    if rest:
        draft.parts[draft.current].append(rest)
    for ln in item.rest:
        draft.add_line(ln)
    draft.used.add(item.first.number)
