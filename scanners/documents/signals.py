"""Signal vocabularies: what a word or an emoji says about severity, status, evidence, health.

Every classifier works on one piece of text (a heading, a field value, a table cell) and
returns ``None`` or an empty list when nothing matches: absent signals are never guessed.
The words of every language come from ``vocabulary``; emoji are signals.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scanners.documents import vocabulary as V
from scanners.documents.words import strip_decoration

if TYPE_CHECKING:
    from scanners.documents.structure import Section

# --- severity ----------------------------------------------------------------------------

# Ordered so that compound bands ("medium-high") are tried before their parts; the level
# words of every language come from ``vocabulary``.
_SEVERITY_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    *(
        # "High-Priority Bugs", "critical-severity": the level joined to its frame word.
        (re.compile(rf"(?<![\w-]){word}-(?:priority|severity|risk)(?![\w-])", re.I), level)
        for word, level in (
            ("critical", "critical"),
            ("high", "high"),
            ("medium", "medium"),
            ("low", "low"),
        )
    ),
    # A range of two levels ("MEDIUM-HIGH", "low/medium") is its lower bound: the author did
    # not commit to the higher one (the corpus labels' convention; the words stay in the raw).
    (
        re.compile(r"(?<![\w-])(?:high[\s/-]+critical|critical[\s/-]+high)(?![\w-])", re.I),
        "high",
    ),
    (
        re.compile(
            r"(?<![\w-])(?:(?:medium|moderate)[\s/-]+high|high[\s/-]+(?:medium|moderate))(?![\w-])",
            re.I,
        ),
        "medium",
    ),
    (
        re.compile(
            r"(?<![\w-])(?:low[\s/-]+(?:medium|moderate)|(?:medium|moderate)[\s/-]+low)(?![\w-])",
            re.I,
        ),
        "low",
    ),
    *((V.compiled(words), level) for level, words in V.SEVERITY.items()),
)
_PRIORITY_RE = re.compile(r"(?<![\w-])P([0-4])(?![\w-])")
_PRIORITY_LEVELS = ("critical", "high", "medium", "low", "info")
SEVERITY_EMOJI: dict[str, str] = {
    "🔴": "critical",
    "🟥": "critical",
    "🟠": "high",
    "🟧": "high",
    "🟡": "medium",
    "🟨": "medium",
    "🟢": "low",
    "🟩": "low",
    "🔵": "info",
    "⚪": "info",
}
# Words that make a heading a statement about severity rather than a topic that happens to
# contain "high" ("High-traffic endpoints").
_SEVERITY_CONTEXT_RE = re.compile(
    r"severity|priority|risk|schweregrad|priorität|sévérité|gravité|priorité|"
    r"issues?|bugs?|fix(?:es)?|findings?|vulnerabilit(?:y|ies)|problems?|defects?|errors?|"
    r"tier|level|items|\bP[0-4]\b|fehler|probleme|befunde|schwachstellen|problèmes|failles|anomalies|correctifs|"
    + V.alternation(V.LABELS["severity"] + V.COLLECTION),
    re.IGNORECASE,
)
_NEGATED_SEVERITY_RE = re.compile(r"\bnon[- ]?(?:critical|kritisch|critique)", re.IGNORECASE)


def severity_in(text: str, *, heading: bool = False) -> tuple[str, str] | None:
    """The severity ``text`` states, as ``(level, raw words)``, or None.

    For a field value or table cell any severity word counts. For a heading (``heading=True``)
    the word must be framed as a severity: next to a word like "severity", "issues",
    "tier"; in parentheses ("Tier 1 (Critical)"); or alone with only emoji around it.
    A coloured circle emoji counts when no word does.
    """
    if _NEGATED_SEVERITY_RE.search(text):
        return None
    plain = strip_decoration(text)
    for rx, level in _SEVERITY_RES:
        m = rx.search(plain)
        if not m:
            continue
        if heading and not _framed_as_severity(plain, m):
            continue
        return level, _severity_phrase(plain, m)
    m = _PRIORITY_RE.search(plain)
    if m and not heading:
        return _PRIORITY_LEVELS[int(m.group(1))], m.group(0)
    stripped = text.strip()
    for emoji, level in SEVERITY_EMOJI.items():
        # A lone circle is a severity only where it leads the text; elsewhere it decorates.
        if stripped.startswith(emoji) or (not heading and emoji in stripped):
            return level, emoji
    return None


def _framed_as_severity(plain: str, m: re.Match[str]) -> bool:
    before = plain[: m.start()]
    after = plain[m.end() :]
    if before.rstrip().endswith("(") and after.lstrip().startswith(")"):
        return True
    window = " ".join(before.split()[-3:] + after.split()[:3])
    if _SEVERITY_CONTEXT_RE.search(window):
        return True
    rest = re.sub(r"[\W\d_]+", " ", before + " " + after).strip()
    if not before.strip() and rest:
        # "Critical (7) — ALL RESOLVED": a leading level whose rest only counts and states.
        rest = _STATE_WORDS_RE.sub(" ", rest).strip()
    return not rest


def _severity_phrase(plain: str, m: re.Match[str]) -> str:
    after = plain[m.end() :]
    nxt = re.match(r"\s*(severity|priority|risk)\b", after, re.IGNORECASE)
    return (m.group(0) + (nxt.group(0) if nxt else "")).strip()


# --- claimed status ----------------------------------------------------------------------

FIXED, PARTIAL, IDENTIFIED, RECOMMENDED = "fixed", "partially_fixed", "identified", "recommended"

_PARTIAL_RE = re.compile(rf"{V.alternation(V.STATUS['partial'])}|🚧|⏳|🔄|🟨", re.I)
_NOT_FIXED_RE = re.compile(rf"{V.alternation(V.STATUS['not_fixed'])}|❌|✗|✘|⛔", re.I)
_RECOMMENDED_RE = re.compile(
    rf"recommend(?:ed|ation)?s?|propos(?:ed|al)|suggest(?:ed|ion)s?|"
    rf"{V.alternation(V.STATUS['recommended'])}|💡",
    re.IGNORECASE,
)
_FIXED_RE = re.compile(rf"{V.alternation(V.STATUS['fixed'])}|✅|✔|✓|☑", re.I)
_IDENTIFIED_RE = re.compile(rf"{V.alternation(V.STATUS['identified'])}|⚠|🔍|📋|🟥", re.I)


_STATE_WORDS_RE = re.compile(
    rf"{_PARTIAL_RE.pattern}|{_NOT_FIXED_RE.pattern}|{_FIXED_RE.pattern}|"
    rf"{_IDENTIFIED_RE.pattern}|(?<!\w)(?:all|of|issues?|bugs?|items?)(?!\w)",
    re.IGNORECASE,
)


def status_in(text: str) -> str | None:
    """The claimed status ``text`` signals (a heading, status field or table cell), or None.

    A partial signal beats a fixed one ("✅ PARTIALLY ADDRESSED"), an explicit negation
    beats both, and "discovered and fixed" is fixed: the later state wins.
    """
    if _PARTIAL_RE.search(text):
        return PARTIAL
    if _NOT_FIXED_RE.search(text):
        return IDENTIFIED
    if _FIXED_RE.search(text):
        return FIXED
    if _IDENTIFIED_RE.search(text):
        return IDENTIFIED
    if _RECOMMENDED_RE.search(text):
        return RECOMMENDED
    return None


# --- evidence ----------------------------------------------------------------------------

_EVIDENCE: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "compiles",
        re.compile(
            r"compil|syntax check|py_compile|\bbuilds?\b|build pass|kompilier", re.IGNORECASE
        ),
    ),
    ("tested", re.compile(r"\btest(?:s|ed|ing)?\b|pytest|\bci\b|getestet|testé", re.IGNORECASE)),
    ("deployed", re.compile(r"deploy|in production|staging|ausgerollt|déployé", re.IGNORECASE)),
    ("committed", re.compile(r"\bcommit(?:ted)?\b|\bmerged\b|\bpushed\b", re.IGNORECASE)),
    ("reviewed", re.compile(r"review(?:ed)?|approved|geprüft|relu", re.IGNORECASE)),
    ("manual", re.compile(r"manual(?:ly)?|by hand|smoke|manuell", re.IGNORECASE)),
)


def evidence_in(text: str) -> list[str]:
    """The kinds of evidence a verification statement names, in vocabulary order."""
    return [kind for kind, rx in _EVIDENCE if rx.search(text)]


# --- system health -----------------------------------------------------------------------

_HEALTH_STRONG: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"at[\s-]risk|gefährdet|à risque|en danger", re.IGNORECASE), "at_risk"),
    (re.compile(r"degraded|beeinträchtigt|dégradée?", re.IGNORECASE), "degraded"),
    (re.compile(r"improv(?:ed|ing)|verbessert|amélioré(?:e)?", re.IGNORECASE), "improved"),
    (re.compile(r"\bunstable\b|instabil|instable", re.IGNORECASE), "at_risk"),
    (re.compile(r"\bstable\b|stabil", re.IGNORECASE), "stable"),
    (re.compile(r"healthy|gesund|sain", re.IGNORECASE), "healthy"),
)
_HEALTH_WEAK: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"critical|kritisch|critique|\bdown\b|failing|\bfail(?:ed)?\b|not ready|broken|🔴|❌",
            re.IGNORECASE,
        ),
        "critical",
    ),
    (
        re.compile(
            r"\bgood\b|\bok\b|\bgreen\b|\bgut\b|\bbon(?:ne)?\b|\bpass(?:ed|ing)?\b|"
            r"\bready\b|operational|\bsecure\b|✅|🟢",
            re.IGNORECASE,
        ),
        "healthy",
    ),
    (re.compile(r"warning|\byellow\b|\bamber\b|⚠|🟡|🟠", re.IGNORECASE), "at_risk"),
    (re.compile(r"\bred\b|\bpoor\b|\bbad\b", re.IGNORECASE), "critical"),
    (re.compile(r"unknown|unbekannt|inconnu|❓", re.IGNORECASE), "unknown"),
)


def health_status(text: str, *, strong_only: bool = False) -> str | None:
    """The normalised health reading of ``text`` ("⚠️ **AT RISK**" -> ``at_risk``).

    ``strong_only`` restricts to words that only ever describe health (at risk, degraded,
    improved, stable, healthy), for lines found outside a health section.
    """
    for rx, status in _HEALTH_STRONG:
        if rx.search(text):
            return status
    if strong_only:
        return None
    for rx, status in _HEALTH_WEAK:
        if rx.search(text):
            return status
    return None


_BEFORE_RE = V.compiled(V.SECTION["before"] + ("previously", "was", "initial", "baseline"))
_PROJECTED_RE = V.compiled(V.SECTION["projected"])


_AFTER_RE = V.compiled(V.SECTION["after"])


def names_moment(title: str) -> bool:
    """Whether a heading starts by naming a moment: before, after, a target ("Before Fixes").

    "Monitoring After Deployment" names an activity, not a moment."""
    plain = strip_decoration(title).strip(" *_#:")
    return any(rx.match(plain) for rx in (_BEFORE_RE, _AFTER_RE, _PROJECTED_RE))


def when_of(area: str, raw: str) -> str:
    """When a health reading holds: ``before`` or ``projected`` where its words say so."""
    text = f"{area} {raw}"
    if _BEFORE_RE.search(text):
        return "before"
    if _PROJECTED_RE.search(text):
        return "projected"
    return "current"


# --- what a heading or a field label says a part of a document is -------------------------

HEALTH_HEADING_RE = re.compile(
    r"system ?zustand|system state|état du système|" + V.alternation(V.SECTION["health"]), re.I
)
FILES_LABEL_RE = re.compile(
    r"\bfiles? (?:modified|changed|touched|updated|affected)|(?:modified|changed|touched|"
    r"updated|affected) files|geänderte dateien|fichiers modifiés",
    re.I,
)
STATUS_LABEL_RE = re.compile(
    r"\b(?:status|results?|outcome|readiness|verdict|compilation|ergebnis(?:se)?|résultats?|"
    r"statut|bilan)\b|" + V.alternation(V.SECTION["status"][3:]),
    re.I,
)
# "## ✅ Positive Findings" over "### 1. No Hardcoded Secrets": checks that passed, not issues.
POSITIVE_HEADING_RE = re.compile(r"^\W*(?:" + V.alternation(V.SECTION["positive"]) + r")\W*$", re.I)
RISK_RE = re.compile(V.alternation(V.SECTION["risk"]), re.I)
# A level of risk as the state of the area it names: "### Low Risks 🟢" reads stable.
RISK_STATUS = {"critical": "critical", "high": "at_risk", "medium": "degraded", "low": "stable"}
# "## Verification Results" over "### 1. Restart the backend": steps of a check, not issues.
VERIFICATION_HEADING_RE = re.compile(
    r"^\W*(?:" + V.alternation(V.SECTION["verification"]) + r")\W*$", re.I
)


def is_verification(sec: Section | None) -> bool:
    """Whether ``sec`` is headed only as a check ("Verification Results", "検証結果")."""
    return bool(sec and sec.heading and VERIFICATION_HEADING_RE.match(strip_decoration(sec.title)))


SUMMARY_HEADING_RE = re.compile(
    r"summary|overview|zusammenfassung|überblick|résumé|synthèse|tl;?dr|introduction|"
    r"background|hintergrund|contexte",
    re.I,
)
