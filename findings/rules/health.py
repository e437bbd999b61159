"""System health: which findings speak for which health area, and what status they imply.

Pure: no ORM and no Django models, so the rule is tested (and read) on its own. The
selectors feed it plain rows.

**Which area a finding belongs to.** Health areas come from documents ("Server Performance:
AT RISK"), and so do the words that tie a finding to one: the claims about it (their title,
problem, impact, fix, section and cited files). A finding belongs to an area when that text
holds one of the area's words. An area's words are the words of its own name (less generic
ones like "performance"), plus those :data:`VOCABULARY` lists for each word of the name, so
"Server Performance" also matches "query", "endpoint" or "n+1". A finding no claim mentions
belongs to no area: a scanner rule alone says nothing about which part of the system suffers.
Only the claims of documents that read the area count (the selectors apply this): a security
audit's claims about webhooks say nothing of another document's "Integration Stability".

**Parts.** An area named "Security / API Keys" is a part of "Security" and is shown inside its
panel when that area exists; a reading's notes ("Timeouts: Partially addressed") are shown in
the document's words.

**What the open findings imply** (:func:`implied_status`): any open-like finding (open,
regressed or claimed — a claim is not proof) of severity critical in the area means
``at_risk``; else any high means ``degraded``; else ``healthy``.

**Disagreement** (:func:`disagrees`): declared and implied are compared on the same three
levels (critical and at risk are one level; stable and improved count as healthy); an
``unknown`` or missing declaration never disagrees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

VOCABULARY: dict[str, frozenset[str]] = {
    "server": frozenset(
        "server backend api endpoint query queries sql database orm n+1 cache timeout latency "
        "memory connection view request".split()
    ),
    "task": frozenset(
        "task tasks celery queue worker job jobs retry beat scheduler background async".split()
    ),
    "frontend": frozenset(
        "frontend javascript js template css render rendering browser page bundle react vue "
        "htmx dom".split()
    ),
    "integration": frozenset(
        "integration webhook external third-party sync oauth provider payment callback import "
        "export".split()
    ),
    "security": frozenset(
        "security auth authentication password secret injection xss csrf token crypto "
        "permission".split()
    ),
    "database": frozenset("database migration index query sql lock deadlock".split()),
}
"""Extra words for each word an area's name may contain ("Server Performance" -> server)."""

GENERIC = frozenset({"performance", "stability", "health", "system", "and", "the", "of", "area"})
"""Words of an area's name that say nothing about which findings belong to it."""

LEVELS = {"healthy": 0, "degraded": 1, "at_risk": 2}
_DECLARED_LEVEL = {
    "healthy": 0,
    "stable": 0,
    "improved": 0,
    "degraded": 1,
    "at_risk": 2,
    "critical": 2,
}

_WORD = re.compile(r"[a-z0-9][a-z0-9+\-]*")


def words(text: str) -> set[str]:
    """The lower-case words of ``text`` ("N+1 queries" -> {"n+1", "queries"})."""
    return set(_WORD.findall(text.lower()))


def area_words(name: str) -> frozenset[str]:
    """The words that tie a finding's claims to the area called ``name``."""
    own = words(name) - GENERIC
    extra = set().union(*(VOCABULARY.get(word, frozenset()) for word in own)) if own else set()
    return frozenset(own | extra)


def belongs(text_words: set[str], vocabulary: frozenset[str]) -> bool:
    """Whether claim text (as :func:`words`) speaks about an area with ``vocabulary``."""
    return not vocabulary.isdisjoint(text_words)


def implied_status(open_severities: Iterable[int]) -> str:
    """``at_risk`` for any open critical (1), ``degraded`` for any open high (2), else healthy."""
    worst = min(open_severities, default=None)
    if worst == 1:
        return "at_risk"
    if worst == 2:
        return "degraded"
    return "healthy"


def declared_level(status: str) -> int | None:
    """A declared status on the implied scale; None for unknown or unrecognised words."""
    return _DECLARED_LEVEL.get(status)


def disagrees(declared: str | None, implied: str) -> bool:
    """Whether a document's declaration and the open findings tell a different story."""
    level = declared_level(declared or "")
    return level is not None and level != LEVELS[implied]
