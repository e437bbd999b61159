"""Field vocabularies: labels ("**Lines Modified:**"), line numbers, paths and commits.

Every classifier here is pure and works on one piece of text (a heading, a field label, a
field value, a list item). None of them guesses: when nothing in the text matches, they
return ``None`` or an empty list and the caller decides what an absent signal means.

The word lists cover English plus the German and French words teams commonly mix into
headings; emoji are treated as signals, not decoration.
"""

from __future__ import annotations

import re
from functools import lru_cache

from scanners.documents import vocabulary as V
from scanners.documents.model import FileRef
from scanners.documents.words import LINK_RE, strip_decoration

# --- field labels ------------------------------------------------------------------------

# label kind -> words; a label matches a kind when its normalised text starts with one.
_LABELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "severity",
        (
            "severity",
            "sev",
            "criticality",
            "priority",
            "risk level",
            "schweregrad",
            "priorität",
            "sévérité",
            "gravité",
            "priorité",
            "criticité",
        ),
    ),
    ("status", ("status", "state", "zustand", "statut", "état", "etat", "fix status")),
    (
        "lines",
        (
            "lines",
            "line",
            "zeilen",
            "zeile",
            "lignes",
            "ligne",
            "locations",
            "location",
            "fundstellen",
            "emplacements",
        ),
    ),
    (
        "files",
        (
            "files",
            "file",
            "affected files",
            "files modified",
            "files changed",
            "modified files",
            "changed files",
            "path",
            "paths",
            "dateien",
            "datei",
            "fichiers",
            "fichier",
            "module",
            "modules",
            "component file",
            "where",
            "wo",
            "où",
        ),
    ),
    ("commit", ("commit", "commits", "commit hash", "hash", "sha", "revision", "changeset")),
    (
        "evidence",
        (
            "verification",
            "verified",
            "validation",
            "evidence",
            "tests",
            "testing",
            "tested",
            "test result",
            "test results",
            "proof",
            "nachweis",
            "überprüfung",
            "prüfung",
            "vérification",
            "preuve",
            "compilation",
        ),
    ),
    (
        "problem",
        (
            "problem",
            "issue",
            "root cause",
            "cause",
            "description",
            "symptom",
            "symptoms",
            "actual",
            "actual result",
            "actual behavior",
            "actual behaviour",
            "observed",
            "observed behavior",
            "observed behaviour",
            "risultato effettivo",
            "comportamento osservato",
            "resultado atual",
            "resultado real",
            "resultado obtenido",
            "comportement observé",
            "résultat obtenu",
            "tatsächliches verhalten",
            "ist-verhalten",
            "фактический результат",
            "实际结果",
            "実際の結果",
            "실제 결과",
            "bug",
            "vulnerability",
            "finding",
            "what was wrong",
            "context",
            "ursache",
            "beschreibung",
            "fehlerbild",
            "problème",
            "cause racine",
            "constat",
            "details",
            "summary",
        ),
    ),
    (
        "impact",
        (
            "impact",
            "risk",
            "risks",
            "consequence",
            "consequences",
            "effect",
            "business impact",
            "auswirkung",
            "auswirkungen",
            "risiko",
            "risque",
            "conséquence",
            "conséquences",
        ),
    ),
    (
        "fix",
        (
            "fix",
            "fixes",
            "fix applied",
            "solution",
            "resolution",
            "remediation",
            "recommended fix",
            "recommended enhancement",
            "recommendation",
            "changes",
            "change",
            "changes made",
            "code added",
            "code changes",
            "patch",
            "implementation",
            "what changed",
            "action",
            "actions taken",
            "lösung",
            "behebung",
            "massnahme",
            "maßnahme",
            "korrektur",
            "änderung",
            "änderungen",
            "correctif",
            "correction",
            "résolution",
            "modification",
            "modifications",
        ),
    ),
    ("before", ("before", "old", "was", "vorher", "alt", "avant", "ancien")),
    ("after", ("after", "new", "now", "nachher", "neu", "après", "nouveau")),
    ("date", ("date", "datum", "last updated", "updated", "aktualisiert", "mis à jour")),
    (
        "author",
        (
            "author",
            "authors",
            "by",
            "prepared by",
            "written by",
            "autor",
            "auteur",
            "engineer",
            "owner",
        ),
    ),
    ("repository", ("repository", "repo", "repositorium", "dépôt", "depot")),
)
_LABEL_STOP = re.compile(r"\s*(?:\(.*\)|\d+)\s*$")


# The other languages' labels, from the one vocabulary.
_LABELS = tuple((kind, words + V.LABELS.get(kind, ())) for kind, words in _LABELS)


@lru_cache(maxsize=4096)
def label_kind(label: str) -> str | None:
    """What a field label introduces (``"Lines Modified"`` -> ``lines``), or None."""
    norm = _LABEL_STOP.sub("", strip_decoration(label).lower()).strip(" :*_-")
    if not norm:
        return None
    best: tuple[int, str] | None = None
    for kind, words in _LABELS:
        for word in words:
            if norm == word or re.match(rf"{re.escape(word)}\b", norm):
                # Longest matching word wins so "fix status" is a status, not a fix.
                if best is None or len(word) > best[0]:
                    best = (len(word), kind)
    if best is None:
        # Qualifiers before the key word: "Recommended Fix", "Lines Modified", "Files Fixed".
        for kind, words in _LABELS:
            if kind in {"author", "date", "before", "after"}:
                continue
            if any(re.search(rf"\b{re.escape(w)}\b", norm) for w in words if len(w) > 3):
                return kind
        return None
    return best[1]


def is_field_label(label: str) -> bool:
    """Whether ``label`` is exactly a field's name ("Root Cause", "症状"), nothing more."""
    norm = _LABEL_STOP.sub("", strip_decoration(label).lower()).strip(" :*_-")
    return any(norm == word for _, words in _LABELS for word in words)


# "**Label:** value", "**Label**: value", "Label: value" (plain labels only when known),
# optionally inside a list item; and a whole-bold line "**Problem 1: Title**".
_BOLD_FIELD_RE = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:[✅✔☑❌⚠️🚧📋\s]*)"
    r"(?:\*\*|__)(?P<label>[^*_:：\n]{1,60}?)\s*(?:[:：]\s*(?:\*\*|__)|(?:\*\*|__)\s*[:：])\s*(?P<value>.*)$"
)
_WHOLE_BOLD_RE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)(?P<label>[^*_:\n]{1,60}?)\s*:\s*(?P<value>[^*]*?)(?:\*\*|__)"
    r"\s*:?\s*$"
)
_BOLD_ONLY_RE = re.compile(r"^\s*(?:\*\*|__)(?P<label>[^*_\n]{1,60}?)(?:\*\*|__)\s*:?\s*$")
_PLAIN_FIELD_RE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?P<label>[^\W\d_][\w ()/&'-]{0,40}?)\s*(?::\s+|：\s*)(?P<value>.*)$"
)
_PLAIN_EMPTY_RE = re.compile(r"^\s*(?P<label>[^\W\d_][\w ()/&'-]{0,40}?)\s*[:：]\s*$")


_ITALIC_LINE_RE = re.compile(r"^\s*([*_])(?![*_\s])(?P<body>.+?)(?<![*_\s])\1\s*$")


def parse_field(line: str) -> tuple[str, str] | None:
    """Split a ``Label: value`` line into ``(label, value)``; None when it is not a field.

    Bold labels are fields whatever their word; plain labels only when the vocabulary
    knows them, so ordinary sentences with a colon stay sentences.
    """
    italic = _ITALIC_LINE_RE.match(line)
    if italic:
        line = italic.group("body")
    for rx in (_BOLD_FIELD_RE, _WHOLE_BOLD_RE):
        m = rx.match(line)
        if m:
            return m.group("label").strip(), _clean_value(m.group("value"))
    m = _BOLD_ONLY_RE.match(line)
    if m and label_kind(m.group("label")):
        return m.group("label").strip(), ""
    m = _PLAIN_FIELD_RE.match(line) or _PLAIN_EMPTY_RE.match(line)
    if m and label_kind(m.group("label")) and not re.search(r"https?$", m.group("label")):
        value = m.groupdict().get("value") or ""
        return m.group("label").strip(), _clean_value(value)
    return None


def _clean_value(value: str) -> str:
    return value.strip().rstrip("\\").strip()


# --- line numbers, paths, commits --------------------------------------------------------

_NUM = r"[~L]?\d{1,7}"
_RANGE = rf"{_NUM}(?:\s*(?:-|–|—|to|bis|à)\s*{_NUM})?"
# "~20 lines" is a size, not a place.
_SIZE = r"(?!\d|\s*(?:-|–)?\s*\d|\s*(?:lines?|loc|righe|linhas|líneas|строк\w*|行)\b)"
_LINE_PHRASE_RE = re.compile(
    rf"(?<![\w/#])(?:lines?|zeilen?|lignes?|ll?\.|L)\s*[:#]?\s*(?P<list>{_RANGE}{_SIZE}"
    rf"(?:\s*(?:,|&|and|und|et)\s*(?!\s*(?:lines?|zeilen?|lignes?)\b){_RANGE}{_SIZE})*)",
    re.IGNORECASE,
)
_BARE_LIST_RE = re.compile(rf"^\s*(?P<list>{_RANGE}{_SIZE}(?:\s*,\s*{_RANGE}{_SIZE})*)")
_RANGE_RE = re.compile(rf"(?P<a>{_NUM})(?:\s*(?:-|–|—|to|bis|à)\s*(?P<b>{_NUM}))?")
_ANCHOR_RE = re.compile(r"#L(?P<list>\d+(?:-L?\d+)?(?:,L?\d+(?:-L?\d+)?)*)")


# "around line 406", "approx. lines 40-50": words that make the line numbers after them rough.
_ROUGH_BEFORE_RE = re.compile(
    r"(?:~|\b(?:around|about|approx(?:imately|\.)?|roughly|circa|ca\.|near|etwa|environ|"
    r"cerca|aprox(?:imadamente|\.)?))\s*$",
    re.IGNORECASE,
)


class RoughRange(tuple[int, int]):
    """A line range the document gives as approximate ("~406", "around line 406").

    It equals and hashes as the plain ``(406, 406)``, so every consumer of ranges keeps
    working unchanged; only :func:`rough_ranges` asks for the mark.
    """

    __slots__ = ()


def _ranges(text: str, *, rough: bool = False) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for m in _RANGE_RE.finditer(text):
        a = int(m.group("a").lstrip("~L"))
        b = int(m.group("b").lstrip("~L")) if m.group("b") else a
        if a <= 0 or b < a:
            continue
        approx = rough or m.group("a").startswith("~")
        out.append(RoughRange((a, b)) if approx else (a, b))
    return out


def line_refs(text: str) -> list[tuple[int, int]]:
    """Line ranges named in prose: "lines ~406, ~447", "Line 145:", "line 1474-1483".
    Ranges written "~406" or after "around", "approximately" ... are :class:`RoughRange`."""
    out: list[tuple[int, int]] = []
    for m in _LINE_PHRASE_RE.finditer(text):
        rough = bool(_ROUGH_BEFORE_RE.search(text[: m.start()]))
        out.extend(_ranges(m.group("list"), rough=rough))
    return out


def line_list(value: str) -> list[tuple[int, int]]:
    """Line ranges in the value of a "Lines" field: "66, 115-125", "1474-1483 (new), 1717"."""
    found = line_refs(value)
    if found:
        return found
    out: list[tuple[int, int]] = []
    for part in re.split(r"[;,]", value):
        m = _BARE_LIST_RE.match(part)
        if m:
            out.extend(_ranges(m.group("list")))
    return out


def anchor_lines(target: str) -> list[tuple[int, int]]:
    """Line ranges in a link anchor: ``#L314-337``, ``#L6,28``, ``#L10-L20``."""
    m = _ANCHOR_RE.search(target)
    return _ranges(m.group("list").replace("L", "")) if m else []


def merge_ranges(ranges: list[tuple[int, int]]) -> list[list[int]]:
    """Sorted, with ranges that overlap or contain one another merged."""
    out: list[list[int]] = []
    for a, b in sorted(set(ranges)):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def file_ref(path: str | None, ranges: list[tuple[int, int]]) -> FileRef:
    """A file with its merged line ranges and which of them are approximate."""
    return FileRef(path, merge_ranges(ranges), rough_ranges(ranges))


def rough_ranges(ranges: list[tuple[int, int]]) -> list[list[int]]:
    """The ranges of :func:`merge_ranges` that the document gave only approximately: every
    range merged into one is a :class:`RoughRange` ("~406" alone, not "400-410, ~406")."""
    exact = [r for r in ranges if not isinstance(r, RoughRange)]
    return [m for m in merge_ranges(ranges) if not any(a <= m[1] and b >= m[0] for a, b in exact)]


_EXT = (
    "py|pyi|js|jsx|ts|tsx|mjs|cjs|java|kt|go|rs|rb|php|cs|c|h|cc|cpp|hpp|swift|m|scala|"
    "sql|sh|bash|ps1|yml|yaml|json|toml|ini|cfg|conf|env|xml|html|htm|css|scss|vue|svelte|"
    "md|txt|rst|lock|gradle|tf|proto|graphql|dockerfile|pdf|csv"
)
_PATHISH_RE = re.compile(
    rf"^(?:[\w.@~-]+/)*[\w.@*-]+\.(?:{_EXT})$|^(?:[\w.@~-]+/)+[\w.@*-]*/?$|"
    r"^(?:Dockerfile|Makefile|Procfile|Jenkinsfile|Gemfile|\.env[\w.-]*)$",
    re.IGNORECASE,
)
_BACKTICK_RE = re.compile(r"`([^`\n]+)`")
_BARE_PLACE_RE = re.compile(
    r"(?<![\w./`-])(?P<path>[\w./@~-]*\w\.[A-Za-z]{1,5}):(?P<list>\d+(?:\s*[-–]\s*\d+)?"
    r"(?:\s*,\s*\d+(?:\s*[-–]\s*\d+)?)*)(?![\w/])"
)
_TICK_LINE_RE = re.compile(
    r"`(?P<path>[^`\s]+)`\s*,?\s*\(?(?:lines?|righe|riga|linhas?|líneas?|строк[аи]?|行)\s*"
    r"(?P<list>\d+(?:\s*[-–]\s*\d+)?)",
    re.IGNORECASE,
)
_PATH_LINE_SUFFIX_RE = re.compile(r"^(?P<path>.+?):(?P<a>\d+)(?:-(?P<b>\d+))?$")


_STRICT_PATH_RE = re.compile(rf"\.(?:{_EXT})$|/$|\*$", re.IGNORECASE)


def looks_like_path(token: str, *, strict: bool = False) -> bool:
    """Whether a token is written like a file or directory path (not a URL, not prose).

    ``strict`` (for tokens found in prose) also wants a file extension, a trailing slash or
    a glob: "`src/celery_app`" in a sentence is more often a module than a file.
    """
    token = token.strip()
    if not token or " " in token or "://" in token or token.startswith(("http", "mailto:")):
        return False
    if token.startswith("/") and token.count("/") == 1 and not token.endswith("/"):
        return False  # "/health" is an endpoint, not a file
    if strict and not _STRICT_PATH_RE.search(token):
        return False
    return bool(_PATHISH_RE.match(token))


def paths_in(text: str, *, backticks: bool = True) -> list[tuple[str, list[tuple[int, int]]]]:
    """File paths ``text`` names, each with the lines its own link or suffix gives.

    Relative Markdown link targets always count; backticked tokens only when
    ``backticks`` and they look like a path ("`src/email/`", "`app.py:12`").
    """
    found: list[tuple[str, list[tuple[int, int]]]] = []
    for m in LINK_RE.finditer(text):
        target = m.group("target")
        base = target.split("#", 1)[0]
        if looks_like_path(base):
            found.append((base, anchor_lines(target)))
    if backticks:
        bare = LINK_RE.sub("", text)
        for m in _BACKTICK_RE.finditer(bare):
            token = m.group(1).strip()
            suffix = _PATH_LINE_SUFFIX_RE.match(token)
            if suffix and looks_like_path(suffix.group("path"), strict=True):
                a = int(suffix.group("a"))
                b = int(suffix.group("b") or a)
                found.append((suffix.group("path"), [(a, b)] if b >= a else []))
            elif looks_like_path(token, strict=True):
                found.append((token, []))
    else:
        # "`api.py` line 45": a backticked path that names its line is a place anywhere.
        for m in _TICK_LINE_RE.finditer(text):
            if looks_like_path(m.group("path"), strict=True):
                found.append((m.group("path"), _ranges(m.group("list"))))
    seen = {p for p, _ in found}
    # "scanner.py:526", "market_data.py:111, 165" written without backticks.
    for m in _BARE_PLACE_RE.finditer(_BACKTICK_RE.sub(" ", LINK_RE.sub("", text))):
        if m.group("path") not in seen and looks_like_path(m.group("path"), strict=True):
            found.append((m.group("path"), _ranges(m.group("list"))))
    return found


def field_paths(value: str) -> list[str]:
    """Paths in the value of a "File(s)" field: backticked, linked or bare, comma-separated."""
    found = [p for p, _ in paths_in(value)]
    if found:
        return found
    out = []
    for token in re.findall(r"[\w./@*~-]+", LINK_RE.sub("", value)):
        token = token.rstrip(".")
        if looks_like_path(token) and token not in out:
            out.append(token)
    return out


_COMMIT_RE = re.compile(r"(?<![\w./#-])([0-9a-f]{7,40})(?![\w/-])")


def commits_in(text: str) -> list[str]:
    """Commit hashes as written: 7-40 hex digits mixing letters and digits, not inside a word."""
    out: list[str] = []
    for m in _COMMIT_RE.finditer(text):
        token = m.group(1)
        if re.search(r"\d", token) and re.search(r"[a-f]", token) and token not in out:
            out.append(token)
    return out
