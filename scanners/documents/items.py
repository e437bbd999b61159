"""List items that carry their own facts: a leading severity ("Critical: …"), an issue ID
("BUG-N03-004: …"), or a checkbox, and the sections whose lists are made of them."""

from __future__ import annotations

import re

from scanners.documents import signals as S
from scanners.documents import words as W
from scanners.documents.findings import Draft, clean_title, heading_status
from scanners.documents.structure import Item, Section, strip_marker

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
