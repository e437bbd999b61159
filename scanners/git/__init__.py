"""The git adapter: proves claimed fixes against a project's repository.

Pure: it reads repositories and returns values; it never imports the ``findings`` models.
Every git process goes through :func:`scanners.git.command.run_git` (time-limited, no hooks,
no prompts, no outside configuration). Modules, in the order a newcomer needs them:

* ``command``   -- the hardened git runner, :class:`GitError`, :func:`open_repo`;
* ``cache``     -- :class:`GitCache`, the answers of one run's reads, carried by its handle;
* ``remotes``   -- :func:`validate_remote`, :func:`clone`, :func:`fetch`;
* ``history``   -- :func:`resolve`, :func:`commit_info`, :func:`iter_commits`,
  :func:`order_commits`, :func:`is_ancestor`;
* ``citations`` -- :func:`cited_keys` ("Fixes LILY-42");
* ``lines``     -- :func:`diff_hunks`, :func:`overlap`, :func:`line_history`,
  :func:`blame`, :func:`file_at`, :func:`path_at`;
* ``paths``     -- :func:`resolve_name` (a document's file name as a repository path),
  :func:`follow_path` (a file's later name, or the commit that deleted it);
* ``code``      -- :func:`code_match` (score and closest span), :func:`code_presence`,
  :func:`normalise_code`, :func:`shell_session`, :func:`plain_text`;
* ``tree``      -- :func:`renamed_paths`, :func:`paths_present` (a scan merge's questions);
* ``anchors``   -- versions of text files, commits near a date, the pickaxe (``git log -S``):
  where a document and a claimed fix sit in the history;
* ``claims``    -- :func:`verify_claim`, the checks behind a claimed fix.
"""

from scanners.git.cache import GitCache
from scanners.git.citations import Citation, cited_keys
from scanners.git.claims import (
    Check,
    CheckKind,
    CheckOutcome,
    Claim,
    ClaimedFile,
    ClaimVerdict,
    verify_claim,
)
from scanners.git.code import (
    CodeMatch,
    Span,
    code_match,
    code_presence,
    normalise_code,
    plain_text,
    shell_session,
)
from scanners.git.command import (
    DEFAULT_TIMEOUT,
    GitError,
    Repository,
    git_read,
    open_repo,
    run_git,
)
from scanners.git.history import (
    CommitInfo,
    FileChange,
    Ordered,
    Resolved,
    ResolveOutcome,
    Unreadable,
    commit_info,
    is_ancestor,
    iter_commits,
    order_commits,
    require_commit,
    resolve,
    unreadable_object,
)
from scanners.git.lines import (
    BlameShare,
    FileDiff,
    Hunk,
    LineChange,
    LineRange,
    OverlapResult,
    RangeMatch,
    Side,
    blame,
    diff_hunks,
    file_at,
    first_parent,
    line_history,
    overlap,
    path_at,
)
from scanners.git.paths import (
    NameMatch,
    PathFate,
    ResolvedName,
    follow_path,
    resolve_name,
    tracked_paths,
)
from scanners.git.remotes import FetchResult, RefChange, clone, fetch, validate_remote
from scanners.git.tree import paths_present, renamed_paths

__all__ = [
    "tracked_paths",
    "resolve_name",
    "follow_path",
    "ResolvedName",
    "PathFate",
    "NameMatch",
    "DEFAULT_TIMEOUT",
    "BlameShare",
    "Check",
    "CheckKind",
    "CheckOutcome",
    "Citation",
    "Claim",
    "ClaimVerdict",
    "ClaimedFile",
    "CommitInfo",
    "FetchResult",
    "FileChange",
    "FileDiff",
    "GitCache",
    "GitError",
    "Hunk",
    "LineChange",
    "LineRange",
    "Ordered",
    "OverlapResult",
    "RangeMatch",
    "RefChange",
    "Repository",
    "ResolveOutcome",
    "Resolved",
    "Side",
    "Unreadable",
    "blame",
    "cited_keys",
    "clone",
    "code_match",
    "code_presence",
    "CodeMatch",
    "Span",
    "commit_info",
    "diff_hunks",
    "first_parent",
    "fetch",
    "file_at",
    "git_read",
    "is_ancestor",
    "iter_commits",
    "line_history",
    "normalise_code",
    "plain_text",
    "shell_session",
    "open_repo",
    "order_commits",
    "overlap",
    "path_at",
    "paths_present",
    "require_commit",
    "renamed_paths",
    "resolve",
    "run_git",
    "unreadable_object",
    "validate_remote",
    "verify_claim",
]
