"""From a tool's raw finding to a stable row: repo-relative paths and fingerprints.

Fingerprints never rest on a line number. The base hash covers the tool, the SARIF category,
the branch, the rule, the normalised path and either the tool's own fingerprint or the
normalised content of the flagged lines (the snippet; for reports without snippets, the
line read from the scanned file; failing both, the message). Identical contents in one file
are told apart by their ordinal in the order the report lists them (:class:`Ordinals`).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import orjson

from scanners.base import SEVERITIES, ParseError, RawFinding, ReportMeta
from scanners.rows import TEXT_FIELDS, StagedRow

_WS = re.compile(r"\s+")
_BLANK = re.compile(r"\s")
MAX_SNIPPET = 4000
MAX_SOURCE_BYTES = 8 * 1024 * 1024


def uri_to_path(uri: str) -> str:
    """A filesystem path from a URI or path as a tool wrote it (``file://``, ``\\``, ``%20``)."""
    text = uri.strip()
    if text.lower().startswith("file:"):
        parts = urlsplit(text)
        text = unquote(parts.path)
        # file:///C:/x -> C:/x
        if re.match(r"^/[A-Za-z]:/", text):
            text = text[1:]
    elif "%" in text:
        text = unquote(text)
    text = text.replace("\\", "/")
    return text


def _clean(path: str) -> str:
    absolute = path.startswith("/") or bool(re.match(r"^[A-Za-z]:/", path))
    normal = posixpath.normpath(path) if path else ""
    if normal == ".":
        return ""
    if not absolute:
        normal = normal.lstrip("/")
        while normal.startswith("./"):
            normal = normal[2:]
    return normal


class PathNormaliser:
    """Makes a report's paths repo-relative with the roots known for it, and caches the answers.

    ``roots`` are absolute directories (the scan root from ``--root``, the report's own base
    URIs, the root remembered for the project, the linked repository), tried longest first.
    ``base_uris`` resolves SARIF ``uriBaseId`` names.
    """

    def __init__(self, roots: list[str], base_uris: dict[str, str] | None = None) -> None:
        cleaned = {_clean(uri_to_path(root)).rstrip("/") for root in roots if root}
        self.roots = sorted((r for r in cleaned if r), key=len, reverse=True)
        self.base_uris = {k: uri_to_path(v) for k, v in (base_uris or {}).items()}
        self.unrooted: set[str] = set()
        self._cache: dict[tuple[str, str], str] = {}

    def __call__(self, raw: str, uri_base_id: str = "") -> str:
        key = (raw, uri_base_id)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._normalise(raw, uri_base_id)
        return found

    def _normalise(self, raw: str, uri_base_id: str) -> str:
        path = uri_to_path(raw)
        base = self.base_uris.get(uri_base_id, "") if uri_base_id else ""
        if base and not path.startswith("/"):
            path = base.rstrip("/") + "/" + path
            if not base.startswith("/") and not re.match(r"^[A-Za-z]:/", base):
                path = path.lstrip("/")
        path = _clean(path)
        if path.startswith("/") or re.match(r"^[A-Za-z]:/", path):
            for root in self.roots:
                if path.startswith(root + "/"):
                    return path[len(root) + 1 :]
            self.unrooted.add(path)
        return path


def normalise_code(text: str) -> str:
    """Code compared by content: lines stripped, inner whitespace folded, blank lines dropped."""
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


class SourceLines:
    """Reads flagged lines from the scanned files on disk, for reports that carry no snippet.

    With a linked repository and a commit, the file is read at that commit; otherwise only
    paths that exist on disk (absolute, or under a root) are read; a small LRU keeps the few
    files one report visits
    at a time (tools emit results grouped by file).
    """

    def __init__(
        self,
        roots: list[str],
        size: int = 32,
        at_commit: Callable[[str], str | None] | None = None,
    ) -> None:
        self.roots = [r for r in roots if r]
        self.size = size
        self.at_commit = at_commit
        self._files: OrderedDict[str, list[str] | None] = OrderedDict()

    def lines(self, raw_path: str, relative: str, start: int | None, end: int | None) -> str:
        if not start:
            return ""
        content = self._load(raw_path, relative)
        if not content:
            return ""
        last = max(start, end or start)
        return "\n".join(content[start - 1 : min(last, start + 20)])

    def _load(self, raw_path: str, relative: str) -> list[str] | None:
        if raw_path in self._files:
            self._files.move_to_end(raw_path)
            return self._files[raw_path]
        content = None
        if self.at_commit is not None and relative and not relative.startswith("/"):
            # The scanned commit's own file, when the repository is linked: the working tree
            # may have moved on since the scan ran.
            text = self.at_commit(relative)
            if text is not None:
                content = text.splitlines()
                self._files[raw_path] = content
                return content
        candidates = [Path(uri_to_path(raw_path))] if uri_to_path(raw_path).startswith("/") else []
        candidates += [Path(root) / relative for root in self.roots if relative]
        for candidate in candidates:
            try:
                if candidate.is_file() and candidate.stat().st_size <= MAX_SOURCE_BYTES:
                    content = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
                    break
            except OSError:
                continue
        self._files[raw_path] = content
        if len(self._files) > self.size:
            self._files.popitem(last=False)
        return content


_SURROGATE = re.compile("[\ud800-\udfff]")
# Made once: a staged row from its values without the NamedTuple's Python-level __new__.
_new_row = tuple.__new__


def _storable(row: StagedRow) -> bool:
    """Whether a row's texts can be stored as they are: a JSON string may hold a NUL (no
    PostgreSQL text can) or half of a UTF-16 pair (not UTF-8 at all)."""
    text = "".join(
        (
            row.tool,
            row.category,
            row.rule_id,
            row.title,
            row.message,
            row.cwe,
            row.path,
            row.snippet,
            row.suppression_reason,
        )
    )
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_text(text: str) -> str:
    """``text`` with each NUL and lone surrogate replaced by U+FFFD, the replacement
    character, as a decoder would show them."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))


LIMITS = {
    "tool": 200,
    "category": 200,
    "rule_id": 300,
    "title": 500,
    "message": 20000,
    "cwe": 20,
    "path": 1000,
    "snippet": MAX_SNIPPET,
    "suppression_reason": 2000,
    "tool_version": 100,
    "branch": 200,
    "commit": 40,
}
"""The most characters each text an import writes may hold: its database column's length (or,
for the free texts message and snippet, what we keep of them)."""

IDENTITIES = frozenset({"tool", "category", "rule_id", "path", "branch"})
"""Texts that tell findings and scopes apart: cut so that two long texts stay two (see
:func:`fit`)."""


def fit(text: str, field: str, cuts: Cuts | None = None) -> str:
    """``text`` cut to ``LIMITS[field]`` characters, counted in ``cuts`` when it was longer.

    An identity (a tool, category, rule, path or branch) keeps its start and ends with ``~``
    and a hash of the whole text, so two long texts that share a start stay apart, and the
    same text is always cut the same way."""
    limit = LIMITS[field]
    if len(text) <= limit:
        return text
    if cuts is not None:
        cuts.add(field)
    if field in IDENTITIES:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
        return text[: limit - 13] + "~" + digest
    return text[:limit]


class Cuts:
    """Which texts were cut to fit (:func:`fit`), said in a report's note: how many of the
    findings' texts of each field, and which of the report's own (its tool, version, branch,
    commit: one each)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.own: set[str] = set()

    def add(self, field: str) -> None:
        self.counts[field] = self.counts.get(field, 0) + 1

    def describe(self) -> str:
        """The note (``""`` when nothing was cut)."""
        if not self.counts and not self.own:
            return ""
        parts = [
            f"{_words(field)} ({count:,} cut to {LIMITS[field]:,} characters)"
            for field, count in sorted(self.counts.items())
        ]
        parts += [
            f"the report's {_words(field)} (cut to {LIMITS[field]:,} characters)"
            for field in sorted(self.own)
        ]
        return "texts longer than their columns were cut: " + ", ".join(parts)


class OwnCuts(Cuts):
    """The cuts of a report's own texts, recorded in ``into``."""

    def __init__(self, into: Cuts) -> None:
        super().__init__()
        self.into = into

    def add(self, field: str) -> None:
        self.into.own.add(field)


def _words(field: str) -> str:
    return field.replace("_", " ")


def storable_meta(meta: ReportMeta, cuts: Cuts | None) -> ReportMeta:
    """A copy of ``meta`` whose texts the report row can hold: storable, its tool and version
    cut to fit (noted in ``cuts`` as the report's own), its errors storable."""
    own = OwnCuts(cuts) if cuts is not None else None
    return ReportMeta(
        tool=fit(storable_text(meta.tool), "tool", own),
        tool_version=fit(storable_text(meta.tool_version), "tool_version", own),
        commit=storable_text(meta.commit),
        branch=storable_text(meta.branch),
        root=meta.root,
        base_uris=dict(meta.base_uris),
        generated_at=storable_text(meta.generated_at),
        scanned_paths=meta.scanned_paths,
        failed_paths=list(meta.failed_paths),
        errors=[storable_text(error) for error in meta.errors],
    )


def _extra_json(extra: dict) -> str:
    if not extra:
        return "{}"
    try:
        text = orjson.dumps(extra, default=str).decode()
    except orjson.JSONEncodeError:  # a lone surrogate
        text = ""
    # PostgreSQL's jsonb refuses the escape \u0000 too.
    if not text or "\\u0000" in text:
        text = orjson.dumps(_storable_json(extra), default=str).decode()
    return text


def _storable_json(value):
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): _storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable_json(v) for v in value]
    return value


def _made_storable(row: StagedRow) -> StagedRow:
    texts: dict[str, str] = {name: storable_text(getattr(row, name)) for name in TEXT_FIELDS}
    return row._replace(**texts)  # type: ignore[arg-type]  # mypy types **kwargs by every field


def _fits(row: StagedRow) -> bool:
    return (
        len(row.tool) <= 200
        and len(row.category) <= 200
        and len(row.rule_id) <= 300
        and len(row.title) <= 500
        and len(row.message) <= 20000
        and len(row.cwe) <= 20
        and len(row.path) <= 1000
        and len(row.suppression_reason) <= 2000
    )


def _made_to_fit(row: StagedRow, cuts: Cuts) -> StagedRow:
    texts = {name: fit(getattr(row, name), name, cuts) for name in TEXT_FIELDS if name in LIMITS}
    return row._replace(**texts)  # type: ignore[arg-type]  # mypy types **kwargs by every field


def identifies(value: str) -> bool:
    """Whether a tool's fingerprint value can be an identity: not empty, and not prose.

    Identifiers are hashes, ids and paths; a value with blanks in it is words (semgrep without
    a login writes ``requires login`` for every result) or a person (gitleaks' SARIF puts the
    commit's author and message among its partial fingerprints), never one finding's name."""
    return bool(value) and not _BLANK.search(value)


def _identity(raw: RawFinding, content: str) -> str:
    """What identifies a finding within its file: the tool's own fingerprint when
    :func:`identifies` accepts it; otherwise the content, as for a tool that gives none."""
    if raw.fingerprint and identifies(raw.fingerprint):
        return "fp\x00" + raw.fingerprint
    return "content\x00" + (content or _WS.sub(" ", raw.message).strip())


def base_fingerprint(raw: RawFinding, *, path: str, branch: str, content: str) -> str:
    """The line-independent identity of a finding, before its ordinal among equals is added."""
    text = "\x00".join((raw.tool, raw.scope, branch, raw.rule_id, path, _identity(raw, content)))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def content_key(raw: RawFinding, *, branch: str, content: str) -> str:
    """The fingerprint without the path and the ordinal: the same tool, category, branch,
    rule and content (or tool fingerprint) anywhere in the tree. A finding found under another
    path keeps it, which is how a move is told from a fix and a new finding
    (``findings.services.scan.moves``); it identifies nothing on its own."""
    text = "\x00".join((raw.tool, raw.scope, branch, raw.rule_id, _identity(raw, content)))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Ordinals:
    """Tells identical base fingerprints of one report apart: the second is ``base#2``..."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        count = self._counts.get(base, 0) + 1
        self._counts[base] = count
        return base if count == 1 else f"{base}#{count}"


class RowMaker:
    """Turns RawFindings into staged rows (:class:`scanners.rows.StagedRow`); rebuilt when the
    report reveals new roots."""

    def __init__(self, roots: list[str], meta: ReportMeta, branch: str, reader=None) -> None:
        self.roots = roots
        self.branch = branch
        self.reader = reader
        self.scopes: dict[tuple[str, str], None] = {}
        # What the report says of each rule its findings name (RawFinding.rule_details).
        self.rules: dict[tuple[str, str], dict] = {}
        self.ordinals = Ordinals()
        self.cuts = Cuts()
        self.rebuild(meta)

    def rule_details(self) -> tuple[tuple[str, str, dict], ...]:
        """(tool, rule id, details) of each rule the report described, as its findings store
        them (storable, cut to fit)."""
        return tuple(
            (self.text(tool, "tool"), self.text(rule, "rule_id"), _storable_json(details))
            for (tool, rule), details in self.rules.items()
        )

    def stored_scopes(self) -> tuple[tuple[str, str], ...]:
        """The (tool, category) scopes of the report's findings, as their rows store them."""
        found = ((self.text(t, "tool"), self.text(c, "category")) for t, c in self.scopes)
        return tuple(dict.fromkeys(found))

    def text(self, text: str, field: str) -> str:
        """A report's text as a column holds it: storable, cut to fit. Not counted in
        ``cuts``: the rows that hold it were."""
        return fit(storable_text(text), field)

    def rebuild(self, meta: ReportMeta) -> None:
        roots = [*self.roots, meta.root, *meta.base_uris.values()]
        self.paths = PathNormaliser(roots, meta.base_uris)
        self.source = SourceLines([r for r in self.roots if r], at_commit=self.reader)

    def row(self, seq: int, raw: RawFinding, name: str) -> StagedRow:
        if raw.severity not in SEVERITIES:
            raise ParseError(f"severity {raw.severity!r} is not one of {SEVERITIES}", source=name)
        path = self.paths(raw.path, raw.uri_base_id)
        snippet = raw.snippet
        if len(snippet) > MAX_SNIPPET:
            snippet = snippet[:MAX_SNIPPET]
            self.cuts.add("snippet")
        # The content identifies a finding only when its tool gave no fingerprint.
        tool_id = raw.fingerprint if raw.fingerprint and identifies(raw.fingerprint) else ""
        content = "" if tool_id else normalise_code(snippet)
        if not content and not tool_id:
            content = normalise_code(
                self.source.lines(raw.path, path, raw.start_line, raw.end_line)
            )
        self.scopes.setdefault((raw.tool, raw.scope), None)
        if raw.rule_details:
            self.rules.setdefault((raw.tool, raw.rule_id), raw.rule_details)
        row = _new_row(
            StagedRow,
            (
                seq,
                self.ordinals(
                    base_fingerprint(raw, path=path, branch=self.branch, content=content)
                ),
                raw.tool,
                raw.scope,
                raw.rule_id,
                raw.title or raw.rule_id or raw.message,
                raw.message,
                SEVERITIES.index(raw.severity) + 1,
                raw.cwe,
                path,
                raw.start_line,
                raw.end_line,
                snippet,
                raw.suppressed,
                raw.suppression_reason,
                _extra_json(raw.extra),
                content_key(raw, branch=self.branch, content=content),
            ),
        )
        if not _storable(row):
            row = _made_storable(row)
        return row if _fits(row) else _made_to_fit(row, self.cuts)
