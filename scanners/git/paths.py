"""File names as documents write them, matched to the repository's paths; files followed.

A remediation document names a file the way a person would: a bare name (``tracker_email.py``),
a path with a deployment prefix (``/var/www/app/backend/server.js``), a Python module
(``bot.data.market``). :func:`resolve_name` finds the repository path it means at a commit:

1. the exact path;
2. else the paths that end with the longest trailing part of the name (``backend/server.js``,
   then ``server.js``): one such path is the answer;
3. else, among several, the one the fix commit changes; otherwise the name is ambiguous and
   the candidates are reported, never guessed.

:func:`follow_path` tells what became of a file after a commit: its name at a later commit
(renames and moves followed), or the commit that deleted it. It reads only the history of
that one path (``git log -- PATH``), never every change of the range.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from scanners.git.command import Repository, git_read
from scanners.git.history import is_ancestor, require_commit

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
_MODULE_SUFFIXES = (".py", "/__init__.py")
_SHOWN = 5


class NameMatch(enum.StrEnum):
    EXACT = "exact"
    SUFFIX = "suffix"
    TOUCHED = "touched"
    AMBIGUOUS = "ambiguous"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class ResolvedName:
    """What ``name`` means at ``sha``: ``path`` (None when ambiguous or missing), how it was
    matched, every candidate path, and a plain sentence saying so."""

    name: str
    path: str | None
    match: NameMatch
    candidates: tuple[str, ...]
    reason: str


def resolve_name(
    repo: Repository, name: str, at: str, *, touched: Iterable[str] = ()
) -> ResolvedName:
    """The repository path at commit ``at`` that a document's ``name`` means; ``touched``
    are the paths the fix commit changes (they settle a choice among several candidates,
    and count as present even when the commit deleted them)."""
    full = require_commit(repo, at)
    changed = set(touched)
    paths = set(tracked_paths(repo, full)) | changed
    short = full[:12]
    written, *modules = _forms(name)
    if written in paths:
        return ResolvedName(name, written, NameMatch.EXACT, (written,), f"{name} is {written}")
    for suffix in _suffixes(name):
        found = tuple(sorted(p for p in paths if p == suffix or p.endswith("/" + suffix)))
        if found == (suffix,) and suffix in modules:
            reason = f"{name} is {suffix} (read as a module name)"
            return ResolvedName(name, suffix, NameMatch.EXACT, found, reason)
        if len(found) == 1:
            reason = f"{name} is {found[0]}, the only file ending in {suffix} at {short}"
            return ResolvedName(name, found[0], NameMatch.SUFFIX, found, reason)
        if not found:
            continue
        hit = [p for p in found if p in changed]
        shown = _listed(found)
        if len(hit) == 1:
            reason = (
                f"{name} is {hit[0]}: of {len(found)} candidates ({shown}) it is the one "
                f"commit {short} changes"
            )
            return ResolvedName(name, hit[0], NameMatch.TOUCHED, found, reason)
        reason = (
            f"{name} is ambiguous ({len(found)} candidates: {shown}); commit {short} changes "
            + ("none of them" if not hit else f"{len(hit)} of them")
        )
        return ResolvedName(name, None, NameMatch.AMBIGUOUS, found, reason)
    reason = f"no file named {name} (or ending in its last part) exists at {short}"
    return ResolvedName(name, None, NameMatch.MISSING, (), reason)


def tracked_paths(repo: Repository, sha: str) -> list[str]:
    """Every file path in the tree of commit ``sha``."""
    _, out = git_read(
        repo, ["ls-tree", "-r", "-z", "--name-only", sha], what=f"listing the files of {sha[:12]}"
    )
    return [p.decode("utf-8", "replace") for p in out.split(b"\0") if p]


@dataclass(frozen=True, slots=True)
class PathFate:
    """The file's name at the later commit (None when it is gone), the renames on the way
    as (commit, old, new), and the commit that deleted it (when one did)."""

    path: str | None
    renames: tuple[tuple[str, str, str], ...] = ()
    removed_by: str | None = None


def follow_path(repo: Repository, path: str, *, since: str, until: str) -> PathFate | None:
    """What became of ``path`` (a file at ``since``) by ``until``, following renames one path
    at a time; None when ``since`` is not an ancestor of ``until`` (no line of history to
    follow)."""
    start, goal = require_commit(repo, since), require_commit(repo, until)
    if not is_ancestor(repo, start, goal):
        return None
    current, base = path, start
    renames: list[tuple[str, str, str]] = []
    for _ in range(100):  # a file renamed more than 100 times is not followed further
        gone = _first_removal(repo, current, base, goal)
        if gone is None:
            return PathFate(current, tuple(renames))
        new = _renamed_to(repo, gone, current)
        if new is None:
            return PathFate(None, tuple(renames), gone)
        renames.append((gone, current, new))
        current, base = new, gone
        if _exists(repo, goal, current):
            # As for a file that keeps its name: there at the end means it lived on.
            return PathFate(current, tuple(renames))
    return PathFate(current, tuple(renames))


def _exists(repo: Repository, sha: str, path: str) -> bool:
    _, out = git_read(
        repo, ["cat-file", "--batch-check"], stdin=f"{sha}:{path}\n".encode(), what="a lookup"
    )
    return out.split(b" ")[1:2] == [b"blob"]


def _first_removal(repo: Repository, path: str, base: str, goal: str) -> str | None:
    """The first commit in base..goal, oldest first, after which ``path`` is no longer there
    (deleted or renamed away), reading only that path's history; None if it survives."""
    if base == goal:
        return None
    _, out = git_read(
        repo,
        ["log", "--topo-order", "--reverse", "--format=%x1e%H", "--name-status", "--no-renames",
         "--diff-filter=D", f"{base}..{goal}", "--", path],
        what=f"following {path}",
    )  # fmt: skip
    for block in out.decode("utf-8", "replace").split("\x1e")[1:]:
        sha, _, rest = block.partition("\n")
        if rest.strip():
            return sha.strip()
    return None


def _renamed_to(repo: Repository, sha: str, path: str) -> str | None:
    """The new name of ``path`` when commit ``sha`` renamed (or moved) it, else None."""
    _, out = git_read(
        repo,
        ["diff-tree", "-r", "-z", "-M", "--name-status", "--no-commit-id", f"{sha}^", sha],
        what=f"reading the renames of {sha[:12]}",
    )
    tokens = [t.decode("utf-8", "replace") for t in out.split(b"\0")]
    i = 0
    while i < len(tokens):
        letter = tokens[i][:1]
        if letter == "R" and i + 2 < len(tokens) and tokens[i + 1] == path:
            return tokens[i + 2]
        i += 3 if letter in ("R", "C") else 2
    return None


def _forms(name: str) -> list[str]:
    """The name as a path: quotes and ``./`` removed, a leading ``/`` dropped, and a dotted
    module name spelt as its file."""
    clean = name.strip().strip("`'\"").replace("\\", "/")
    while clean.startswith("./"):
        clean = clean[2:]
    clean = clean.lstrip("/")
    forms = [clean]
    if "/" not in clean and _DOTTED.fullmatch(clean):
        base = clean.replace(".", "/")
        forms += [base + end for end in _MODULE_SUFFIXES]
    return forms


def _suffixes(name: str) -> list[str]:
    """Trailing parts of ``name`` as written, longest first, then of its module spelling (down
    to ``market.py`` or ``market/__init__.py``, never a bare ``__init__.py``)."""
    found: list[str] = []
    for number, form in enumerate(_forms(name)):
        parts = [p for p in form.split("/") if p not in ("", ".")]
        last = len(parts) - (2 if parts[-1:] == ["__init__.py"] else 1)
        stop = len(parts) if number == 0 else last + 1
        found += ["/".join(parts[k:]) for k in range(stop)]
    return list(dict.fromkeys(found))


def _listed(paths: tuple[str, ...]) -> str:
    more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    return ", ".join(paths[:_SHOWN]) + more
