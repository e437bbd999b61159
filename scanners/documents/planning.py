"""Planning sections: roadmap phases, sprints, next steps and checklists, and their items.

Which headings are planning is decided by vocabulary; what the items are is decided by
structure: the top-level list items directly under the heading (or under a planning label
such as "**Next Steps:**"), or numbered sub-headings ("### 1. Event Loop Test"). Items are
linked to the findings they mention, by explicit reference or by shared words.
"""

from __future__ import annotations

import re

from scanners.documents import signals as S
from scanners.documents import vocabulary as V
from scanners.documents import words as W
from scanners.documents.findings import clean_title, heading_status
from scanners.documents.model import Finding, PhaseItem
from scanners.documents.structure import Item, strip_marker

_PHASE_RE = re.compile(
    r"(?:\b(?:phase|stage|milestone|etappe|étape|meilenstein|jalon|wave|welle)|"
    + V.alternation(V.PHASE)
    + r")\s*[-#]?\s*\d+|"
    r"\broadmap\b|fahrplan|feuille de route",
    re.IGNORECASE,
)
_SPRINT_RE = re.compile(r"\bsprints?\b", re.IGNORECASE)
_CHECKLIST_RE = re.compile(
    r"check-?list|\btesting\b|\btests?\b|test plan|verification|verifizierung|vérification|"
    r"validation steps|\bqa\b|prüfliste|prüfung|liste de contrôle|recette",
    re.IGNORECASE,
)
_NEXT_RE = re.compile(
    r"next steps?|next actions?|action items?|immediate actions?|follow[- ]?ups?|\bto-?dos?\b|"
    r"recommendations?|recommended actions?|\bfuture\b|long[- ]term|short[- ]term|backlog|"
    r"open items|priorities|action plan|(?:actions?|items?|tasks?)\s+(?:still\s+)?pending|"
    r"pending\s+(?:actions?|items?|tasks?)|outstanding\s+(?:actions?|items?|tasks?|work)|"
    r"nächste schritte|empfehlungen|maßnahmen|"
    r"massnahmen|prochaines étapes|recommandations|actions à mener|plan d'action|"
    + V.alternation(V.SECTION["next_steps"] + V.SECTION["recommendations"]),
    re.IGNORECASE,
)
_NOT_PLAN_RE = re.compile(r"results?\b|\bstatus\b|ergebnis|résultat|summary|lessons", re.I)
_COLLECTION_RE = re.compile(
    r"\b(?:fixes|issues|bugs|findings|vulnerabilities|defects|problems|"
    r"fehler|befunde|schwachstellen|probleme|correctifs|problèmes|anomalies|failles|"
    r"vulnérabilités)\b|" + V.alternation(V.COLLECTION),
    re.IGNORECASE,
)
# Chinese, Japanese and Korean put the head noun last: "実施した修正" (the fixes made) names
# a set, "修正が対応する拡張性" (what the fix copes with) and "修正前後の比較" do not. A
# trailing aside ("（3件）", ": 2") may follow the noun.
_DENSE_COLLECTION_RE = re.compile(
    "(?:"
    + "|".join(re.escape(w) for w in V.COLLECTION if V.is_cjk(w))
    + r")\s*(?:[(（][^)）]*[)）])?[\s\W\d]*$"
)
_DONE_RE = re.compile(r"^(?:[✅✔✓☑]\ufe0f?|\[x\]|(?:\*\*)?(?:done|erledigt|fait)\b)", re.I)
_OPEN_RE = re.compile(r"^(?:[❌⏳🚧⬜☐]\ufe0f?|(?:\*\*)?(?:todo|to do|offen)\b)", re.I)
_DONE_PREFIX_RE = re.compile(
    r"^(?:[✅✔✓☑❌⏳🚧⬜☐📋]\ufe0f?\s*)*(?:\*\*)?(?:done|todo|erledigt|offen|fait)(?:\*\*)?"
    r"\s*[:\-–]?\s*(?:\*\*)?\s*:?\s*",
    re.IGNORECASE,
)
_REF_RE = re.compile(
    r"(?:\b(?:fix|issue|bug|finding|item)\s*#?\s*|#)(?P<n>[A-Z]{0,6}-?\d{1,4}(?:\.\d+)?)\b"
    r"|\((?P<p>[A-Z]{0,6}-?\d{1,4}(?:\.\d+)?)\)",
    re.I,
)


def planning_kind(title: str) -> str | None:
    """``phase``, ``sprint``, ``next_steps`` or ``checklist`` for a planning heading or label.

    Phases and sprints are recognised by their own words. Next steps and checklists give
    way to words that name a set of issues ("Recommended Fixes" holds findings) and to
    words that report rather than plan ("Validation Results", "Summary").
    """
    plain = W.strip_decoration(title)
    if _MOMENT_LEAD_RE.match(plain):
        return None  # "Before Phase 1:", "After Sprint 2": a moment of the plan, not a phase
    if _SPRINT_RE.search(plain):
        return "sprint"
    if _PHASE_RE.search(plain):
        return "phase"
    if _NOT_PLAN_RE.search(plain) or _COLLECTION_RE.search(plain):
        return None
    if _CHECKLIST_RE.search(plain):
        return "checklist"
    if _NEXT_RE.search(plain):
        return "next_steps"
    return None


_MOMENT_LEAD_RE = re.compile(
    r"^\W*(?:"
    + V.alternation(V.SECTION["before"] + V.SECTION["after"])
    + r")\s+(?:the\s+)?(?:phase|sprint|stage|milestone|"
    + V.alternation(V.PHASE)
    + r")",
    re.I,
)
_PREPOSITION_RE = re.compile(
    r"^(?:with|without|before|after|beyond|ohne|mit|vor|nach|avec|sans|avant|après)\b|"
    + r"^(?:"
    + V.alternation(V.SECTION["before"] + V.SECTION["after"])
    + r")|"
    r"lessons|best practices|prevent|avoid|guidelines|\btips\b|how to|verhindern|vermeiden|"
    r"éviter|bonnes pratiques",
    re.I,
)


def is_collection(title: str) -> bool:
    """Whether a heading names a set of issues or fixes ("Critical Bugs Discovered and Fixed").

    "Without Performance Fixes" or "Before Fixes" talk about the fixes, they do not list them.
    """
    plain = W.strip_decoration(title)
    found = [m.group(0) for m in _COLLECTION_RE.finditer(plain)]
    if not found or _PREPOSITION_RE.search(plain):
        return False
    return not all(map(V.is_cjk, found)) or bool(_DENSE_COLLECTION_RE.search(plain))


def item_state(text: str) -> bool | None:
    """Done (✅, DONE), not done (❌, ⏳, TODO) or None when the item does not say."""
    head = text.strip().lstrip("*_ ")
    if _DONE_RE.match(text.strip()) or _DONE_RE.match(head):
        return True
    if _OPEN_RE.match(text.strip()) or _OPEN_RE.match(head):
        return False
    return None


def item_done(text: str) -> bool | None:
    """Whether a plan item says it is done: its leading mark (:func:`item_state`), else the
    status its emoji, trailing word or bracketed tag signal ("Add timeouts ✓ DONE",
    "Rate limits (fixed)", "Retry policy — in progress"), read with the claim vocabulary.
    A recommendation or no signal at all is None: the item does not say."""
    state = item_state(text)
    if state is not None:
        return state
    status = heading_status(text)
    if status == S.FIXED:
        return True
    if status in (S.PARTIAL, S.IDENTIFIED):
        return False
    return None


def item_text(text: str) -> str:
    """An item's words without its marker, state emoji or "DONE:" prefix, or emphasis."""
    text = strip_marker(text)
    text = _DONE_PREFIX_RE.sub("", text)
    return W.strip_decoration(text)


def make_item(item: Item) -> PhaseItem:
    """A plan item from a list item: checkbox state first, then its ✅/❌ or status signals."""
    head = item.first.text
    done = item.checked if item.checked is not None else item_done(head)
    text = item_text(head)
    if item.checked is None and item_state(head) is None and done is not None:
        text = clean_title(text)  # the state was its trailing word: "... ✓ DONE"
    return PhaseItem(
        text=text,
        done=done,
        finding_refs=[],
        details=[W.strip_decoration(strip_marker(ln.text)) for ln in item.rest],
        line=item.first.number,
    )


def link(items: list[PhaseItem], findings: list[Finding]) -> None:
    """Fill each item's ``finding_refs`` with the keys of the findings it mentions.

    An explicit "Fix #3" / "#3" wins. Otherwise the findings whose title shares the most
    content words with the item, when the title shares at least one and the title plus the
    finding's files and fix text share at least two.
    """
    profiles = []
    for f in findings:
        # A file's name is as good as its title: "HuggingFace: restart" -> huggingface_client.py
        names = [
            re.sub(r"\.\w+$", "", (p.path or "").rstrip("/").rsplit("/", 1)[-1]) for p in f.files
        ]
        title = W.significant_words(" ".join([f.title, *names]))
        extra = (
            W.significant_words(
                " ".join([f.fix, f.problem, *f.after] + [p.path or "" for p in f.files])
            )
            - title
        )
        profiles.append((f, title, extra))
    # Only findings sharing a title word can score: index them by word.
    by_word: dict[str, list[int]] = {}
    for index, (_, title, _) in enumerate(profiles):
        for word in title:
            by_word.setdefault(word, []).append(index)
    refs_index = _ref_index(findings)
    for item in items:
        text = " ".join([item.text, *item.details])
        refs = _explicit(text, refs_index)
        if not refs:
            words = W.significant_words(text)
            scored = []
            candidates = sorted({i for w in words for i in by_word.get(w, [])})
            for f, title, extra in (profiles[i] for i in candidates):
                shared = len(words & title)
                if shared and shared + min(len(words & extra), 1) >= 2:
                    scored.append((shared * 2 + min(len(words & extra), 2), f.key))
            if scored:
                best = max(score for score, _ in scored)
                refs = [key for score, key in scored if score == best]
        item.finding_refs = refs


def _ref_index(findings: list[Finding]) -> dict[str, str]:
    """The first finding's key for each way of citing its ref ("fix #3" and "3")."""
    index: dict[str, str] = {}
    for f in findings:
        ref = (f.ref or "").lower()
        if ref:
            index.setdefault(ref, f.key)
            index.setdefault(re.sub(r"^\D+#?\s*", "", ref), f.key)
    return index


def _explicit(text: str, index: dict[str, str]) -> list[str]:
    """Findings cited as "fix #3", "(3)", or by a full ID of their own ("PAY-12")."""
    out = []
    cited = [(m.group("n") or m.group("p")) for m in _REF_RE.finditer(text)]
    cited += _FULL_ID_RE.findall(text)
    for ref in cited:
        key = index.get(ref.lower())
        if key and key not in out:
            out.append(key)
    return out


_FULL_ID_RE = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]{0,9}(?:-[A-Z0-9]{1,8})*-\d{1,5}(?![\w-])")
