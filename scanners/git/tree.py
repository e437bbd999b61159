"""What a scan merge asks of a commit's tree: which files moved between two commits, and
which of some paths still exist at one. Each is one git process, whatever the number of
paths."""

from __future__ import annotations

from collections.abc import Iterable

from scanners.git.command import Repository, git_read
from scanners.git.history import require_commit

RENAME_LIMIT = 20_000
"""How many added and deleted files git compares for inexact renames (``-l``): a flattened
directory is hundreds of renames at once, past git's default of 1,000."""


def renamed_paths(repo: Repository, old: str, new: str) -> list[tuple[str, str]]:
    """(path at ``old``, path at ``new``) of every file git finds renamed (``-M``) or copied
    (``-C``) between the two commits, in git's order."""
    before, after = require_commit(repo, old), require_commit(repo, new)
    if before == after:
        return []
    _, out = git_read(
        repo,
        ["diff", "--no-ext-diff", "--no-textconv", "--no-color", "-z", "--name-status",
         "-M", "-C", f"-l{RENAME_LIMIT}", "--diff-filter=RC", before, after, "--"],
        what=f"finding renames between {before[:12]} and {after[:12]}",
    )  # fmt: skip
    tokens = out.split(b"\0")
    moves: list[tuple[str, str]] = []
    i = 0
    while i + 2 < len(tokens):
        status = tokens[i].decode("ascii", "replace")
        if status[:1] in ("R", "C"):
            old_path, new_path = tokens[i + 1], tokens[i + 2]
            moves.append((old_path.decode("utf-8", "replace"), new_path.decode("utf-8", "replace")))
            i += 3
        else:
            i += 2
    return moves


def paths_present(repo: Repository, sha: str, paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` that are files at commit ``sha`` (one ``cat-file --batch-check``)."""
    full = require_commit(repo, sha)
    asked = [path for path in dict.fromkeys(paths) if path and "\n" not in path]
    if not asked:
        return set()
    _, out = git_read(
        repo,
        ["cat-file", "--batch-check=%(objecttype)"],
        stdin="".join(f"{full}:{path}\n" for path in asked).encode(),
        what=f"looking for {len(asked)} files at {full[:12]}",
    )
    answers = out.decode("utf-8", "replace").splitlines()
    return {path for path, answer in zip(asked, answers, strict=False) if answer == "blob"}
