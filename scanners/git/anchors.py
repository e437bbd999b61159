"""Placing a document and a claimed fix in a repository's history.

A remediation document rarely says which commit it describes. These reads find candidates,
each bounded (a commit count, a date window, a path limit, a timeout) so that a history of
tens of thousands of commits costs a fraction of a second:

* :func:`text_versions` -- the versions of text files (Markdown, plain text...) in a branch's
  history, as (commit, path, blob), for comparing a document's text with each;
* :func:`read_blobs` -- the bytes of those blobs, with one git process;
* :func:`newest_touching` -- the newest commit in a date window that changed any of some paths;
* :func:`pickaxe` -- the commits up to a point that changed how often a string occurs in some
  paths (``git log -S``), newest first: where a line of code came in or went.

Which candidate is right is the caller's decision; nothing here guesses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from scanners.git.command import Repository, git_read

TEXT_SUFFIXES = ("md", "markdown", "txt", "rst", "adoc", "org")
"""Files a document may have been committed as."""
PICKAXE_TIMEOUT = 15.0
"""Seconds one ``git log -S`` may take; a slower search is a check that cannot run."""


@dataclass(frozen=True, slots=True)
class TextVersion:
    """One version of a file: the commit that wrote it, its path and blob, and its size."""

    sha: str
    path: str
    blob: str
    size: int = 0


def text_versions(
    repo: Repository, until: str, *, suffixes: Iterable[str] = TEXT_SUFFIXES, limit: int = 2000
) -> list[TextVersion]:
    """Every version (added, modified or renamed into place) of a file ending in one of
    ``suffixes`` in the history of ``until``, oldest first, at most ``limit`` of them (the
    newest), each with its size in bytes."""
    endings = tuple(f".{suffix.lower()}" for suffix in dict.fromkeys(suffixes))
    # No pathspec: git matching one against every changed path is several times slower than
    # listing them all and keeping the text files here.
    _, out = git_read(
        repo,
        ["log", "--format=%x1e%H", "--raw", "--no-abbrev", "--diff-filter=AMR"]
        + ["--no-ext-diff", "--no-textconv", "--no-renames", until, "--"],
        what="listing the versions of text files",
    )
    found: list[TextVersion] = []
    for record in out.decode("utf-8", "replace").split("\x1e")[1:]:
        sha, _, raw = record.partition("\n")
        for line in raw.splitlines():
            # ":100644 100644 <old> <new> M\tpath"
            meta, _, path = line.partition("\t")
            parts = meta.split()
            if len(parts) >= 5 and path.lower().endswith(endings):
                found.append(TextVersion(sha.strip(), path, parts[3]))
        if len(found) >= limit:
            break
    found = found[:limit]
    sizes = _blob_sizes(repo, {v.blob for v in found})
    found.reverse()
    return [dataclasses.replace(v, size=sizes.get(v.blob, 0)) for v in found]


def read_blobs(repo: Repository, blobs: Sequence[str]) -> dict[str, bytes]:
    """The content of each blob in ``blobs`` (missing ones left out), one git process."""
    if not blobs:
        return {}
    _, out = git_read(
        repo,
        ["cat-file", "--batch"],
        stdin="".join(f"{b}\n" for b in blobs).encode(),
        what=f"reading {len(blobs)} file version(s)",
    )
    found: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        header = out[at:end].decode("ascii", "replace").split()
        at = end + 1
        if len(header) < 3 or header[1] == "missing":
            continue
        size = int(header[2])
        found[header[0]] = out[at : at + size]
        at += size + 1
    return found


def newest_touching(
    repo: Repository, until: str, paths: Sequence[str], *, since: datetime, before: datetime
) -> str | None:
    """The newest commit in ``until``'s history, committed between ``since`` and ``before``,
    that changed any of ``paths`` (git pathspecs), else None."""
    if not paths:
        return None
    _, out = git_read(
        repo,
        ["log", "-1", "--format=%H", f"--since={since.isoformat()}"]
        + [f"--until={before.isoformat()}", until, "--", *paths],
        what="finding the commits near the document's date",
    )
    sha = out.decode("ascii", "replace").strip()
    return sha or None


def pickaxe(
    repo: Repository,
    needle: str,
    until: str,
    paths: Sequence[str],
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int = 5,
) -> list[str]:
    """Up to ``limit`` commits in ``until``'s history (itself included), newest first, that
    changed the number of times ``needle`` occurs in ``paths``, committed after ``since``
    and before ``before`` (when given).

    Runs under :data:`PICKAXE_TIMEOUT` (or the repository's own, when shorter); a search that
    takes longer raises :class:`GitError`.
    """
    if not needle or not paths:
        return []
    quick = dataclasses.replace(repo, timeout=min(repo.timeout, PICKAXE_TIMEOUT))
    window = [f"--since={since.isoformat()}"] if since else []
    window += [f"--until={before.isoformat()}"] if before else []
    _, out = git_read(
        quick,
        ["log", f"-S{needle}", "--format=%H", f"--max-count={limit}", *window]
        + ["--no-ext-diff", "--no-textconv", until, "--", *paths],
        what="searching the history for the commit that brought in the code",
    )
    return out.decode("ascii", "replace").split()


def _blob_sizes(repo: Repository, blobs: set[str]) -> dict[str, int]:
    if not blobs:
        return {}
    _, out = git_read(
        repo,
        ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
        stdin="".join(f"{b}\n" for b in sorted(blobs)).encode(),
        what="reading the sizes of file versions",
    )
    sizes: dict[str, int] = {}
    for line in out.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes
