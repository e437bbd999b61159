"""Which existing finding a document finding is: document identity, names, and link scores.

The vocabulary and the scores are explained in docs/documents.md. Reads only; the writes are in
``findings.services.documents``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from findings.models import Finding, Project

DOCUMENT_TOOL = "document"
LINK_THRESHOLD = 60
"""A candidate scoring at least this becomes a suggested link."""
SPEAK_THRESHOLD = 75
"""The best candidate, when it scores at least this and no other candidate scores as much, is
the finding the claim speaks for; otherwise the claim gets a finding of its own."""
WIDE_RANGE = 10
"""A claimed range longer than this many lines meets unrelated findings by chance."""
MAX_LINKS = 20

# What a document calls a problem, and the scanner rules that report the same kind of thing.
# Matched against the claim's title, problem, fix and BEFORE code; only counts in the same file.
KINDS: dict[str, tuple[re.Pattern[str], frozenset[str]]] = {
    "bare except": (
        re.compile(r"bare[\s`]+except|except\s*:|catch-all except|broad except", re.I),
        frozenset({"E722", "B110", "S110", "B001", "BLE001"}),
    ),
    "SQL injection": (
        re.compile(r"sql[\s-]*injection|raw sql|string-built (?:sql|quer)", re.I),
        frozenset({"B608", "S608"}),
    ),
    "missing timeout": (
        re.compile(r"time-?\s?outs?\b|zeitüberschreitung|délai d'attente", re.I),
        frozenset({"B113", "S113"}),
    ),
    "subprocess with shell": (
        re.compile(r"shell\s*=\s*true|shell injection|command injection|os\.system", re.I),
        frozenset({"B602", "S602", "B604", "S604", "B605", "S605"}),
    ),
    "eval": (re.compile(r"\beval\s*\(|\beval\b|\bexec\s*\(", re.I), frozenset({"B307", "S307"})),
    "hard-coded secret": (
        re.compile(r"hard[\s-]?coded\s+(?:\w+\s+)?(?:password|secret|credential|key|token)", re.I),
        frozenset({"B105", "B106", "B107", "S105", "S106", "S107"}),
    ),
    "pickle": (re.compile(r"\bpickle\b|unsafe deserial", re.I), frozenset({"B301", "S301"})),
    "weak hash": (
        re.compile(r"\bmd5\b|\bsha-?1\b|weak hash", re.I),
        frozenset({"B303", "B324", "S303", "S324"}),
    ),
    "yaml.load": (
        re.compile(r"yaml\.load\b|unsafe yaml", re.I),
        frozenset({"B506", "S506"}),
    ),
}

_VERSION_SUFFIX_RE = re.compile(
    r"(?:[\s_.-]*(?:\(|\[)?(?:v\d+(?:\.\d+)*|rev(?:ision)?\s*\d+|revised|updated|update|draft|"
    r"final|copy)(?:\)|\])?)+$",
    re.I,
)


# --- names ---------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """Lower case words and digits only: emoji, punctuation and Markdown marks go."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    words = re.findall(r"[^\W_]+", text)
    return " ".join(words)[:300]


def document_identity(*, title: str | None, filename: str) -> str:
    """Which document this is: its normalised title, else its file name.

    A trailing version marker ("v2", "(revised)", "draft", "final") is ignored, so a revised
    version keeps its identity; the project is part of every lookup, never of the string.
    """
    if title and normalise_text(title):
        cleaned = _VERSION_SUFFIX_RE.sub("", title.strip()) or title
        return "title:" + normalise_text(cleaned)
    stem = re.sub(r"\.(?:md|markdown|txt|rst)$", "", filename.rsplit("/", 1)[-1], flags=re.I)
    cleaned = _VERSION_SUFFIX_RE.sub("", stem) or stem
    return "file:" + (normalise_text(cleaned) or stem.lower())[:290]


def unique_keys(texts: Iterable[str]) -> list[str]:
    """Normalised keys, the second of two equal ones suffixed "#2" so each stays distinct."""
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        key = normalise_text(text) or "untitled"
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return out


def clean_path(path: str | None) -> str:
    path = (path or "").strip().strip("`'\"").replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _same_file(doc_path: str, finding_path: str) -> bool:
    """Equal, or one ends with the other at a folder boundary ("app.py" names "src/app.py")."""
    a, b = clean_path(doc_path), clean_path(finding_path)
    if not a or not b or "*" in a or a.endswith("/"):
        return False
    if a == b:
        return True
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer.endswith("/" + shorter.lstrip("/"))


# --- matching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    finding: Finding
    score: int
    reason: str


def claim_kinds(data: Mapping[str, Any]) -> list[str]:
    """The problem kinds a document finding names, from the vocabulary in ``KINDS``."""
    text = "\n".join(
        [data.get("title") or "", data.get("problem") or "", data.get("fix") or ""]
        + list(data.get("before") or [])
    )
    return [name for name, (rx, _) in KINDS.items() if rx.search(text)]


def _rule_token(rule_id: str) -> str:
    return re.split(r"[/.:]", rule_id.strip())[-1].upper()


def _ranges(files: list[Mapping[str, Any]], path: str) -> list[tuple[int, int]]:
    return [
        (int(r[0]), int(r[1]))
        for ref in files
        if _same_file(ref.get("path") or "", path)
        for r in ref.get("lines") or []
    ]


def _fmt(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}-{b}"


def score(data: Mapping[str, Any], finding: Finding) -> Candidate | None:
    """How strongly a document finding and an existing finding are the same problem.

    Same file and overlapping lines 85 (65 when the claimed range is wider than
    ``WIDE_RANGE``), plus the same kind 100; same file and the same kind 75; the same title
    80 (90 in the same file, 95 with overlapping lines). None below that, and none for a
    scanner finding whose rule reports another kind of problem than the claim names: lines
    alone do not make a timeout fix the fix of a bare except.
    """
    files = list(data.get("files") or [])
    in_file = next((ref for ref in files if _same_file(ref.get("path") or "", finding.path)), None)
    reasons: list[str] = []
    overlap = _overlap(files, finding) if in_file is not None else None
    if overlap is not None:
        reasons.append(overlap[0])
    kind = None
    if in_file is not None and finding.tool != DOCUMENT_TOOL:
        token = _rule_token(finding.rule_id)
        named = claim_kinds(data)
        kind = next((k for k in named if token in KINDS[k][1]), None)
        if kind:
            reasons.append(f"{kind} ↔ {finding.tool} {token} in the same file")
        elif named and any(token in rules for _, rules in KINDS.values()):
            return None
    titled = finding.tool == DOCUMENT_TOOL and normalise_text(finding.title) == normalise_text(
        data.get("title") or ""
    )
    points = 0
    if titled:
        reasons.insert(0, f"same title as {finding.key}, from another document")
        points = 95 if overlap else 90 if in_file is not None else 80
    elif overlap:
        points = 100 if kind else 85 if not overlap[1] else 65
    elif kind:
        points = 75
    if points < LINK_THRESHOLD:
        return None
    return Candidate(finding=finding, score=points, reason="; ".join(reasons)[:500])


def _overlap(files: list[Mapping[str, Any]], finding: Finding) -> tuple[str, bool] | None:
    """The first claimed range of the finding's file that meets its lines: the reason, and
    whether the range is wide (longer than ``WIDE_RANGE`` lines). None when none meets."""
    if not finding.start_line:
        return None
    start, end = finding.start_line, finding.end_line or finding.start_line
    for a, b in _ranges(files, finding.path):
        if a <= end and start <= b:
            wide = b - a + 1 > WIDE_RANGE
            reason = f"same file, lines {_fmt(a, b)} overlap {_fmt(start, end)} ({finding.path})"
            return (reason + (", a wide range" if wide else ""), wide)
    return None


def speaks_for(candidates: list[Candidate]) -> Candidate | None:
    """The candidate a new claim speaks for: the best, when it scores at least
    ``SPEAK_THRESHOLD`` (ties: the older finding). A weaker candidate is only suggested, and
    the claim gets a finding of its own."""
    if not candidates or candidates[0].score < SPEAK_THRESHOLD:
        return None
    return candidates[0]


def candidates_for(
    *, project: Project, data: Mapping[str, Any], identity: str, exclude: set[int]
) -> list[Candidate]:
    """Existing findings a document finding may be, best first (older first on a tie)."""
    files = [clean_path(ref.get("path")) for ref in data.get("files") or []]
    names = {p.rsplit("/", 1)[-1] for p in files if p and "*" not in p and not p.endswith("/")}
    by_path = Q()
    for name in names:
        by_path |= Q(path__endswith=name)
    # Every document finding is read: titles are compared normalised, and there are few.
    rows = Finding.objects.filter(project=project).filter(by_path | Q(tool=DOCUMENT_TOOL))
    rows = rows.exclude(pk__in=exclude)
    found = []
    for finding in rows.select_related("project")[:5000]:
        if finding.tool == DOCUMENT_TOOL and (finding.extra or {}).get("document") == identity:
            continue  # two headings of one document are two findings by the author's choice
        candidate = score(data, finding)
        if candidate is not None:
            found.append(candidate)
    found.sort(key=lambda c: (-c.score, c.finding.number))
    return found[:MAX_LINKS]
