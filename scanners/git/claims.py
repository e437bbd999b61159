"""Machine evidence for a claimed fix, checked against the repository.

For a claim "commit C fixed lines L of file F, BEFORE code B became AFTER code A" each check
below ends in PASS, FAIL or CANNOT_CHECK with a sentence saying why:

* ``commit_exists``: C resolves to exactly one commit (ambiguous: cannot check);
* ``on_branch``: C is in the history of the branch head (a force-push can drop it);
* per claimed file: ``touches_file`` (C changes F, under its old or new name),
  ``diff_overlaps`` (every claimed range meets the diff, on the old or new side, or within
  :data:`~scanners.git.lines.DRIFT` lines; the side, the distance and the nearest hunk are in
  ``detail``), and ``before_absent``/``after_present`` at C and at the head, comparing code as
  a reviewer reads it (:func:`scanners.git.code.code_match`; score and closest span in
  ``detail`` and in the reason).

A BEFORE check proves something only when the BEFORE code was at C's parent: when it was
not, both BEFORE checks cannot check and say so. A BEFORE block that, comments dropped, lies
inside its AFTER block is not checked on its own.

Only what the claim states is checked: no line ranges, no overlap check; no BEFORE code, no
absence checks. A check that cannot run (no repository, unknown commit, file deleted,
binary file, git timing out) is CANNOT_CHECK; it never passes by default.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from scanners.git.code import CodeMatch, code_match, code_presence
from scanners.git.command import DEFAULT_TIMEOUT, GitError, Repository, git_read, open_repo
from scanners.git.history import ResolveOutcome, is_ancestor, resolve
from scanners.git.lines import (
    DRIFT,
    FileDiff,
    diff_hunks,
    file_at,
    first_parent,
    overlap,
    parse_ranges,
)
from scanners.git.paths import follow_path


class CheckOutcome(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    CANNOT_CHECK = "cannot_check"


class CheckKind(enum.StrEnum):
    COMMIT_EXISTS = "commit_exists"
    ON_BRANCH = "on_branch"
    TOUCHES_FILE = "touches_file"
    DIFF_OVERLAPS = "diff_overlaps"
    BEFORE_ABSENT_AT_COMMIT = "before_absent_at_commit"
    AFTER_PRESENT_AT_COMMIT = "after_present_at_commit"
    BEFORE_ABSENT_AT_HEAD = "before_absent_at_head"
    AFTER_PRESENT_AT_HEAD = "after_present_at_head"


@dataclass(frozen=True, slots=True)
class Check:
    """One piece of evidence. ``path`` is the claimed file it concerns ("" for commit-level
    checks); ``detail`` holds JSON-serialisable facts (hashes, matched side and ranges)."""

    kind: CheckKind
    outcome: CheckOutcome
    reason: str
    path: str = ""
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClaimedFile:
    """What a document claims about one file: the lines changed and the code before/after.
    ``approximate`` lists the ranges the document gave as approximate ("~406"), which are
    checked with a wider tolerance."""

    path: str
    ranges: tuple[tuple[int, int], ...] = ()
    before: str = ""
    after: str = ""
    approximate: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed fix: the commit as cited (short or full hash) and the files it names."""

    commit: str
    files: tuple[ClaimedFile, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """Every check run for a claim; ``sha`` and ``head_sha`` as resolved (None if not)."""

    sha: str | None
    head_sha: str | None
    checks: tuple[Check, ...]

    @property
    def outcome(self) -> CheckOutcome:
        """FAIL if any check failed, else CANNOT_CHECK if any could not run, else PASS."""
        outcomes = {c.outcome for c in self.checks}
        if CheckOutcome.FAIL in outcomes:
            return CheckOutcome.FAIL
        if CheckOutcome.CANNOT_CHECK in outcomes or not outcomes:
            return CheckOutcome.CANNOT_CHECK
        return CheckOutcome.PASS

    def of(self, kind: CheckKind, path: str = "") -> Check:
        """The check of ``kind`` (for ``path``); KeyError if it was not run."""
        for check in self.checks:
            if check.kind is kind and check.path == path:
                return check
        raise KeyError(f"{kind} {path}".strip())


def verify_claim(
    repo: Repository | Path | str | None,
    claim: Claim,
    *,
    branch: str = "HEAD",
    timeout: float = DEFAULT_TIMEOUT,
) -> ClaimVerdict:
    """Run every applicable check for ``claim`` against ``repo`` at ``branch``'s head.

    ``repo`` may be an opened repository, a path to open, or None when the project has no
    repository; git failures become CANNOT_CHECK results, never exceptions.
    """
    planned = _planned(claim)
    if repo is None:
        return _all_cannot(planned, "the project has no linked repository")
    try:
        handle = repo if isinstance(repo, Repository) else open_repo(repo, timeout=timeout)
    except GitError as exc:
        return _all_cannot(planned, f"the repository is unavailable: {exc.plain}")

    checks: list[Check] = []
    try:
        found = resolve(handle, claim.commit)
    except GitError as exc:
        return _all_cannot(
            planned, f"the commit {claim.commit!r} could not be looked up: {exc.plain}"
        )
    if found.outcome is ResolveOutcome.FOUND and found.sha:
        sha = found.sha
        checks.append(
            Check(
                CheckKind.COMMIT_EXISTS,
                CheckOutcome.PASS,
                f"{claim.commit} is {sha}",
                detail={"sha": sha},
            )
        )
    else:
        outcome = (
            CheckOutcome.FAIL
            if found.outcome is ResolveOutcome.MISSING
            else CheckOutcome.CANNOT_CHECK
        )
        checks.append(
            Check(
                CheckKind.COMMIT_EXISTS,
                outcome,
                found.reason,
                detail={"candidates": list(found.candidates)},
            )
        )
        rest = [p for p in planned if p[0] is not CheckKind.COMMIT_EXISTS]
        skipped = _all_cannot(rest, f"the commit {claim.commit} could not be identified")
        return ClaimVerdict(None, None, tuple(checks) + skipped.checks)

    head_sha: str | None = None
    try:
        head = resolve(handle, branch)
        head_sha = head.sha if head.outcome is ResolveOutcome.FOUND else None
        head_problem = head.reason
    except GitError as exc:
        head_problem = exc.plain

    on_branch = partial(_on_branch, handle, sha, branch, head_sha, head_problem)
    checks.append(_guard(CheckKind.ON_BRANCH, "", on_branch))
    for claimed in claim.files:
        checks += _file_checks(handle, sha, branch, head_sha, head_problem, claimed)
    return ClaimVerdict(sha, head_sha, tuple(checks))


def _touches_check(diff: FileDiff | None, path: str, short: str) -> Check:
    """Whether the fix commit changes the claimed file (under its old or new name)."""
    if diff is None:
        return Check(
            CheckKind.TOUCHES_FILE,
            CheckOutcome.FAIL,
            f"commit {short} does not change {path}",
            path,
        )
    renamed = f" (renamed from {diff.old_path})" if diff.old_path != diff.path else ""
    return Check(
        CheckKind.TOUCHES_FILE,
        CheckOutcome.PASS,
        f"commit {short} changes {diff.path}{renamed}",
        path,
        {"change": diff.change, "path": diff.path, "old_path": diff.old_path},
    )


def _file_checks(
    repo: Repository,
    sha: str,
    branch: str,
    head_sha: str | None,
    head_problem: str,
    claimed: ClaimedFile,
) -> list[Check]:
    path = claimed.path
    short = sha[:12]
    checks: list[Check] = []
    try:
        diff = diff_hunks(repo, sha, path)
    except GitError as exc:
        reason = f"the diff could not be read: {exc.plain}"
        return list(_all_cannot(_planned_file(claimed), reason).checks)
    checks.append(_touches_check(diff, path, short))
    if claimed.ranges:
        check = _guard(CheckKind.DIFF_OVERLAPS, path, partial(_overlap_check, diff, claimed, short))
        checks.append(check)

    at_commit_path = diff.path if diff is not None else path
    within = bool(claimed.before.strip()) and _before_within_after(claimed, at_commit_path)
    if within:
        # Comments dropped, the BEFORE block says nothing the AFTER block does not: checking
        # its absence could only fail a true fix, so it is left out and the AFTER check says so.
        claimed = replace(claimed, before="")
    unproven = _before_at_parent(repo, sha, diff, claimed) if claimed.before.strip() else None
    stages = (
        (
            sha,
            f"commit {short}",
            CheckKind.BEFORE_ABSENT_AT_COMMIT,
            CheckKind.AFTER_PRESENT_AT_COMMIT,
        ),
        (
            head_sha,
            f"the head of {branch}",
            CheckKind.BEFORE_ABSENT_AT_HEAD,
            CheckKind.AFTER_PRESENT_AT_HEAD,
        ),
    )
    for at, at_label, before_kind, after_kind in stages:
        wanted = [
            (k, s)
            for k, s in ((before_kind, claimed.before), (after_kind, claimed.after))
            if s.strip()
        ]
        if not wanted:
            continue
        if at is None:
            reason = f"the head of {branch} is unknown: {head_problem}"
            checks += [Check(k, CheckOutcome.CANNOT_CHECK, reason, path) for k, _ in wanted]
            continue
        try:
            text, missing, facts = _text_at(repo, at, at_commit_path, sha, at_label)
        except GitError as exc:
            checks += [Check(k, CheckOutcome.CANNOT_CHECK, exc.plain, path) for k, _ in wanted]
            continue
        if text is None:
            checks += [Check(k, CheckOutcome.CANNOT_CHECK, missing, path, facts) for k, _ in wanted]
            continue
        if facts.get("head_path"):
            at_label += f" (in {facts['head_path']}, renamed after the fix)"
        for kind, snippet in wanted:
            if unproven is not None and kind in _BEFORE_KINDS:
                checks.append(
                    Check(kind, CheckOutcome.CANNOT_CHECK, unproven[0], path, unproven[1])
                )
                continue
            rival = claimed.after if kind in _BEFORE_KINDS else claimed.before
            presence = partial(
                _presence_check, kind, text, (snippet, rival), at_label, at_commit_path
            )
            check = _guard(kind, path, presence)
            if within:
                note = {**check.detail, "before_within_after": True}
                check = replace(check, reason=f"{check.reason}; {_WITHIN}", detail=note)
            checks.append(check)
    return _later_edit(repo, sha, head_sha, at_commit_path, checks)


def _later_edit(
    repo: Repository,
    sha: str,
    head_sha: str | None,
    path: str,
    checks: list[Check],
) -> list[Check]:
    """A head check of AFTER code that was present at the fix but is not at the head: when
    the BEFORE code is not back and no later commit reverts the fix ("This reverts commit
    ..."), the file was edited after the fix -- a fact, and not a failure of the fix. A
    revert, or the BEFORE code back, still fails."""
    by_kind = {c.kind: c for c in checks}
    at_commit = by_kind.get(CheckKind.AFTER_PRESENT_AT_COMMIT)
    at_head = by_kind.get(CheckKind.AFTER_PRESENT_AT_HEAD)
    before = by_kind.get(CheckKind.BEFORE_ABSENT_AT_HEAD)
    if (
        head_sha is None
        or at_commit is None
        or at_head is None
        or at_commit.outcome is not CheckOutcome.PASS
        or at_head.outcome is not CheckOutcome.FAIL
        or (before is not None and before.outcome is CheckOutcome.FAIL)
    ):
        return checks
    try:
        revert = reverted_by(repo, sha, head_sha, path)
    except GitError:
        return checks
    if revert:
        facts = {**at_head.detail, "reverted_by": revert}
        reason = f"{at_head.reason}; commit {revert[:12]} reverts the fix"
        undone = replace(at_head, reason=reason, detail=facts)
        return [undone if c is at_head else c for c in checks]
    where = at_head.reason.removeprefix("the AFTER code is not present at ")
    reason = (
        f"changed at head: the AFTER code was present at the fix and the file was edited "
        f"after it, no commit reverting the fix ({where}): not a failure of the fix"
    )
    facts = {**at_head.detail, "changed_at_head": True}
    edited = replace(at_head, outcome=CheckOutcome.CANNOT_CHECK, reason=reason, detail=facts)
    return [edited if c is at_head else c for c in checks]


def reverted_by(repo: Repository, sha: str, head: str, path: str, *, limit: int = 500) -> str:
    """The first commit after ``sha`` up to ``head`` that changes ``path`` and reverts
    ``sha`` (git's "This reverts commit <sha>" in its message), else ""."""
    _, out = git_read(
        repo,
        ["log", "--reverse", f"--max-count={limit}", "--format=%x1e%H%x00%B"]
        + [f"^{sha}", head, "--", path],
        what="looking for a commit that reverts the fix",
    )
    for record in out.decode("utf-8", "replace").split("\x1e")[1:]:
        commit, _, message = record.partition("\x00")
        if re.search(rf"\breverts commit {sha[:7]}", message, re.IGNORECASE):
            return commit.strip()
    return ""


_WITHIN = (
    "the BEFORE block, without its comments, is part of the AFTER code, so it is not checked "
    "on its own"
)


def _before_within_after(claimed: ClaimedFile, path: str) -> bool:
    try:
        return bool(claimed.after.strip()) and code_presence(claimed.after, claimed.before, path)
    except GitError:
        return False  # a BEFORE block with no code is refused by its own check


def _before_at_parent(
    repo: Repository, sha: str, diff: FileDiff | None, claimed: ClaimedFile
) -> tuple[str, dict] | None:
    """Why the BEFORE code's absence would prove nothing (it was not there before the fix
    either), with the facts; None when it was present at the fix's parent."""
    path = diff.old_path if diff is not None else claimed.path
    try:
        parent = first_parent(repo, sha)
        if parent is None:
            return f"commit {sha[:12]} has no parent, so it removed no BEFORE code", {}
        text = file_at(repo, parent, path)
        if text is None:
            reason = (
                f"{path} does not exist at the fix's parent {parent[:12]}, so the absence of "
                "the BEFORE code proves nothing"
            )
            return reason, {"parent": parent}
        found = code_match(text, claimed.before, path, rival=claimed.after)
    except GitError as exc:
        return f"the fix's parent could not be read: {exc.plain}", {}
    if found.found:
        return None
    detail = {**found.detail(), "parent": parent, "at": "parent"}
    reason = (
        f"the BEFORE code is not in {path} at the fix's parent either (closest "
        f"{found.score:.2f}), so its absence proves nothing"
    )
    if found.rival_wins:
        reason = (
            f"at the fix's parent, the AFTER code fits {path} as well as the BEFORE code "
            f"({found.rival_score:.2f} vs {found.fit:.2f}), so the absence of BEFORE proves "
            "nothing"
        )
    return reason, detail


def _text_at(
    repo: Repository, at: str, path: str, sha: str, label: str
) -> tuple[str | None, str, dict]:
    """The file's text at ``at``, found under its later name when it was renamed or moved
    after the fix ``sha`` (only that path's history is read); when there is no text, why,
    in words, and the facts (``removed_by`` names the commit that deleted the file)."""
    text = file_at(repo, at, path)
    if text is not None or at == sha:
        return text, f"{path} does not exist at {label}", {}
    fate = follow_path(repo, path, since=sha, until=at)
    if fate is None:
        found = file_at(repo, at, path, follow_from=sha)
        return found, f"{path} does not exist at {label}, nor under another name", {}
    moves = {"renames": [list(r) for r in fate.renames]} if fate.renames else {}
    if fate.path is not None:
        found = file_at(repo, at, fate.path)
        where = f"{path} is now {fate.path}"
        return found, f"{where}, which cannot be read at {label}", {"head_path": fate.path, **moves}
    gone = fate.removed_by or ""
    named = fate.renames[-1][2] if fate.renames else path
    facts = {"removed_at_head": True, "removed_by": gone, **moves}
    return None, f"removed at head: {named} was deleted by commit {gone[:12]} after the fix", facts


def _on_branch(
    repo: Repository, sha: str, branch: str, head_sha: str | None, head_problem: str
) -> tuple[CheckOutcome, str, dict]:
    if head_sha is None:
        return CheckOutcome.CANNOT_CHECK, f"the head of {branch} is unknown: {head_problem}", {}
    if is_ancestor(repo, sha, head_sha):
        return CheckOutcome.PASS, f"{sha[:12]} is in the history of {branch}", {"head": head_sha}
    return (
        CheckOutcome.FAIL,
        f"{sha[:12]} is not in the history of {branch} (head {head_sha[:12]}): it was never "
        "merged, or the branch was rewritten by a force-push",
        {"head": head_sha},
    )


def _overlap_check(diff: FileDiff | None, claimed: ClaimedFile, short: str) -> tuple:
    ranges = parse_ranges(claimed.ranges)
    rough = set(parse_ranges(claimed.approximate))
    listed = ", ".join(f"approximate (~{r})" if r in rough else str(r) for r in ranges)
    if diff is None:
        return CheckOutcome.FAIL, f"commit {short} does not change the file at all", {}
    if diff.binary:
        return CheckOutcome.CANNOT_CHECK, f"{diff.path} is binary; lines cannot be compared", {}
    result = overlap(diff.hunks, ranges, drift=DRIFT, approximate=claimed.approximate)
    detail = {
        "side": str(result.side),
        "drift": DRIFT,
        "ranges": [
            {
                "claimed": str(m.claimed),
                "old": m.old,
                "new": m.new,
                "off": m.off,
                "approximate": m.approximate,
                "hunk": m.hunk.excerpt() if m.hunk is not None else "",
            }
            for m in result.matches
        ],
    }
    if result.all_matched:
        return CheckOutcome.PASS, f"the diff meets lines {listed}: {result.describe()}", detail
    missed = ", ".join(f"approximate (~{r})" if r in rough else str(r) for r in result.unmatched)
    return (
        CheckOutcome.FAIL,
        f"the diff of {short} does not touch lines {missed}: {result.describe()}",
        detail,
    )


def _presence_check(
    kind: CheckKind, text: str, blocks: tuple[str, str], label: str, path: str
) -> tuple[CheckOutcome, str, dict]:
    """Whether the block is in ``text``; ``blocks`` is (the block, its rival in the pair)."""
    snippet, rival = blocks
    found: CodeMatch = code_match(text, snippet, path, rival=rival)
    detail = found.detail()
    where = found.describe("the AFTER code" if kind in _BEFORE_KINDS else "the BEFORE code")
    if kind in _BEFORE_KINDS:
        if found.found:
            return (
                CheckOutcome.FAIL,
                f"the BEFORE code is still present at {label}: {where}",
                detail,
            )
        return CheckOutcome.PASS, f"the BEFORE code is gone at {label}: {where}", detail
    if found.found:
        return CheckOutcome.PASS, f"the AFTER code is present at {label}: {where}", detail
    return CheckOutcome.FAIL, f"the AFTER code is not present at {label}: {where}", detail


_BEFORE_KINDS = (CheckKind.BEFORE_ABSENT_AT_COMMIT, CheckKind.BEFORE_ABSENT_AT_HEAD)


def _guard(kind: CheckKind, path: str, run: Callable[[], tuple]) -> Check:
    """Run one check; a git failure (timeout, unreadable object) makes it CANNOT_CHECK."""
    try:
        outcome, reason, detail = run()
    except GitError as exc:
        return Check(kind, CheckOutcome.CANNOT_CHECK, exc.plain, path)
    return Check(kind, outcome, reason, path, detail)


def _planned(claim: Claim) -> list[tuple[CheckKind, str]]:
    planned = [(CheckKind.COMMIT_EXISTS, ""), (CheckKind.ON_BRANCH, "")]
    for claimed in claim.files:
        planned += _planned_file(claimed)
    return planned


def _planned_file(claimed: ClaimedFile) -> list[tuple[CheckKind, str]]:
    kinds = [CheckKind.TOUCHES_FILE]
    if claimed.ranges:
        kinds.append(CheckKind.DIFF_OVERLAPS)
    if claimed.before.strip():
        kinds += [CheckKind.BEFORE_ABSENT_AT_COMMIT, CheckKind.BEFORE_ABSENT_AT_HEAD]
    if claimed.after.strip():
        kinds += [CheckKind.AFTER_PRESENT_AT_COMMIT, CheckKind.AFTER_PRESENT_AT_HEAD]
    return [(kind, claimed.path) for kind in kinds]


def _all_cannot(planned: Sequence[tuple[CheckKind, str]], reason: str) -> ClaimVerdict:
    checks = tuple(Check(kind, CheckOutcome.CANNOT_CHECK, reason, path) for kind, path in planned)
    return ClaimVerdict(None, None, checks)
