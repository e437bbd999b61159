"""Single statements outside findings: health readings, severity bands, one-line titles,
and what a table column holds.
"""

from __future__ import annotations

import re

from scanners.documents import fields as F
from scanners.documents import signals as S
from scanners.documents import vocabulary as V
from scanners.documents import words as W
from scanners.documents.findings import clean_title
from scanners.documents.structure import strip_marker

_AREA_WORDS = {
    "area",
    "component",
    "system",
    "service",
    "bereich",
    "komponente",
    "domaine",
    "composant",
    "module",
    "subsystem",
}
_REF_WORDS = {"#", "№", "id", "no", "no.", "nr", "nr.", "ref", "n°", "key", "nummer", "ticket"}
_TITLE_WORDS = {
    "title",
    "issue",
    "finding",
    "name",
    "bug",
    "vulnerability",
    "befund",
    "problème",
    "titre",
    "fehler",
    "item",
    "task",
    "problem",
    "défaut",
    "schwachstelle",
}


_TITLE_WORDS |= set(V.TITLE_WORDS)


def column_kind(header: str) -> str | None:
    words = set(re.findall(r"[\w#°.]+", header))
    if V.is_cjk(header) and any(w in header for w in V.TITLE_WORDS):
        words.add("title")
    if header.strip() in _REF_WORDS or words & {"id", "ид", "编号", "番号"}:
        return "ref"
    if words & _AREA_WORDS:
        return "area"
    kind = F.label_kind(header)
    if kind in ("problem",) and words & _TITLE_WORDS:
        return "title"
    if kind is None and words & _TITLE_WORDS:
        return "title"
    if kind is None and words & {"health", "state", "zustand", "état"}:
        return "status"
    return kind


def split_title(text: str) -> tuple[str, str]:
    """A one-line finding's title (bold lead-in or first clause) and the rest of its text."""
    body = strip_marker(text)
    bold = re.match(r"^\s*(?:[^\w*`]*\s*)?\*\*(?P<t>[^*]+)\*\*\s*[.:\-–—]?\s*(?P<r>.*)$", body)
    if bold:
        return clean_title(bold.group("t")), bold.group("r").strip()
    parts = re.split(r"\s+[—–-]\s+|(?<=[.!?:;])\s+", body, maxsplit=1)
    title = clean_title(parts[0]).rstrip(".:;")
    rest = parts[1].strip() if len(parts) > 1 else ""
    if len(title) > 80:
        # A sentence is not a title: keep whole words up to 80 characters.
        title = title[:80].rsplit(" ", 1)[0] + "…"
        rest = body
    return title, rest


def reading_tuple(reading: tuple[str, str, str]) -> tuple[str, str, str]:
    area, raw, status = reading
    return area, status, raw


def is_band(title: str) -> bool:
    """A heading that only states a severity ("🔴 HIGH SEVERITY (Immediate Action Required)")."""
    if S.severity_in(title, heading=True) is None:
        return False
    plain = re.sub(r"\([^)]*\)", "", W.strip_decoration(title))
    return len(W.significant_words(plain)) <= 3


def reading_from(text: str, *, strong_only: bool) -> tuple[str, str, str] | None:
    """``"Server Performance: ⚠️ **AT RISK**"`` -> ``("Server Performance", "AT RISK", "at_risk")``.

    Outside a health section (``strong_only``) the value must be a short state made of
    health words only, so "Memory: Stable under load, no leaks" stays a sentence.
    """
    body = strip_marker(text)
    if ":" not in body:
        return None
    area_raw, value_raw = body.split(":", 1)
    area = W.strip_decoration(area_raw).strip(" *_")
    value = W.strip_decoration(value_raw).strip(" *_")
    if not area or len(area.split()) > 6 or re.search(r"https?$", area) or _TALLY_RE.search(area):
        return None
    if _LED_RE.match(value_raw.strip(" *_")) or _is_score(value):
        # "RAG API: ✅ Healthy", "Overall Rating: 6.5/10": a state led by its mark or score.
        if F.label_kind(area) == "date" or len(value) > 160 or _BARE_STATUS_RE.match(area):
            return None
        return area, value, S.health_status(value_raw) or _score_status(value)
    if S.RISK_RE.search(area) and (level := risk_status(value)):
        return area, value, level  # "Risk Level: MEDIUM": the level of risk is the state
    status = S.health_status(value_raw, strong_only=strong_only)
    if status is None and not strong_only and value and len(value) <= 120:
        status = "unknown"  # under a health or before/after heading any short state counts
    if status is None:
        return None
    if strong_only and (len(value.split()) > 3 or not value):
        return None
    if F.label_kind(area) in ("severity", "status", "date"):
        return None
    return area, value, status


def risk_status(value: str, *, none: bool = False) -> str | None:
    """The state a level of risk reads ("MEDIUM (reduced from HIGH)" -> degraded, "None" ->
    healthy where ``none`` allows it): a level word leading a short value, before any aside."""
    head = re.split(r"\s*[(\u2014\u2013]|\s+-\s+", value, maxsplit=1)[0].strip(" *_.")
    if none and _NO_RISK_RE.fullmatch(head):  # only where a row names its area
        return "healthy"
    level = S.severity_in(head) if 0 < len(head.split()) <= 2 else None
    return S.RISK_STATUS.get(level[0]) if level else None


def marked_statement(text: str) -> tuple[str, str, str] | None:
    """``"✅ Production deployments safe (schema migration works)"`` under a health or
    before/after heading -> ``("Production deployments safe", <the text>, "healthy")``:
    a state led by its mark, whose area is the words before any aside."""
    body = strip_marker(text).strip()
    mark = _LED_RE.match(body.strip(" *_"))
    if not mark:
        return None
    rest = W.strip_decoration(body.strip(" *_")[mark.end() :]).strip(" *_\ufe0f")
    area = re.split(r"\s+\(|\s+[—–-]\s+|:\s|;\s|,\s|\.\s", rest, maxsplit=1)[0].strip(" .")
    if not area or len(area.split()) > 8 or len(rest) > 200:
        return None
    status = S.health_status(body) or "unknown"
    return area, rest, status


# "Critical Issues Fixed: 5/5", "Files Modified: 1": a tally of the work, not an area's state.
_TALLY_RE = re.compile(
    r"\b(?:issues|bugs|fixes|findings|items|files|lines|changes)\s+"
    r"(?:fixed|resolved|closed|addressed|modified|changed|touched|added|removed)\b",
    re.I,
)
_BARE_STATUS_RE = re.compile(
    r"^(?:status|state|results?|outcome|stato|estado|статус|状态|ステータス|상태)$", re.I
)
_NO_RISK_RE = V.compiled(V.SECTION["no_risk"])
_LED_RE = re.compile(r"^(?:✅|❌|⚠|🔴|🟢|🟡|🟠|✔|✗|⏳|🚧|❓|🎉)")
_SCORE_RE = re.compile(
    r"^(?:[A-F][+-]?\s*\(\s*)?~?(?P<n>\d{1,5}(?:\.\d+)?)\s*(?:/\s*(?P<d>\d{1,5})\b|%)"
)


_ANY_SCORE_RE = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d)?\s*/\s*(?:10|100)\b|^~?\d{1,3}(?:\.\d)?%")


def score_in(raw: str) -> str | None:
    """The first score a reading states ("35/100", "6.5/10", a leading "85%"), as written."""
    m = _ANY_SCORE_RE.search(raw)
    return m.group(0).replace(" ", "") if m else None


def _is_score(value: str) -> bool:
    m = _SCORE_RE.match(value)
    if m is None:
        return False
    return not m.group("d") or float(m.group("n")) <= float(m.group("d"))


def _score_status(value: str) -> str:
    """A score's reading: under half is critical, under three quarters at risk."""
    m = _SCORE_RE.match(value)
    if not m or not re.fullmatch(
        r"\s*(?:\)?\s*(?:\(.*\)|[A-F][+-]?|passing|pass|[^\w\s]*))?\s*", value[m.end() :]
    ):
        return "unknown"  # "~5% of queries not counted" is a measure, not a score
    share = float(m.group("n")) / max(float(m.group("d") or 100), 1.0)
    return "critical" if share < 0.5 else "at_risk" if share < 0.75 else "healthy"
