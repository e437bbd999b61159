"""What the repository says about one claimed fix: the checks, before anything is stored.

Reads only (git and the database); :mod:`findings.services.evidence` stores the result. The
rules (which commits are checked, how candidates are chosen) are in that module's docstring.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from findings import lifecycle
from findings.lifecycle import Status
from findings.models import Check, Claim, Commit, CommitLink, Finding, Project
from findings.services.document_matching import DOCUMENT_TOOL
from findings.services.repositories import (
    RepositoryError,
    commit_adding,
    commits_touching,
    repository_branch,
    repository_open,
)
from scanners import git
from scanners.files import read_kept
from scanners.git.cache import CACHE_BYTES

CANDIDATES = 10
"""How many earlier commits per file are tried for a claim without a cited hash."""
SCAN_CHECK = "scan_confirms"
MEMO_BYTES = CACHE_BYTES
"""The most git output one verification run keeps (0: none, every read runs git)."""

K = git.CheckKind
CODE_KINDS = (
    K.BEFORE_ABSENT_AT_COMMIT,
    K.AFTER_PRESENT_AT_COMMIT,
    K.BEFORE_ABSENT_AT_HEAD,
    K.AFTER_PRESENT_AT_HEAD,
)
_AT_HEAD = (K.BEFORE_ABSENT_AT_HEAD, K.AFTER_PRESENT_AT_HEAD)
_PATTERN = re.compile(r"[*?\[]")
_CLOSING = ("fixes", "closes", "resolves")


@dataclass
class Row:
    """A check about to be stored."""

    name: str
    result: str
    reason: str
    path: str = ""
    commit: str = ""
    side: str = ""
    detail: dict = field(default_factory=dict)


@dataclass
class VerifyContext:
    """What one verification run shares between claims: the opened repository, the branch
    and its head, and caches of git answers (documents' commits, per-commit verdicts).

    ``handle`` carries the run's :class:`scanners.git.GitCache`: within a run the repository
    is taken as it was when the run began (as the head already is), so a repeated read has
    the same answer and is not asked of git again.
    """

    project: Project
    handle: git.Repository | None
    branch: str
    head_sha: str | None
    problem: str = ""
    documents: dict[int, tuple[str, str] | None] = field(default_factory=dict)
    verdicts: dict[tuple, git.ClaimVerdict] = field(default_factory=dict)
    touching: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def repo(self) -> git.Repository:
        """The opened repository, for the checks that run only once there is one
        (:func:`claim_checks` answers a missing repository before any of them)."""
        if self.handle is None:
            raise RuntimeError(f"no repository is open for {self.project.key}: {self.problem}")
        return self.handle

    def verdict(self, sha: str, claimed: tuple[git.ClaimedFile, ...] = ()) -> git.ClaimVerdict:
        key = (sha, claimed)
        if key not in self.verdicts:
            self.verdicts[key] = git.verify_claim(
                self.handle, git.Claim(sha, claimed), branch=self.branch
            )
        return self.verdicts[key]


def verify_context(project: Project, *, memo_bytes: int | None = None) -> VerifyContext:
    """Open the project's repository once for a run, with a cache of up to ``memo_bytes``
    (default :data:`MEMO_BYTES`) of git answers; a repository that cannot be opened gives a
    context whose checks all say so."""
    branch = repository_branch(project)
    try:
        cache = git.GitCache(MEMO_BYTES if memo_bytes is None else memo_bytes)
        handle = repository_open(project).cached(cache)
    except RepositoryError as error:
        return VerifyContext(project, None, branch, None, error.plain)
    try:
        head = git.resolve(handle, branch)
    except git.GitError as error:
        return VerifyContext(project, handle, branch, None, error.plain)
    sha = head.sha if head.outcome is git.ResolveOutcome.FOUND else None
    return VerifyContext(project, handle, branch, sha, "" if sha else head.reason)


# --- the checks ---------------------------------------------------------------------


def claim_checks(claim: Claim, ctx: VerifyContext) -> tuple[list[Row], list[str]]:
    """Every check for ``claim`` (scan checks aside), and the commits of the branch tied to
    it as its fix (empty when none could be)."""
    if ctx.handle is None:
        reason = ctx.problem or f"project {ctx.project.key} has no linked repository"
        return [Row("commit_exists", Check.Result.CANNOT_CHECK, reason)], []
    rows: list[Row] = []
    cited = [sha.strip() for sha in claim.commits if str(sha).strip()]
    closing = [] if cited else _closing_commits(claim)
    if cited or closing:
        for sha, line in closing:
            rows.append(Row("commit_cites_finding", Check.Result.PASS, line, commit=sha))
        shas = cited or [sha for sha, _ in closing]
        files = _named_files(claim, ctx, _anchor(ctx, shas), rows)
        fixes, known = _commit_rows(claim, files, shas, ctx, rows, exists=bool(cited))
        candidates = {path: known for path in _paths(files)}
    else:
        added = _document_commit(claim, ctx)
        if added is None:
            rows.append(
                Row(
                    "commit_exists",
                    Check.Result.CANNOT_CHECK,
                    f"no commit is cited, no commit message closes {claim.finding.key}, and "
                    f"the document is not a file in the history of {ctx.branch} (compared by "
                    "content), so there is no commit to check the fix against",
                )
            )
            return rows, []
        sha, doc_path = added
        rows.append(
            Row(
                "document_commit",
                Check.Result.PASS,
                f"no commit is cited; the document ({doc_path}) was added in {sha[:12]}, so the "
                f"fix is looked for there and in up to {CANDIDATES} earlier commits that touched "
                "each claimed file",
                path=doc_path,
                commit=sha,
            )
        )
        fixes = [sha]
        files = _named_files(claim, ctx, sha, rows)
        candidates = {path: _touching(ctx, sha, path) for path in _paths(files)}
    rows += _file_rows(files, claim, ctx, candidates, cited=bool(cited))
    rows += _code_rows(files, claim, ctx, candidates, rows)
    chosen = {row.commit for row in rows if row.name == K.TOUCHES_FILE and row.result == "pass"}
    return rows, sorted(chosen) or fixes


def _commit_rows(
    claim: Claim,
    named: list[dict],
    shas: list[str],
    ctx: VerifyContext,
    rows: list[Row],
    *,
    exists: bool = True,
) -> tuple[list[str], list[str]]:
    """commit_exists / on_branch rows for each commit; (on the branch, resolved) hashes."""
    on_branch: list[str] = []
    resolved: list[str] = []
    # The first claimed file rides along, and its verdict is cached under the full hash too,
    # so the file checks that follow do not resolve the commit and the branch again.
    files = [path for path in _paths(named) if not _is_pattern(path)]
    pairs = _pairs(claim)
    first = (_claimed(named, files[0], pairs[0] if pairs else ("", "")),) if files else ()
    for ref in shas:
        verdict = ctx.verdict(ref, first)
        if verdict.sha:
            ctx.verdicts.setdefault((verdict.sha, first), verdict)
        for check in verdict.checks:
            if check.kind not in (K.COMMIT_EXISTS, K.ON_BRANCH):
                continue
            if check.kind is K.COMMIT_EXISTS and not exists and check.outcome == "pass":
                continue
            rows.append(_row(check, verdict.sha or ""))
        if verdict.sha:
            resolved.append(verdict.sha)
            if verdict.of(K.ON_BRANCH).outcome is git.CheckOutcome.PASS:
                on_branch.append(verdict.sha)
    return on_branch, resolved


def _file_rows(
    files: list[dict],
    claim: Claim,
    ctx: VerifyContext,
    candidates: dict[str, list[str]],
    *,
    cited: bool,
) -> list[Row]:
    rows: list[Row] = []
    for path in _paths(files):
        shas = candidates.get(path, [])
        if not shas:
            reason = (
                "the cited commit could not be identified"
                if cited
                else f"no commit up to the fix touched {path}"
            )
            result = Check.Result.CANNOT_CHECK if cited else Check.Result.FAIL
            rows.append(Row(K.TOUCHES_FILE, result, reason, path))
            continue
        if _is_pattern(path):
            rows.append(_pattern_row(ctx, path, shas))
            continue
        # With the first code block attached, the code checks of that block reuse this
        # verdict (VerifyContext caches by commit and claimed file): fewer git calls.
        claimed = (_claimed(files, path, _pairs(claim)[0] if _pairs(claim) else ("", "")),)
        rows += _best(ctx, shas, lambda sha, c=claimed: c, kinds=(K.TOUCHES_FILE, K.DIFF_OVERLAPS))
    return rows


def _code_rows(
    named: list[dict],
    claim: Claim,
    ctx: VerifyContext,
    candidates: dict[str, list[str]],
    earlier: list[Row],
) -> list[Row]:
    pairs = _pairs(claim)
    files = [path for path in candidates if not _is_pattern(path)]
    rows: list[Row] = []
    for number, (before, after) in enumerate(pairs, start=1):
        kinds = [k for k, code in zip(CODE_KINDS, (before, after) * 2, strict=True) if code.strip()]
        if not files or not any(candidates[p] for p in files):
            reason = (
                _no_file_reason(claim, ctx, earlier)
                if not files
                else "no commit could be tied to the claimed files"
            )
            rows += [
                Row(k, Check.Result.CANNOT_CHECK, reason, detail={"block": number}) for k in kinds
            ]
            continue
        options = [(path, sha) for path in files for sha in candidates[path]]
        best: list[Row] | None = None
        for path, sha in options:
            claimed = (_claimed(named, path, (before, after)),)
            found = [
                _row(check, (ctx.head_sha or "") if check.kind in _AT_HEAD else sha, block=number)
                for check in ctx.verdict(sha, claimed).checks
                if check.kind in CODE_KINDS
            ]
            if best is None or _cost(found) < _cost(best):
                best = found
            if _cost(found) == (0, 0):
                break
        rows += best or []
    return rows


def _anchor(ctx: VerifyContext, refs: list[str]) -> str | None:
    """The first of ``refs`` that is a commit of the repository (the fix the claim's file
    names are read at), else None."""
    for ref in refs:
        try:
            found = git.resolve(ctx.repo, ref)
        except git.GitError:
            continue
        if found.outcome is git.ResolveOutcome.FOUND and found.sha:
            return found.sha
    return None


def _named_files(claim: Claim, ctx: VerifyContext, at: str | None, rows: list[Row]) -> list[dict]:
    """The claim's files as repository paths at the fix ``at`` (see
    :func:`scanners.git.resolve_name`): each a dict of ``path``, ``lines`` and ``named`` (as
    the document wrote it). A name read as another path adds a ``file_resolved`` row; an
    ambiguous one adds a row that cannot check and is left out; an unknown one is kept as
    written, so the checks say the commit does not change it."""
    files: list[dict] = []
    for ref in claim.files:
        name = (ref.get("path") or "").strip()
        if not name:
            continue
        entry = {"path": name, "lines": ref.get("lines") or [], "named": name}
        if at is None or _is_pattern(name):
            files.append(entry)
            continue
        try:
            found = git.resolve_name(ctx.repo, name, at, touched=_commit_paths(ctx, at))
        except git.GitError as error:
            rows.append(Row("file_resolved", Check.Result.CANNOT_CHECK, error.plain, name, at))
            continue
        if found.match is git.NameMatch.MISSING:
            files.append(entry)
        elif found.path is None:
            detail = {"candidates": list(found.candidates)}
            rows.append(
                Row("file_resolved", Check.Result.CANNOT_CHECK, found.reason, name, at, "", detail)
            )
        else:
            if found.path != name:
                rows.append(Row("file_resolved", Check.Result.PASS, found.reason, found.path, at))
            files.append({**entry, "path": found.path})
    return files


def _no_file_reason(claim: Claim, ctx: VerifyContext, rows: list[Row]) -> str:
    """Why the claim's code cannot be looked for: which names could not be told apart, or
    that no file is named, with the files the fix commit changes."""
    unsure = [r for r in rows if r.name == "file_resolved" and r.result != Check.Result.PASS]
    if unsure:
        return "; ".join(r.reason for r in unsure) + ", so the code cannot be looked for"
    fix = next((r.commit for r in rows if r.name == K.COMMIT_EXISTS and r.commit), "")
    if not fix:
        return "no file named, so the code cannot be looked for"
    try:
        changed = list(dict.fromkeys(_commit_paths(ctx, fix)))
    except git.GitError:
        return "no file named, so the code cannot be looked for"
    shown = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
    return (
        f"no file named; {len(changed)} candidate paths (the files commit {fix[:12]} changes: "
        f"{shown}), so the code cannot be looked for"
    )


def _best(ctx: VerifyContext, shas: list[str], claimed_for, *, kinds) -> list[Row]:
    """The checks of ``kinds`` from the candidate commit with the fewest failures."""
    best: list[Row] | None = None
    for sha in shas:
        verdict = ctx.verdict(sha, claimed_for(sha))
        found = [_row(check, sha) for check in verdict.checks if check.kind in kinds]
        if best is None or _cost(found) < _cost(best):
            best = found
        if _cost(found) == (0, 0):
            break
    if best and len(shas) > 1:
        for row in best:
            row.reason += f" (chosen among {len(shas)} candidate commits)"
    return best or []


def _pattern_row(ctx: VerifyContext, pattern: str, shas: list[str]) -> Row:
    """touches_file for a folder (``src/email/``) or a pattern (``backend/api/*``)."""
    for sha in shas:
        touched = _commit_paths(ctx, sha)
        hits = [p for p in touched if _under(p, pattern)]
        if hits:
            shown = ", ".join(hits[:3]) + (" ..." if len(hits) > 3 else "")
            return Row(
                K.TOUCHES_FILE,
                Check.Result.PASS,
                f"commit {sha[:12]} changes {len(hits)} file(s) in {pattern}: {shown}",
                pattern,
                sha,
            )
    return Row(
        K.TOUCHES_FILE,
        Check.Result.FAIL,
        f"no candidate commit ({', '.join(s[:12] for s in shas)}) changes anything in {pattern}",
        pattern,
        shas[0],
    )


def scan_checks(findings: list[Finding], fixes: list[str], ctx: VerifyContext) -> list[Row]:
    rows: list[Row] = []
    for finding in findings:
        if finding.tool == DOCUMENT_TOOL:
            continue
        rows.append(_scan_row(finding, fixes, ctx))
    return rows


def _scan_row(finding: Finding, fixes: list[str], ctx: VerifyContext) -> Row:
    def after_fix(commit: str) -> bool:
        try:
            return any(git.is_ancestor(ctx.repo, fix, commit) for fix in fixes)
        except git.GitError:
            return False

    key = finding.key
    if finding.fixed_in_commit and finding.status not in lifecycle.OPEN_LIKE - {Status.CLAIMED}:
        if after_fix(finding.fixed_in_commit):
            return Row(
                SCAN_CHECK,
                Check.Result.PASS,
                f"the {finding.tool} scan of {finding.fixed_in_commit[:12]} (at or after the fix) "
                f"no longer reports {key}",
                commit=finding.fixed_in_commit,
            )
    if finding.status in lifecycle.OPEN_LIKE and finding.last_seen_commit:
        if after_fix(finding.last_seen_commit):
            return Row(
                SCAN_CHECK,
                Check.Result.FAIL,
                f"the {finding.tool} scan of {finding.last_seen_commit[:12]} (at or after the "
                f"fix) still reports {key}",
                commit=finding.last_seen_commit,
            )
    return Row(
        SCAN_CHECK,
        Check.Result.CANNOT_CHECK,
        f"no {finding.tool} scan of a commit at or after the fix has been imported for {key}",
    )


# --- small helpers ----------------------------------------------------------------------------


def _row(check: git.Check, commit: str, *, block: int | None = None) -> Row:
    detail = dict(check.detail)
    if block is not None:
        detail["block"] = block
    side = detail.get("side", "") if check.kind is K.DIFF_OVERLAPS else ""
    return Row(
        str(check.kind),
        str(check.outcome),
        check.reason,
        check.path,
        commit if check.kind is not K.COMMIT_EXISTS else (detail.get("sha") or commit),
        side if side in ("old", "new", "both") else "",
        detail,
    )


def _cost(rows: list[Row]) -> tuple[int, int]:
    fails = sum(r.result == Check.Result.FAIL for r in rows)
    cannots = sum(r.result == Check.Result.CANNOT_CHECK for r in rows)
    return fails, cannots


def _pairs(claim: Claim) -> list[tuple[str, str]]:
    """The claim's (BEFORE, AFTER) code blocks that hold any code."""
    return [(b, a) for b, a in claim.code_pairs if b.strip() or a.strip()]


def _claimed(files: list[dict], path: str, pair: tuple[str, str]) -> git.ClaimedFile:
    """What the claim says about ``path``: its line ranges, with one code block."""
    ranges: list[tuple[int, int]] = []
    for ref in files:
        if ref["path"] == path:
            ranges += [(int(a), int(b)) for a, b in ref.get("lines") or []]
    return git.ClaimedFile(path, tuple(ranges), pair[0], pair[1])


def _paths(files: list[dict]) -> list[str]:
    return list(dict.fromkeys(ref["path"] for ref in files))


def _is_pattern(path: str) -> bool:
    return path.endswith("/") or bool(_PATTERN.search(path))


def _under(path: str, pattern: str) -> bool:
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return fnmatch.fnmatchcase(path, pattern)


def _commit_paths(ctx: VerifyContext, sha: str) -> list[str]:
    stored = (
        Commit.objects.filter(project=ctx.project, sha=sha).values_list("files", flat=True).first()
    )
    if stored is None:
        info = git.commit_info(ctx.repo, sha)
        stored = [{"path": c.path, "old_path": c.old_path} for c in info.files]
    return [p for change in stored for p in (change.get("path"), change.get("old_path")) if p]


def _touching(ctx: VerifyContext, until: str, path: str) -> list[str]:
    key = (until, path)
    if key not in ctx.touching:
        try:
            ctx.touching[key] = commits_touching(ctx.repo, until=until, path=path, limit=CANDIDATES)
        except git.GitError:
            ctx.touching[key] = []
    return ctx.touching[key]


def _document_commit(claim: Claim, ctx: VerifyContext) -> tuple[str, str] | None:
    report_id = claim.report_id
    if report_id not in ctx.documents:
        found = None
        stored = Path(claim.report.stored_path) if claim.report.stored_path else None
        if stored is not None and stored.is_file():
            try:
                found = commit_adding(ctx.repo, data=read_kept(stored), branch=ctx.branch)
            except git.GitError:
                found = None
        ctx.documents[report_id] = found
    return ctx.documents[report_id]


def _closing_commits(claim: Claim) -> list[tuple[str, str]]:
    links = (
        CommitLink.objects.filter(finding_id=claim.finding_id, verb__in=_CLOSING)
        .select_related("commit")
        .order_by("commit__committed_at", "id")
    )
    return [
        (
            link.commit.sha,
            f"commit {link.commit.short_sha} says “{link.verb} {claim.finding.key}”: "
            f"{link.commit.summary}",
        )
        for link in links
    ]
