"""A commit checked out into a temporary, detached worktree, removed whatever happens.

The worktree lives in a folder of its own under the data folder (``<work_root>/scan-XXXX/``)
next to the scan's scratch files. Every git call goes through the hardened layer in
:mod:`scanners.git` (time limit, no hooks, no outside configuration), so checking out a
hostile commit runs nothing. Leaving the context always runs ``git worktree remove --force``,
deletes the folder and prunes the repository's worktree list: on success, on error, on a
timeout and on KeyboardInterrupt.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scanners.git.command import GitError, Repository, run_git

log = logging.getLogger(__name__)

# Checking out a large repository takes longer than one read; still bounded.
CHECKOUT_TIMEOUT = 600.0
# A scan folder older than this was left by a process that was killed outright (SIGKILL, a
# hard task time limit): nothing alive can still be using it.
STALE_AFTER = 24 * 3600.0
PREFIX = "scan-"


@dataclass(frozen=True, slots=True)
class Checkout:
    """A checked-out commit: ``tree`` holds its files, ``scratch`` is for the scan's own
    files (reports, caches); both vanish when the context exits. ``unlinked`` counts symbolic
    links removed because they pointed outside the tree."""

    sha: str
    tree: Path
    scratch: Path
    unlinked: int


@contextmanager
def checked_out(repo: Repository, sha: str, *, work_root: Path) -> Iterator[Checkout]:
    """Check the full hash ``sha`` out into a new detached worktree under ``work_root``.

    Symbolic links in the commit that point outside the tree are removed before any tool
    runs, so a scanner cannot be steered into reading (and quoting) files of this server.
    Raises :class:`GitError` when the checkout fails; cleanup still happens.
    """
    work_root.mkdir(parents=True, exist_ok=True)
    sweep_stale(work_root)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=work_root)).resolve()
    tree = folder / "tree"
    scratch = folder / "scratch"
    try:
        scratch.mkdir()
        run_git(
            ["worktree", "add", "--detach", "--", str(tree), sha],
            git_dir=repo.git_dir,
            timeout=max(repo.timeout, CHECKOUT_TIMEOUT),
            what=f"checking out {sha[:12]} of {repo.name} into a temporary worktree",
        )
        unlinked = _drop_outside_links(tree)
        yield Checkout(sha=sha, tree=tree, scratch=scratch, unlinked=unlinked)
    finally:
        remove(repo, folder, tree)


def remove(repo: Repository, folder: Path, tree: Path) -> None:
    """Remove the worktree at ``tree`` and the scan folder; prune the repository's list.

    Each step runs even if an earlier one failed (a half-created worktree, a deleted folder);
    problems are logged, never raised, so they cannot hide the error that ended the scan.
    """
    if tree.exists():
        try:
            run_git(
                ["worktree", "remove", "--force", "--force", "--", str(tree)],
                git_dir=repo.git_dir,
                timeout=max(repo.timeout, CHECKOUT_TIMEOUT),
                what=f"removing the temporary worktree {tree}",
            )
        except GitError as error:
            log.warning("%s", error)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        run_git(
            ["worktree", "prune"],
            git_dir=repo.git_dir,
            timeout=repo.timeout,
            what=f"pruning worktrees of {repo.name}",
        )
    except GitError as error:
        log.warning("%s", error)
    if folder.exists():
        log.warning("the scan folder %s could not be removed", folder)


def sweep_stale(work_root: Path, *, older_than: float = STALE_AFTER) -> int:
    """Delete scan folders under ``work_root`` untouched for ``older_than`` seconds; how many.

    Their worktree entries disappear from each repository at its next prune.
    """
    removed = 0
    limit = time.time() - older_than
    for entry in work_root.glob(PREFIX + "*"):
        try:
            if entry.is_dir() and not entry.is_symlink() and entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def _drop_outside_links(tree: Path) -> int:
    count = 0
    for folder, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if not path.is_symlink():
                continue
            target = path.resolve()
            if target != tree and tree not in target.parents:
                path.unlink()
                count += 1
    return count
