"""Lines of code through history: diffs at claimed lines, line history, blame, file contents.

Line numbers are 1-based and ranges inclusive throughout, as documents and scanners write
them ("Lines Modified: 115-125"). A commit's diff is always taken against its first parent
(a merge shows what it brought into the branch) or the empty tree (a root commit).

Claimed lines may sit a little off the diff: a document's own edit shifts them, and "~406"
is only approximate. :func:`overlap` takes a drift tolerance for both, and says how far off
each range was and which hunk it met (:meth:`Hunk.excerpt` for display).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from scanners.git.command import GitError, Repository, git_read
from scanners.git.history import require_commit
from scanners.git.paths import follow_path

DRIFT = 3
"""Lines a claimed range may sit beside a hunk and still count ("near: 2 lines off"): a
document's own edit above the lines shifts its numbers a little."""
APPROX_DRIFT = 10
"""The same for a range the document gives as approximate ("~406")."""
HUNK_LINES = 12
"""Changed lines kept in a hunk's excerpt (:meth:`Hunk.excerpt`)."""

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_DIFF_FLAGS = ("--no-ext-diff", "--no-textconv", "--no-color", "-M")


class LineRange(NamedTuple):
    """Lines ``start`` to ``end`` inclusive, 1-based."""

    start: int
    end: int

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


@dataclass(frozen=True, slots=True)
class Hunk:
    """One change in a file: ``old_count`` lines from ``old_start`` became ``new_count``
    lines from ``new_start``. A count of 0 means a pure insertion (old side) or deletion (new
    side); the start is then the line *after which* it happened, as git writes it."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"

    def excerpt(self, limit: int = HUNK_LINES) -> str:
        """The header and up to ``limit`` changed lines, as a diff shows them."""
        lines = [f"-{t}" for t in self.removed] + [f"+{t}" for t in self.added]
        more = len(lines) - limit
        shown = lines[:limit] + ([f"… {more} more changed lines"] if more > 0 else [])
        return "\n".join([self.header, *shown])


@dataclass(frozen=True, slots=True)
class FileDiff:
    """How one commit changed one file. ``old_path`` differs from ``path`` for a rename;
    ``binary`` diffs have no hunks."""

    path: str
    old_path: str
    change: str
    hunks: tuple[Hunk, ...]
    binary: bool = False


class Side(enum.StrEnum):
    OLD = "old"
    NEW = "new"
    BOTH = "both"
    NEITHER = "neither"


@dataclass(frozen=True, slots=True)
class RangeMatch:
    """Whether one claimed range meets the diff on the old (parent) and new (commit) side.
    ``old_off``/``new_off`` say how many lines away the nearest hunk is on each side (0:
    they share a line; None: farther than the tolerance); ``hunk`` is that nearest hunk."""

    claimed: LineRange
    old: bool
    new: bool
    old_off: int | None = None
    new_off: int | None = None
    hunk: Hunk | None = None
    approximate: bool = False

    @property
    def off(self) -> int | None:
        """Lines between the range and the diff on its nearer side; None if out of reach."""
        offs = [o for o in (self.old_off, self.new_off) if o is not None]
        return min(offs) if offs else None


@dataclass(frozen=True, slots=True)
class OverlapResult:
    """How claimed line ranges meet a diff. ``side`` sums it up: OLD or NEW when every
    matching range matched only on that side, BOTH when both sides matched (for one range or
    across ranges), NEITHER when no range met any hunk. ``matches`` has the detail per range."""

    side: Side
    matches: tuple[RangeMatch, ...]

    @property
    def unmatched(self) -> tuple[LineRange, ...]:
        return tuple(m.claimed for m in self.matches if not (m.old or m.new))

    @property
    def all_matched(self) -> bool:
        return bool(self.matches) and not self.unmatched

    def describe(self) -> str:
        """A sentence naming which ranges matched which side."""
        if not self.matches:
            return "no lines were claimed"
        parts = []
        for m in self.matches:
            where = {
                (True, True): "both sides",
                (True, False): "the old side (before)",
                (False, True): "the new side (after)",
                (False, False): "no change",
            }
            about = "~" if m.approximate else ""
            if m.off:
                lines = "line" if m.off == 1 else "lines"
                near = f"are near {where[(m.old, m.new)]}: {m.off} {lines} off"
                parts.append(f"lines {about}{m.claimed} {near}")
            else:
                parts.append(f"lines {about}{m.claimed} meet {where[(m.old, m.new)]}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class LineChange:
    """A commit that changed the traced lines; ``path`` is the file's name in that commit."""

    sha: str
    short_sha: str
    author_name: str
    author_email: str
    authored_at: datetime
    summary: str
    path: str


@dataclass(frozen=True, slots=True)
class BlameShare:
    """How many of the blamed lines an author last touched, and in which commits."""

    author_name: str
    author_email: str
    lines: int
    commits: tuple[str, ...]


def parse_ranges(ranges: Iterable[tuple[int, int] | LineRange]) -> tuple[LineRange, ...]:
    """Validate claimed ranges; :class:`GitError` names the first bad one."""
    result = []
    for item in ranges:
        start, end = item
        if not (isinstance(start, int) and isinstance(end, int)) or start < 1 or end < start:
            raise GitError(f"line range {start}-{end} is invalid: expected 1 <= start <= end")
        result.append(LineRange(start, end))
    return tuple(result)


def diff_hunks(repo: Repository, sha: str, path: str) -> FileDiff | None:
    """How commit ``sha`` changed ``path`` (its name before or after a rename), or None when
    the commit does not touch it. Hunks carry no context lines, so they are exactly the
    changed lines."""
    full = require_commit(repo, sha)
    base = _diff_base(repo, full)
    entry = _find_change(repo, full, base, path)
    if entry is None:
        return None
    change, old_path, new_path = entry
    pathspec = sorted({old_path, new_path})
    _, out = git_read(
        repo,
        ["diff-tree", "-r", "-p", "-U0", *_DIFF_FLAGS, *base, full, "--", *pathspec],
        what=f"reading the diff of {path} in {sha}",
    )
    hunks: list[Hunk] = []
    binary = False
    current: dict | None = None
    for raw in out.split(b"\n"):
        line = raw.decode("utf-8", "replace")
        header = _HUNK.match(line)
        if header:
            if current:
                hunks.append(Hunk(**current))
            a, b, c, d = header.groups()
            current = {
                "old_start": int(a), "old_count": 1 if b is None else int(b),
                "new_start": int(c), "new_count": 1 if d is None else int(d),
                "removed": [], "added": [],
            }  # fmt: skip
        elif current is None:
            binary = binary or (line.startswith("Binary files ") and line.endswith(" differ"))
        elif line.startswith("-"):
            current["removed"].append(line[1:])
        elif line.startswith("+"):
            current["added"].append(line[1:])
    if current:
        hunks.append(Hunk(**current))
    hunks = [
        Hunk(h.old_start, h.old_count, h.new_start, h.new_count, tuple(h.removed), tuple(h.added))
        for h in hunks
    ]
    return FileDiff(new_path, old_path, change, tuple(hunks), binary)


def overlap(
    hunks: Sequence[Hunk],
    claimed: Iterable[tuple[int, int] | LineRange],
    *,
    drift: int = 0,
    approximate: Iterable[tuple[int, int] | LineRange] = (),
    approximate_drift: int = APPROX_DRIFT,
) -> OverlapResult:
    """Which claimed ranges meet which side of the diff.

    A range meets the old side when it shares a line with a hunk's removed lines, the new
    side when it shares a line with its added lines. A pure insertion (or deletion) has no
    lines on one side; it meets a range on that side when it sits inside the range or right
    against either end of it, because documents often number the line next to an insertion.
    With ``drift``, a range up to that many lines from a hunk meets it too ("near"); ranges
    also listed in ``approximate`` ("~406") get ``approximate_drift`` instead.
    """
    rough = set(parse_ranges(approximate))
    matches = []
    for rng in parse_ranges(claimed):
        reach = max(drift, approximate_drift) if rng in rough else drift
        old_off, old_hunk = _nearest(hunks, rng, reach, old=True)
        new_off, new_hunk = _nearest(hunks, rng, reach, old=False)
        # Only the nearer side speaks: the other is met merely by the tolerance.
        if old_off is not None and new_off is not None and old_off != new_off:
            old_off, new_off = (old_off, None) if old_off < new_off else (None, new_off)
        hunk = (
            old_hunk
            if old_off is not None and (new_off is None or old_off <= new_off)
            else new_hunk
        )
        matches.append(
            RangeMatch(
                rng, old_off is not None, new_off is not None, old_off, new_off, hunk, rng in rough
            )
        )
    any_old = any(m.old for m in matches)
    any_new = any(m.new for m in matches)
    side = {(True, True): Side.BOTH, (True, False): Side.OLD, (False, True): Side.NEW}.get(
        (any_old, any_new), Side.NEITHER
    )
    return OverlapResult(side, tuple(matches))


def line_history(
    repo: Repository,
    path: str,
    start: int,
    end: int,
    *,
    since: str | None = None,
    until: str = "HEAD",
) -> list[LineChange]:
    """Commits that changed lines ``start``-``end`` of ``path``, newest first, with
    ``git log -L`` semantics: the lines are numbered as in ``path`` at ``until``, and are
    traced back through edits, moves within the file and renames of the file. With
    ``since``, commits in its history are left out (what changed after it was seen).
    Raises :class:`GitError` when the file or the lines do not exist at ``until``."""
    (rng,) = parse_ranges([(start, end)])
    tip = require_commit(repo, until)
    text = None if "\n" in path else _blob(repo, tip, path)
    if text is None:
        # Said here rather than left to ``git log -L``, whose parse of an odd path can fail
        # with an unrelated message.
        message = f"no path {path} in commit {tip[:12]}: the file is not in the repository"
        raise GitError(message, plain=message)
    count = text.count(b"\n") + (0 if not text or text.endswith(b"\n") else 1)
    if rng.end > count:
        message = (
            f"{path} has only {count} lines at commit {tip[:12]}, so lines {rng} are not there"
        )
        raise GitError(message, plain=message)
    base = None if since is None else require_commit(repo, since)
    if base == tip:
        return []  # nothing can have changed since the commit the lines are read at
    revs = [tip] if base is None else [f"^{base}", tip]
    _, out = git_read(
        repo,
        [
            "log",
            f"-L{rng.start},{rng.end}:{path}",
            "--format=%x1e%H%x1f%h%x1f%an%x1f%ae%x1f%aI%x1f%s",
            *_DIFF_FLAGS,
            *revs,
        ],
        what=f"tracing lines {rng} of {path} back from {until}",
    )
    changes: list[LineChange] = []
    fields: list[str] | None = None
    for raw in out.split(b"\n"):
        line = raw.decode("utf-8", "replace")
        if line.startswith("\x1e"):
            fields = line[1:].split("\x1f", 5)
        elif fields is not None and line.startswith("+++ "):
            name = _patch_path(line[4:]) or path
            changes.append(
                LineChange(
                    sha=fields[0],
                    short_sha=fields[1],
                    author_name=fields[2],
                    author_email=fields[3],
                    authored_at=datetime.fromisoformat(fields[4]),
                    summary=fields[5],
                    path=name,
                )
            )
            fields = None
    return changes


def blame(repo: Repository, path: str, start: int, end: int, at: str) -> list[BlameShare]:
    """Who last touched lines ``start``-``end`` of ``path`` as of commit ``at``, ignoring
    whitespace-only changes, largest share first (ties by name). Raises :class:`GitError`
    when the file or lines do not exist there."""
    (rng,) = parse_ranges([(start, end)])
    sha = require_commit(repo, at)
    _, out = git_read(
        repo,
        ["blame", "--porcelain", "--no-textconv", "-w", f"-L{rng.start},{rng.end}", sha]
        + ["--", path],
        what=f"blaming lines {rng} of {path} at {at}",
    )
    authors: dict[str, tuple[str, str]] = {}
    shares: dict[tuple[str, str], list] = {}
    current = ""
    pending: dict[str, str] = {}
    for raw in out.split(b"\n"):
        line = raw.decode("utf-8", "replace")
        if line.startswith("\t"):
            if current not in authors:
                authors[current] = (pending.get("author", ""), pending.get("author-mail", ""))
            name, mail = authors[current]
            share = shares.setdefault((name, mail.strip("<>")), [0, []])
            share[0] += 1
            if current not in share[1]:
                share[1].append(current)
            pending = {}
        elif re.match(r"^[0-9a-f]{40,64} \d+ \d+", line):
            current = line.split(" ", 1)[0]
        elif " " in line:
            key, _, value = line.partition(" ")
            pending[key] = value
    result = [
        BlameShare(name, mail, count, tuple(commits))
        for (name, mail), (count, commits) in shares.items()
    ]
    result.sort(key=lambda s: (-s.lines, s.author_name, s.author_email))
    return result


def file_at(repo: Repository, sha: str, path: str, *, follow_from: str | None = None) -> str | None:
    """The text of ``path`` at commit ``sha``, or None when no such file exists there.

    With ``follow_from`` (a commit where ``path`` is the file's name, e.g. the claimed fix),
    a file renamed between the two commits is found under its name at ``sha``. Text is
    decoded as UTF-8; undecodable bytes become U+FFFD.
    """
    full = require_commit(repo, sha)
    data = _blob(repo, full, path)
    if data is None and follow_from is not None:
        other = path_at(repo, path, known_at=follow_from, target=full)
        if other is not None and other != path:
            data = _blob(repo, full, other)
    return None if data is None else data.decode("utf-8", "replace")


def path_at(repo: Repository, path: str, *, known_at: str, target: str) -> str | None:
    """The name at ``target`` of the file called ``path`` at ``known_at``, following renames
    through their common history; None when the file did not exist at ``target`` (not yet
    added, or deleted)."""
    known, goal = require_commit(repo, known_at), require_commit(repo, target)
    if _blob_exists(repo, goal, path) and _blob_exists(repo, known, path):
        return path
    # The usual case, a later commit: follow this one path forwards (cheap, path-limited).
    fate = follow_path(repo, path, since=known, until=goal)
    if fate is not None:
        return fate.path if fate.path and _blob_exists(repo, goal, fate.path) else None
    _, out = git_read(repo, ["merge-base", known, goal], ok_statuses=(0, 1), what="finding a base")
    base = out.decode("ascii").strip()
    if not base:
        return None
    current: str | None = path
    # Backwards from known_at to the base: undo renames, and stop where the file was added.
    for change, old, new in _renames(repo, base, known, newest_first=True):
        if current is not None and new == current:
            current = old if change == "R" else None
    # Forwards from the base to target: apply renames, and stop where the file was deleted.
    for change, old, new in _renames(repo, base, goal, newest_first=False):
        if current is not None and old == current:
            current = new if change == "R" else None
    if current is None or not _blob_exists(repo, goal, current):
        return None
    return current


def _renames(
    repo: Repository, base: str, tip: str, *, newest_first: bool
) -> list[tuple[str, str, str]]:
    """(change, old path, new path) for additions, deletions and renames in base..tip."""
    if base == tip:
        return []
    _, out = git_read(
        repo,
        ["log", "--topo-order", "-z", "--format=%x1e", "--name-status", "--diff-filter=ADR",
         *_DIFF_FLAGS, *([] if newest_first else ["--reverse"]), f"{base}..{tip}", "--"],
        what="following renames",
    )  # fmt: skip
    entries: list[tuple[str, str, str]] = []
    tokens = [t.lstrip(b"\n") for t in out.split(b"\0")]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token or token.startswith(b"\x1e"):
            continue
        letter = chr(token[0])
        if letter == "R":
            old, new = (t.decode("utf-8", "replace") for t in tokens[i : i + 2])
            i += 2
            entries.append(("R", old, new))
        else:
            name = tokens[i].decode("utf-8", "replace")
            i += 1
            # An addition undoes nothing going back; a deletion ends the file going forward.
            entries.append((letter, "" if letter == "A" else name, name if letter == "A" else ""))
    return entries


def first_parent(repo: Repository, sha: str) -> str | None:
    """The commit ``sha``'s diff is taken against (its first parent); None for a root."""
    base = _diff_base(repo, require_commit(repo, sha))
    return None if base == ["--root"] else base[0]


def _diff_base(repo: Repository, sha: str) -> list[str]:
    _, out = git_read(repo, ["rev-list", "--parents", "-n1", sha, "--"], what=f"reading {sha}")
    parents = out.decode("ascii").split()[1:]
    return [parents[0]] if parents else ["--root"]


def _find_change(
    repo: Repository, sha: str, base: list[str], path: str
) -> tuple[str, str, str] | None:
    _, out = git_read(
        repo,
        ["diff-tree", "-r", "-z", "--name-status", "--no-commit-id", *_DIFF_FLAGS, *base, sha],
        what=f"listing the files of {sha}",
    )
    tokens = out.split(b"\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].decode("utf-8", "replace").strip()
        i += 1
        if not token:
            continue
        letter = token[0]
        if letter in "RC":
            old, new = (t.decode("utf-8", "replace") for t in tokens[i : i + 2])
            i += 2
        else:
            old = new = tokens[i].decode("utf-8", "replace")
            i += 1
        if path in (old, new):
            return letter, old, new
    return None


def _nearest(
    hunks: Sequence[Hunk], rng: LineRange, reach: int, *, old: bool
) -> tuple[int | None, Hunk | None]:
    """Lines between ``rng`` and the nearest hunk on one side, if within ``reach``."""
    best: tuple[int | None, Hunk | None] = (None, None)
    for hunk in hunks:
        start, count = (hunk.old_start, hunk.old_count) if old else (hunk.new_start, hunk.new_count)
        # A pure insertion or deletion sits between line ``start`` and the next.
        low, high = (start, start + 1) if count == 0 else (start, start + count - 1)
        off = max(0, low - rng.end, rng.start - high)
        if off <= reach and (best[0] is None or off < best[0]):
            best = (off, hunk)
    return best


def _blob(repo: Repository, sha: str, path: str) -> bytes | None:
    if "\n" in path:
        raise GitError(f"path {path!r} contains a newline, which git cannot look up here")
    _, out = git_read(
        repo,
        ["cat-file", "--batch"],
        stdin=f"{sha}:{path}\n".encode(),
        what=f"reading {path} at {sha[:12]}",
    )
    header, _, rest = out.partition(b"\n")
    parts = header.split(b" ")
    if len(parts) != 3 or parts[1] != b"blob":
        return None
    return rest[: int(parts[2])]


def _blob_exists(repo: Repository, sha: str, path: str) -> bool:
    _, out = git_read(
        repo,
        ["cat-file", "--batch-check"],
        stdin=f"{sha}:{path}\n".encode(),
        what=f"looking for {path} at {sha[:12]}",
    )
    return out.split(b" ")[1:2] == [b"blob"]


def _patch_path(text: str) -> str | None:
    """The path in a ``+++ b/path`` line; None for /dev/null."""
    if text == "/dev/null":
        return None
    if text.startswith('"'):
        text = _unquote_c(text)
    return text[2:] if text.startswith("b/") else text


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote_c(text: str) -> str:
    """Undo git's C-style quoting of unusual paths (``"b/tab\\there"``, octal bytes)."""
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and re.fullmatch(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out += char.encode("utf-8")
        i += 1
    return out.decode("utf-8", "replace")
