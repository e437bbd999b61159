"""Reading commits: resolving hashes, commit facts, incremental history, ancestry order.

Documents cite commits by short hashes (``e4121ef``); reports name full ones. Neither is
trusted to be unique or to exist: :func:`resolve` says found, missing or ambiguous (listing
every candidate) and never guesses. Only commits count: a blob or tree that happens to share
a prefix is not a candidate, and an annotated tag is followed to its commit.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from scanners.git.command import GitError, Repository, git_read

_HEX = re.compile(r"^[0-9a-fA-F]{4,64}$")
# What a branch, tag or revision expression may contain here: no spaces, no leading dash,
# nothing git would read as an option or a path.
_REF = re.compile(r"^(?!-)[A-Za-z0-9._/@{}^~+-]{1,255}$")
_STATUS = re.compile(rb"^[ACDMRTUXB][0-9]*$")
# One record of `git log --format=_LOG_FORMAT -z --name-status`: fields split by \x1f, the
# message last so it may contain anything but NUL.
_LOG_FORMAT = "%x1e%H%x1f%h%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%P%x1f%B"
_BATCH = 500
# How git says it could not read an object: missing (a partial clone, a pruned store) or
# damaged (a loose object that does not inflate, a pack entry whose hash does not match).
_OBJECT_TROUBLE = re.compile(
    r"unable to read|could not read|missing (blob|tree|commit|object)|bad object|is corrupt|"
    r"unable to unpack|inflate|hash mismatch|packed object .* is corrupt|not a valid object"
)
_DAMAGED = re.compile(r"corrupt|unable to unpack|inflate|hash mismatch")
_OBJECT = re.compile(r"\b(?:[0-9a-f]{64}|[0-9a-f]{40})\b")


class ResolveOutcome(enum.StrEnum):
    FOUND = "found"
    MISSING = "missing"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class Resolved:
    """How ``ref`` resolved. ``sha`` is set only when found; ``candidates`` lists every
    matching commit when ambiguous. ``reason`` is a sentence for people."""

    ref: str
    outcome: ResolveOutcome
    sha: str | None
    candidates: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class FileChange:
    """A file a commit touched, against its first parent. ``change`` is git's status letter
    (A added, M modified, D deleted, R renamed, C copied, T type changed); ``old_path`` is set
    for renames and copies. ``similarity`` is git's percentage for R/C, else None."""

    change: str
    path: str
    old_path: str | None = None
    similarity: int | None = None


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """What findings need to know about a commit. Dates are timezone-aware, in the offset
    the author/committer recorded. ``files`` compares with the first parent (merges) or the
    empty tree (root commits)."""

    sha: str
    short_sha: str
    author_name: str
    author_email: str
    authored_at: datetime
    committed_at: datetime
    message: str
    parents: tuple[str, ...]
    files: tuple[FileChange, ...]

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A commit read only in part: git could not read ``object`` (``problem`` is "missing"
    or "damaged"), so the stored record lacks ``lost``: "renames" (its files are listed,
    but a renamed file shows as deleted and added) or "files" (no changed files at all)."""

    sha: str
    object: str
    problem: str
    lost: str

    @property
    def plain(self) -> str:
        """The loss in words for a page: no server path, no git output."""
        what = f"object {self.object[:12]}" if self.object else "an object"
        why = {
            "missing": "this copy of the repository does not have it",
            "damaged": "its stored data is damaged",
        }.get(self.problem, "git reported it unreadable")
        lost = {
            "renames": "its changed files are listed without renames",
            "files": "the files it changed are not listed",
        }.get(self.lost, "the commit could not be read")
        return f"commit {self.sha[:12]}: git could not read {what} ({why}), so {lost}"


@dataclass(frozen=True, slots=True)
class Ordered:
    """Commits ordered ancestors first (date breaks ties); ``unknown`` lists what could not
    be resolved to a single commit, with the reason, in input order."""

    shas: tuple[str, ...]
    unknown: tuple[Resolved, ...]


def resolve(repo: Repository, ref: str) -> Resolved:
    """Resolve a full or short hash, or a branch/tag/``HEAD`` expression, to one commit.

    A hex string of 4 or more digits is looked up as a hash prefix among all objects; commits
    and tags pointing at commits are candidates. Zero candidates is ``missing``, more than
    one is ``ambiguous`` (candidates sorted). Anything else must look like a ref name and is
    resolved by git. Input that could be read as an option raises :class:`GitError`.
    """
    text = ref.strip()
    if _HEX.match(text):
        candidates = _commits_with_prefix(repo, text.lower())
        if len(candidates) == 1:
            return Resolved(text, ResolveOutcome.FOUND, candidates[0], tuple(candidates), "")
        if candidates:
            listed = ", ".join(c[:12] for c in candidates)
            return Resolved(
                text,
                ResolveOutcome.AMBIGUOUS,
                None,
                tuple(candidates),
                f"{text} matches {len(candidates)} commits ({listed}); cite a longer hash",
            )
        # A hex-looking branch or tag name ("cafe") is still worth a try.
        sha = _rev_parse(repo, text)
        if sha:
            return Resolved(text, ResolveOutcome.FOUND, sha, (sha,), "")
        return Resolved(text, ResolveOutcome.MISSING, None, (), f"no commit matches {text}")
    if not _REF.match(text) or ".." in text:
        message = (
            f"{ref!r} is not a commit hash or a plain ref name (letters, digits, . _ / - ~ ^ @)"
        )
        raise GitError(message, plain=message)
    sha = _rev_parse(repo, text)
    if sha:
        return Resolved(text, ResolveOutcome.FOUND, sha, (sha,), "")
    return Resolved(text, ResolveOutcome.MISSING, None, (), f"no branch, tag or commit {text}")


def commit_info(repo: Repository, sha: str) -> CommitInfo:
    """The facts of one commit (resolved first: a short hash or branch name works).

    Raises :class:`GitError` when ``sha`` does not resolve to exactly one commit.
    """
    full = require_commit(repo, sha)
    commits = _log_batch(repo, [full])
    if len(commits) != 1:
        raise GitError(f"reading commit {sha} in {repo.name}: git returned {len(commits)} records")
    return commits[0]


def iter_commits(
    repo: Repository,
    *,
    branch: str,
    since_sha: str | None = None,
    unreadable: list[Unreadable] | None = None,
) -> Iterator[CommitInfo]:
    """Every commit on ``branch`` not reachable from ``since_sha``, oldest first (parents
    before children), read in batches so memory stays bounded.

    Pass the branch tip recorded last time as ``since_sha`` to read only new commits. After
    a force-push ``since_sha`` may no longer be on the branch; the rewritten commits are then
    new and are yielded. Raises :class:`GitError` for an unknown branch or ``since_sha``.

    With ``unreadable`` (a list to append to), a commit whose changed files need an object
    git cannot read (missing from a partial clone, or damaged) is still yielded, read as far
    as git can (without renames, else without files), and the loss is appended there; a
    history that cannot even be listed still raises. Without it any such failure raises.
    """
    tip = require_commit(repo, branch)
    revs = [tip]
    if since_sha:
        revs.append("^" + require_commit(repo, since_sha))
    _, out = git_read(
        repo,
        ["rev-list", "--topo-order", "--reverse", *revs, "--"],
        what=f"listing commits of {branch}",
    )
    shas = out.decode("ascii").split()
    for start in range(0, len(shas), _BATCH):
        batch = shas[start : start + _BATCH]
        if unreadable is None:
            commits = _log_batch(repo, batch)
        else:
            commits = _log_tolerant(repo, batch, unreadable)
        by_sha = {c.sha: c for c in commits}
        for sha in batch:
            yield by_sha[sha]


def is_ancestor(repo: Repository, ancestor: str, descendant: str) -> bool:
    """Whether ``ancestor`` is reachable from ``descendant`` (a commit is its own ancestor)."""
    a, d = require_commit(repo, ancestor), require_commit(repo, descendant)
    status, _ = git_read(
        repo,
        ["merge-base", "--is-ancestor", a, d],
        ok_statuses=(0, 1),
        what=f"checking whether {ancestor} is in the history of {descendant}",
    )
    return status == 0


def order_commits(repo: Repository, shas: Sequence[str]) -> Ordered:
    """Order commits so that an ancestor always precedes its descendants; unrelated commits
    by committer date, then by hash for a stable result. Duplicates appear once.

    Hashes that are missing or ambiguous are returned in ``unknown``, never placed by guess.
    """
    resolved: dict[str, str] = {}
    unknown: list[Resolved] = []
    for ref in shas:
        found = resolve(repo, ref)
        if found.outcome is ResolveOutcome.FOUND and found.sha:
            resolved.setdefault(found.sha, ref)
        else:
            unknown.append(found)
    members = list(resolved)
    if not members:
        return Ordered((), tuple(unknown))
    bit = {sha: 1 << i for i, sha in enumerate(members)}
    _, out = git_read(
        repo,
        ["rev-list", "--parents", "--topo-order", "--reverse", *members, "--"],
        what="walking the history of the reported commits",
    )
    # For every commit in the walk: which members are in its history (itself included).
    below: dict[str, int] = {}
    for line in out.decode("ascii").splitlines():
        sha, *parents = line.split()
        mask = bit.get(sha, 0)
        for parent in parents:
            mask |= below.get(parent, 0)
        below[sha] = mask
    dates = _committer_dates(repo, members)
    waiting = {sha: below[sha] & ~bit[sha] for sha in members}
    done = 0
    order: list[str] = []
    while waiting:
        ready = [sha for sha, needs in waiting.items() if needs & ~done == 0]
        first = min(ready, key=lambda s: (dates[s], s))
        order.append(first)
        done |= bit[first]
        del waiting[first]
    return Ordered(tuple(order), tuple(unknown))


def require_commit(repo: Repository, ref: str) -> str:
    """The full hash ``ref`` resolves to; :class:`GitError` saying why when it does not."""
    found = resolve(repo, ref)
    if found.outcome is not ResolveOutcome.FOUND or not found.sha:
        raise GitError(f"{repo.name}: {found.reason}", plain=f"in the repository, {found.reason}")
    return found.sha


def _commits_with_prefix(repo: Repository, prefix: str) -> list[str]:
    if len(prefix) in (40, 64):
        objects = [prefix]
    else:
        _, out = git_read(
            repo,
            ["rev-parse", f"--disambiguate={prefix}"],
            ok_statuses=(0, 1, 128),
            what=f"looking up hashes starting with {prefix}",
        )
        objects = out.decode("ascii", "replace").split()
    if not objects:
        return []
    query = "".join(f"{obj}^{{commit}}\n" for obj in objects).encode()
    _, out = git_read(
        repo,
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
        stdin=query,
        what=f"checking which objects starting with {prefix} are commits",
    )
    commits = set()
    for line in out.decode("ascii", "replace").splitlines():
        name, _, kind = line.partition(" ")
        if kind == "commit":
            commits.add(name)
    return sorted(commits)


def _rev_parse(repo: Repository, text: str) -> str | None:
    status, out = git_read(
        repo,
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{text}^{{commit}}"],
        ok_statuses=(0, 1, 128),
        what=f"resolving {text}",
    )
    sha = out.decode("ascii", "replace").strip()
    return sha if status == 0 and sha else None


def _committer_dates(repo: Repository, shas: Iterable[str]) -> dict[str, int]:
    _, out = git_read(
        repo,
        ["log", "--no-walk=unsorted", "--stdin", "--format=%H %ct"],
        stdin="".join(f"{s}\n" for s in shas).encode(),
        what="reading commit dates",
    )
    dates = {}
    for line in out.decode("ascii").splitlines():
        sha, _, stamp = line.partition(" ")
        dates[sha] = int(stamp)
    return dates


def _log_batch(
    repo: Repository, shas: Sequence[str], *, renames: bool = True, files: bool = True
) -> list[CommitInfo]:
    """Read full commit records for known full hashes with one git call. Without
    ``renames`` no blob is read (a rename is a delete and an add); without ``files`` no tree
    is read either."""
    listing = ["--name-status", "-M" if renames else "--no-renames"] if files else []
    _, out = git_read(
        repo,
        [
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "-z",
            f"--format={_LOG_FORMAT}",
            *listing,
            "--diff-merges=first-parent",
            "--no-ext-diff",
            "--no-textconv",
            "--",
        ],
        stdin="".join(f"{s}\n" for s in shas).encode(),
        what=f"reading {len(shas)} commit(s)",
    )
    return parse_log(out)


def _log_tolerant(
    repo: Repository, shas: Sequence[str], unreadable: list[Unreadable]
) -> list[CommitInfo]:
    """:func:`_log_batch`, halving a batch that fails on an unreadable object until the
    commits that need it are found; each of those is read without renames, else without
    files, and recorded in ``unreadable``. Other failures raise."""
    try:
        return _log_batch(repo, shas)
    except GitError as error:
        damage = unreadable_object(error)
        if damage is None:
            raise
    if len(shas) > 1:
        half = len(shas) // 2
        first = _log_tolerant(repo, shas[:half], unreadable)
        return first + _log_tolerant(repo, shas[half:], unreadable)
    for lost in ("renames", "files"):
        try:
            commits = _log_batch(repo, shas, renames=False, files=lost == "renames")
        except GitError as again:
            damage = unreadable_object(again) or damage
            continue
        unreadable.append(Unreadable(shas[0], damage[0], damage[1], lost))
        return commits
    loss = Unreadable(shas[0], damage[0], damage[1], "commit")
    raise GitError(f"commit {shas[0]} cannot be read: {loss.plain}", plain=loss.plain)


def unreadable_object(error: GitError) -> tuple[str, str] | None:
    """(object hash, "missing" or "damaged") when git failed because it could not read an
    object, else None. Git names the object in its message; a missing one is what a
    partial clone lacks, a damaged one fails to inflate or to match its hash."""
    text = str(error)
    said = text.partition(": git exited with status ")[2] or text
    if not _OBJECT_TROUBLE.search(said):
        return None
    found = _OBJECT.search(said)
    problem = "damaged" if _DAMAGED.search(said) else "missing"
    return (found.group(0) if found else "", problem)


def parse_log(data: bytes) -> list[CommitInfo]:
    """Parse ``git log -z --format=_LOG_FORMAT --name-status`` output into commit records."""
    commits: list[CommitInfo] = []
    tokens = data.split(b"\0")
    i = 0
    header: list[bytes] | None = None
    files: list[FileChange] = []
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        i += 1
        if token.startswith(b"\x1e"):
            if header is not None:
                commits.append(_commit_from(header, files))
            header = token[1:].split(b"\x1f", 7)
            files = []
            continue
        if not token:
            continue
        if header is None or not _STATUS.match(token):
            raise GitError(f"unexpected git log output near {token[:60]!r}")
        letter, score = chr(token[0]), token[1:]
        if letter in "RC":
            old, new = _path(tokens[i]), _path(tokens[i + 1])
            i += 2
            files.append(FileChange(letter, new, old, int(score) if score else None))
        else:
            files.append(FileChange(letter, _path(tokens[i])))
            i += 1
    if header is not None:
        commits.append(_commit_from(header, files))
    return commits


def _commit_from(fields: list[bytes], files: list[FileChange]) -> CommitInfo:
    if len(fields) != 8:
        raise GitError(f"unexpected git log record with {len(fields)} fields")
    sha, short, name, email, authored, committed, parents, message = (
        f.decode("utf-8", "replace") for f in fields
    )
    return CommitInfo(
        sha=sha,
        short_sha=short,
        author_name=name,
        author_email=email,
        authored_at=datetime.fromisoformat(authored),
        committed_at=datetime.fromisoformat(committed),
        message=message.rstrip("\n"),
        parents=tuple(parents.split()),
        files=tuple(files),
    )


def _path(raw: bytes) -> str:
    # Paths that are not UTF-8 are shown with U+FFFD; they cannot be read back by name.
    return raw.decode("utf-8", "replace")
