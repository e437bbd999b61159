"""Where a document sits in the repository's history, and which commit a claim's fix is.

Reads only. :mod:`findings.services.evidence_checks` turns the answers into Checks; the
rules are in :mod:`findings.services.evidence`'s docstring. A document's *anchor* is found,
in order:

1. the commit given with ``ingest --commit`` (``Report.commit``);
2. the oldest commit that wrote a text file whose text is the document's once mojibake is
   repaired (the extractor's repair, then ftfy), a byte-order mark dropped and line endings
   and whitespace folded -- so a copy kept outside the repository, or re-saved, still matches;
3. the newest of the commits the document or its claims name that is on the branch;
4. the newest commit up to a day after the document's date (and at most
   :data:`DATE_WINDOW` before it) that touches a file the document names.

A claim without a cited or closing commit is then tied to the anchor when the anchor
touches one of its files, else to the commit that brought its AFTER code in, found by a
path-limited pickaxe search (``git log -S``) in a window before the anchor or the date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import ftfy

from findings.models import Claim, Report
from scanners import git
from scanners.documents.text import repair
from scanners.git.anchors import TEXT_SUFFIXES, newest_touching, pickaxe, read_blobs, text_versions

DATE_WINDOW = timedelta(days=30)
"""How far before a document's date a commit touching its files may anchor it."""
FIX_WINDOW = timedelta(days=180)
"""How far before the anchor (or the document's date) the commit that brought in a claim's
AFTER code is looked for."""
NEEDLES = 3
"""How many distinctive lines of a claim's code are searched for, one after the other."""
TEXT_READS = 40
"""At most this many file versions are read and compared with a document's text."""
_MIN_LINE = 12
_ELISION = re.compile(r"^(?:(?:#|//|--|;|/\*|<!--)\s*)?(?:\.\.\.|…)")
_COMMENT = re.compile(r"^(?:#|//|--|/\*|\*|<!--)")
_PATTERN = re.compile(r"[*?\[]")
MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){2,}$")


@dataclass(frozen=True, slots=True)
class Anchor:
    """The commit a document is tied to (None when none could be), how (``commit``,
    ``text``, ``named``, ``date``), a sentence saying so, and the date windows start from."""

    sha: str | None
    how: str
    reason: str
    path: str = ""
    when: datetime | None = None


def document_anchor(repo: git.Repository, branch: str, report: Report) -> Anchor:
    """``report``'s anchor in the history of ``branch`` (see the module docstring)."""
    document = getattr(report, "document", None)
    tried: list[str] = []
    if report.commit:
        found = _resolve(repo, report.commit)
        if found:
            reason = f"anchored to {found[:12]} given with --commit"
            return Anchor(found, "commit", reason, when=_committed(repo, found))
        tried.append(f"the commit {report.commit} given with --commit is not in the repository")
    else:
        tried.append("no commit was given with --commit")
    if document is not None and document.text.strip():
        version = _text_anchor(repo, branch, document.text, report.filename)
        if version is not None:
            sha, path, how = version
            reason = f"the document was added in {sha[:12]} as {path} ({how})"
            return Anchor(sha, "text", reason, path, _committed(repo, sha))
        tried.append(f"no text file in the history of {branch} has its text")
    named = _named_commit(repo, branch, report, document)
    if named:
        reason = f"anchored to {named[:12]}, the newest commit the document names"
        return Anchor(named, "named", reason, when=_committed(repo, named))
    tried.append("it names no commit of the branch")
    day = getattr(document, "date", None)
    if day is None:
        tried.append("it has no date")
        return Anchor(None, "", "the document is not anchored: " + ", ".join(tried))
    near = _near_date(repo, branch, report, day)
    if near:
        reason = (
            f"anchored to {near[:12]}, the newest commit up to the document's date ({day}) "
            "that touches a file it names"
        )
        return Anchor(near, "date", reason, when=_committed(repo, near))
    tried.append(
        f"no commit in the {DATE_WINDOW.days} days up to its date ({day}) touches a file it names"
    )
    return Anchor(None, "", "the document is not anchored: " + ", ".join(tried), when=_end_of(day))


def name_specs(names: Iterable[str]) -> list[str]:
    """Git pathspecs for files as a document names them: the path itself, any path ending in
    its file name, a folder's contents, a pattern, a dotted module as a path."""
    specs: list[str] = []
    for raw in names:
        name = raw.strip().lstrip("/")
        if not name:
            continue
        if name.endswith("/"):
            specs.append(f":(glob){name}**")
        elif _PATTERN.search(name):
            specs.append(f":(glob){name}")
        else:
            specs += [f":(literal){name}", f":(glob)**/{_glob_escape(name.rsplit('/', 1)[-1])}"]
            if MODULE.match(name):
                specs.append(f":(glob)**/{_glob_escape(name.replace('.', '/'))}.py")
    return list(dict.fromkeys(specs))


def distinctive_lines(code: str, other: str = "", *, count: int = NEEDLES) -> list[str]:
    """The lines of ``code`` that best identify it in a history, longest first: not in
    ``other`` (the code on the other side of the fix), not an elision or a comment, of at
    least a dozen characters; at most ``count``."""
    old = {" ".join(line.split()) for line in other.splitlines()}
    found: list[str] = []
    for line in code.splitlines():
        text = line.strip()
        if len(text) < _MIN_LINE or _ELISION.match(text) or _COMMENT.match(text):
            continue
        if "..." in text or "…" in text or " ".join(text.split()) in old:
            continue
        found.append(text)
    return sorted(dict.fromkeys(found), key=len, reverse=True)[:count]


def changed_by(
    repo: git.Repository,
    anchor: Anchor,
    head: str,
    specs: list[str],
    needles: list[str],
    holds: Callable[[str], bool],
    *,
    what: str,
) -> tuple[str | None, str]:
    """The newest commit up to the anchor (or, unanchored, up to the document's date) within
    :data:`FIX_WINDOW` that changed how often one of ``needles`` (tried in turn) occurs in
    the claim's files (git pathspecs ``specs``) and for which ``holds(sha)``; ``what`` it
    did, in words ("brought in the AFTER code"), makes the reason."""
    if not needles:
        return None, f"the claim's code has no distinctive line to find the commit that {what}"
    if anchor.sha is None and anchor.when is None:
        return None, "the document is neither anchored nor dated, so there is no window to search"
    until = anchor.sha or head
    since = (anchor.when - FIX_WINDOW) if anchor.when else None
    before_date = None if anchor.sha else anchor.when
    for needle in needles:
        try:
            shas = pickaxe(repo, needle, until, specs, since=since, before=before_date)
        except git.GitError as error:
            return None, f"the history could not be searched for the commit that {what}: " + (
                error.plain
            )
        for sha in shas:
            if holds(sha):
                return sha, f"it {what} (“{_short(needle)}”)"
    where = f"{until[:12]}" if anchor.sha else "the document's date"
    return None, f"no commit in the {FIX_WINDOW.days} days up to {where} {what}"


def fix_by_code(
    repo: git.Repository,
    anchor: Anchor,
    head: str,
    names: list[str],
    pair: tuple[str, str],
    *,
    touched: Callable[[str], list[str]],
    means: Callable[[str, str], bool],
) -> tuple[str | None, str]:
    """The commit in the window before the anchor that brought in ``pair``'s AFTER code
    (found in the claimed file after it), else, for a claim quoting only BEFORE code, the one
    that took the BEFORE code out (in the file at its parent, gone after it). ``touched``
    lists a commit's changed paths; ``means(path, name)`` says whether a path is a name."""
    before, after = pair

    def has(at: str, sha: str, code: str) -> bool:
        for path in touched(sha):
            if any(means(path, name) for name in names):
                try:
                    text = git.file_at(repo, at, path)
                    if text is not None and git.code_presence(text, code):
                        return True
                except git.GitError:
                    continue
        return False

    def took_out(sha: str) -> bool:
        try:
            parent = git.require_commit(repo, f"{sha}^")
        except git.GitError:
            return False
        return not has(sha, sha, before) and has(parent, sha, before)

    specs = _pathspecs(repo, anchor.sha or head, names)
    if after.strip():
        return changed_by(
            repo,
            anchor,
            head,
            specs,
            distinctive_lines(after, before),
            lambda sha: has(sha, sha, after),
            what="brought in the AFTER code",
        )
    needles = distinctive_lines(before, after)
    return changed_by(repo, anchor, head, specs, needles, took_out, what="took out the BEFORE code")


def _pathspecs(repo: git.Repository, at: str, names: list[str]) -> list[str]:
    """The claim's files as exact paths at ``at`` where they resolve (every candidate of an
    ambiguous name), else as patterns for any path the name can mean: a pickaxe limited to
    exact paths is several times faster."""
    specs: list[str] = []
    for name in names:
        found = None
        if not (name.endswith("/") or _PATTERN.search(name)):
            try:
                found = git.resolve_name(repo, name, at)
            except git.GitError:
                found = None
        paths = ([found.path] if found.path else list(found.candidates)) if found else []
        if paths:
            specs += [f":(literal){path}" for path in paths[:20]]
        else:
            specs += name_specs([name])
    return list(dict.fromkeys(specs))


# --- the anchor's steps -----------------------------------------------------------------------


def _text_anchor(
    repo: git.Repository, branch: str, text: str, filename: str
) -> tuple[str, str, str] | None:
    """(commit, path, how the text matched) for the oldest version of a text file whose
    text is the document's, reading at most :data:`TEXT_READS` likely versions."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    try:
        versions = text_versions(
            repo, branch, suffixes=(*TEXT_SUFFIXES, *([suffix] if suffix else []))
        )
    except git.GitError:
        return None
    size = len(text.encode("utf-8"))
    base = filename.rsplit("/", 1)[-1].lower()
    # Mojibake makes a text up to three times longer; re-saving it shorter by line endings.
    likely = [v for v in versions if size // 3 <= v.size <= size * 3 + 64]
    likely.sort(key=lambda v: (v.path.rsplit("/", 1)[-1].lower() != base, abs(v.size - size)))
    blobs = list(dict.fromkeys(v.blob for v in likely))[:TEXT_READS]
    try:
        contents = read_blobs(repo, blobs)
    except git.GitError:
        return None
    skeleton, normal = _skeleton(text), None
    matched: dict[str, str] = {}
    for blob, data in contents.items():
        plain = data.decode("utf-8", "replace").removeprefix("\ufeff")
        if _skeleton(plain) != skeleton:
            continue
        normal = normal if normal is not None else _normal(text)
        if " ".join(plain.split()) == " ".join(text.split()):
            matched[blob] = (
                "same text"
                if plain.replace("\r\n", "\n") == text
                else ("same text once line endings and whitespace are folded")
            )
        elif _normal(plain) == normal:
            matched[blob] = "text matches after repairing encoding"
    for version in versions:
        if version.blob in matched:
            return version.sha, version.path, matched[version.blob]
    return None


def before_gone(repo: git.Repository, at: str, files: list[str], before: str) -> list[str]:
    """The ``files`` that exist at ``at`` when ``before`` is in none of them; empty when it is
    in one, when none exists, or when a file cannot be read."""
    existing: list[str] = []
    for path in files:
        try:
            text = git.file_at(repo, at, path)
            if text is None:
                continue
            if git.code_presence(text, before):
                return []
        except git.GitError:
            return []
        existing.append(path)
    return existing


def after_at(
    repo: git.Repository, at: str, files: list[str], pair: tuple[str, str]
) -> tuple[str, git.CodeMatch] | None:
    """The file among ``files`` that exist at ``at`` where the AFTER code of ``pair``
    (BEFORE, AFTER) fares best, judged against its BEFORE code, with the match; None when
    none exists there or the code cannot be compared."""
    before, after = pair
    best: tuple[str, git.CodeMatch] | None = None
    for path in files:
        try:
            text = git.file_at(repo, at, path)
            if text is None:
                continue
            match = git.code_match(text, after, path, rival=before)
        except git.GitError:
            continue
        if best is None or (match.found, match.score) > (best[1].found, best[1].score):
            best = (path, match)
    return best


def missing_named(repo: git.Repository, report: Report) -> list[str]:
    """The commits the document names (outside code), when none of them is in the
    repository: the fix commits it gives for its claims do not exist. Empty when it names
    none, or when any one of them resolves (an abbreviation shared by two objects, too, is
    not called missing)."""
    document = getattr(report, "document", None)
    refs = [str(r).strip() for r in dict.fromkeys(getattr(document, "commits", None) or [])]
    refs = [r for r in refs if r][:50]
    missing: list[str] = []
    for ref in refs:
        try:
            found = git.resolve(repo, ref)
        except git.GitError:
            return []
        if found.outcome is not git.ResolveOutcome.MISSING:
            return []
        missing.append(ref)
    return missing


def _named_commit(repo: git.Repository, branch: str, report: Report, document) -> str | None:
    refs = list(getattr(document, "commits", None) or [])
    for commits in Claim.objects.filter(report=report).values_list("commits", flat=True):
        refs += list(commits or [])
    refs = [str(ref).strip() for ref in dict.fromkeys(refs) if str(ref).strip()]
    if not refs:
        return None
    try:
        head = git.require_commit(repo, branch)
        found = [sha for sha in (_resolve(repo, r) for r in refs[:50]) if sha]
        on_branch = [sha for sha in dict.fromkeys(found) if git.is_ancestor(repo, sha, head)]
        ordered = git.order_commits(repo, on_branch).shas if on_branch else ()
    except git.GitError:
        return None
    return ordered[-1] if ordered else None


def _near_date(repo: git.Repository, branch: str, report: Report, day: date) -> str | None:
    names = [
        str(ref.get("path") or "")
        for files in Claim.objects.filter(report=report).values_list("files", flat=True)
        for ref in files or []
    ]
    specs = name_specs(names)
    end = _end_of(day)
    try:
        return newest_touching(repo, branch, specs, since=end - DATE_WINDOW, before=end)
    except git.GitError:
        return None


# --- small helpers ----------------------------------------------------------------------------


def _resolve(repo: git.Repository, ref: str) -> str | None:
    try:
        found = git.resolve(repo, ref)
    except git.GitError:
        return None
    return found.sha if found.outcome is git.ResolveOutcome.FOUND else None


def _committed(repo: git.Repository, sha: str) -> datetime | None:
    try:
        return git.commit_info(repo, sha).committed_at
    except git.GitError:
        return None


def _end_of(day: date) -> datetime:
    """The end of ``day`` anywhere on earth: a document dated that day may be committed
    up to a day later in UTC."""
    return datetime.combine(day, time.max, tzinfo=UTC) + timedelta(hours=14)


def _skeleton(text: str) -> str:
    """The text's ASCII characters without whitespace: mojibake only ever changes the
    characters outside ASCII, so two versions of one text share this."""
    return "".join(ch for ch in text if ch.isascii() and not ch.isspace())


def _normal(text: str) -> str:
    repaired = ftfy.fix_text(repair(text.replace("\r\n", "\n").replace("\r", "\n")).text)
    return " ".join(repaired.removeprefix("\ufeff").split())


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[\]])", r"[\1]", name)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
