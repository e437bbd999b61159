"""What the repository says about one claimed fix: the checks, before anything is stored.

Reads only (git and the database); :mod:`findings.services.evidence` stores the result. The
rules (which one commit is checked, and why) are in that module's docstring.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from findings.models import Check, Claim, Commit, CommitLink, Project
from findings.services.evidence_commits import (
    MODULE,
    Anchor,
    after_at,
    before_gone,
    document_anchor,
    fix_by_code,
    missing_named,
)
from findings.services.evidence_rows import (
    ANCHOR_CHECK,
    CODE_KINDS,
    FIX_CHECK,
    GONE_CHECK,
    K,
    Row,
    beside_anchor,
    quoted_pairs,
    session_rows,
)
from findings.services.repositories import RepositoryError, repository_branch, repository_open
from scanners import git
from scanners.git.cache import CACHE_BYTES

MEMO_BYTES = CACHE_BYTES
"""The most git output one verification run keeps (0: none, every read runs git)."""

_AT_HEAD = (K.BEFORE_ABSENT_AT_HEAD, K.AFTER_PRESENT_AT_HEAD)
_PATTERN = re.compile(r"[*?\[]")
_CLOSING = ("fixes", "closes", "resolves")


@dataclass
class VerifyContext:
    """What one verification run shares between claims: the opened repository, the branch
    and its head, and caches of git answers (documents' anchors, per-commit verdicts).

    ``handle`` carries the run's :class:`scanners.git.GitCache`: within a run the repository
    is taken as it was when the run began (as the head already is), so a repeated read has
    the same answer and is not asked of git again.
    """

    project: Project
    handle: git.Repository | None
    branch: str
    head_sha: str | None
    problem: str = ""
    anchors: dict[int, Anchor] = field(default_factory=dict)
    missing: dict[int, list[str]] = field(default_factory=dict)
    verdicts: dict[tuple, git.ClaimVerdict] = field(default_factory=dict)

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
    """Every check for ``claim`` (scan checks aside), all run against its one fix commit,
    and that commit (empty when none could be decided: then every check says why)."""
    if ctx.handle is None:
        reason = ctx.problem or f"project {ctx.project.key} has no linked repository"
        return [Row("commit_exists", Check.Result.CANNOT_CHECK, reason)], []
    rows: list[Row] = []
    fix, why = _fix_commit(claim, ctx, rows)
    rows.append(
        Row(FIX_CHECK, Check.Result.PASS if fix else Check.Result.CANNOT_CHECK, why, commit=fix)
    )
    anchor = ctx.anchors.get(claim.report_id)
    files = _named_files(claim, ctx, fix or (anchor.sha if anchor else None), rows)
    if not fix:
        read = _anchor_code_rows(files, claim, ctx)
        done = {(K.AFTER_PRESENT_AT_COMMIT, r.detail["block"]) for r in read}
        unchecked = _unchecked_rows(files, claim, why)
        unchecked = [r for r in unchecked if (r.name, r.detail.get("block")) not in done]
        return rows + unchecked + read, []
    file_rows = _file_rows(files, claim, ctx, fix)
    if not claim.commits and anchor is not None and fix == anchor.sha:
        file_rows = [beside_anchor(row) for row in file_rows]
    rows += file_rows
    rows += _code_rows(files, claim, ctx, fix, rows)
    if not claim.commits and anchor is not None and anchor.sha and fix != anchor.sha:
        # A fix found before the document: the document's own moment must still hold it.
        rows += _anchor_code_rows(files, claim, ctx, after_fix=fix)
    return rows + session_rows(claim), [fix]


def open_checks(claim: Claim, ctx: VerifyContext) -> list[Row]:
    """For a claim the document calls open: the document's anchor and, when the BEFORE code
    is already gone there from every claimed file that exists, an "already fixed?" hint. A
    hint for the reviewer, never a proof: it moves nothing."""
    if ctx.handle is None:
        reason = ctx.problem or f"project {ctx.project.key} has no linked repository"
        return [Row(ANCHOR_CHECK, Check.Result.CANNOT_CHECK, reason)]
    anchor = _anchor_of(claim, ctx)
    rows = [_anchor_row(anchor)]
    if anchor.sha is None:
        return rows
    files = [p for p in _paths(_named_files(claim, ctx, anchor.sha, rows)) if not _is_pattern(p)]
    for number, (before, _) in enumerate(quoted_pairs(claim), start=1):
        if before.strip():
            rows += _gone_at_anchor(ctx, anchor.sha, files, before, claim, number)
    return rows


def _fix_commit(claim: Claim, ctx: VerifyContext, rows: list[Row]) -> tuple[str, str]:
    """The claim's one fix commit and why, decided once (see :mod:`evidence`): the first
    cited commit on the branch, else a commit closing the finding, else the anchor when it
    touches a claimed file, else the commit that brought in the AFTER code. ("", why not)."""
    cited = [str(sha).strip() for sha in claim.commits if str(sha).strip()]
    causes = [ref for ref in cited if _named_as_cause(claim, ref)]
    if causes:
        # Still said to exist (or not), but the claim's own words make them no fix.
        _commit_rows(causes, ctx, rows, exists=True)
        cited = [ref for ref in cited if ref not in causes]
    if cited:
        on_branch, resolved = _commit_rows(cited, ctx, rows, exists=True)
        if on_branch:
            others = [s[:12] for s in cited[1:]]
            also = f" (also cited: {', '.join(others)})" if others else ""
            return on_branch[0], f"the claim cites {on_branch[0][:12]}{also}"
        if resolved:
            return "", "no cited commit is in the history of " + ctx.branch
        return "", "the cited commit could not be identified"
    names = [str(ref.get("path") or "").strip() for ref in claim.files]
    names = [name for name in names if name]
    closing = _closing_commits(claim)
    if closing:
        for sha, line in closing:
            rows.append(Row("commit_cites_finding", Check.Result.PASS, line, commit=sha))
        shas = [sha for sha, _ in reversed(closing)]
        on_branch, _ = _commit_rows(shas, ctx, rows, exists=False)
        touching = [sha for sha in on_branch if _touches_any(ctx, sha, names)]
        if touching:
            return touching[0], (
                f"{touching[0][:12]} is the newest commit whose message closes "
                f"{claim.finding.key} and that touches a claimed file"
            )
        if on_branch:
            return on_branch[0], (
                f"{on_branch[0][:12]} is the newest commit whose message closes {claim.finding.key}"
            )
    rows += _missing_rows(claim, ctx)
    anchor = _anchor_of(claim, ctx)
    rows.append(_anchor_row(anchor))
    head = f"no commit is cited, none closes {claim.finding.key}"
    if causes:
        named = ", ".join(causes)
        head = f"no commit is cited as the fix ({named}: named in the problem, as its cause)"
        head += f", none closes {claim.finding.key}"
    if not names:
        return "", f"{head}, and the claim names no file to look for its fix in"
    where = "the document is not anchored to the history"
    if anchor.sha and _touches_any(ctx, anchor.sha, names):
        # An anchor off the branch is no fix; its on_branch row would only mislead.
        branch_rows: list[Row] = []
        on_branch, _ = _commit_rows([anchor.sha], ctx, branch_rows, exists=False)
        if on_branch:
            rows += branch_rows
            return anchor.sha, f"{head}; the document's anchor {anchor.sha[:12]} touches " + (
                ", ".join(n for n in names if _touches_any(ctx, anchor.sha, [n]))
            )
        where = f"the anchor {anchor.sha[:12]} is not in the history of {ctx.branch}"
    elif anchor.sha:
        where = f"the anchor {anchor.sha[:12]} does not touch {', '.join(names)}"
    pairs = quoted_pairs(claim)
    if not pairs:
        return "", f"{head}, {where}, and the claim quotes no code to search the history for"
    found, why = fix_by_code(
        ctx.repo,
        anchor,
        ctx.head_sha or ctx.branch,
        names,
        pairs[0],
        touched=lambda sha: _commit_paths(ctx, sha),
        means=_name_hits,
    )
    if found:
        _commit_rows([found], ctx, rows, exists=False)
        return found, f"{head}, {where}; {found[:12]} is the newest commit before it where {why}"
    return "", f"{head}, {where}, and {why}"


def _named_as_cause(claim: Claim, ref: str) -> bool:
    """Whether the claim names commit ``ref`` in its problem or impact and not in its fix
    ("the refactoring in f5e249c8 caused it"): the change that brought the bug, not its fix."""
    said = f"{claim.problem}\n{claim.impact}".lower()
    return ref.lower() in said and ref.lower() not in claim.fix.lower()


def _commit_rows(
    shas: list[str], ctx: VerifyContext, rows: list[Row], *, exists: bool = True
) -> tuple[list[str], list[str]]:
    """commit_exists (when ``exists``) and on_branch rows for each commit; (on the branch,
    resolved) full hashes, in the order given."""
    on_branch: list[str] = []
    resolved: list[str] = []
    for ref in shas:
        verdict = ctx.verdict(ref)
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


def _file_rows(files: list[dict], claim: Claim, ctx: VerifyContext, fix: str) -> list[Row]:
    """touches_file and diff_overlaps of each claimed file, at the fix commit only."""
    rows: list[Row] = []
    pairs = quoted_pairs(claim)
    for path in _paths(files):
        if _is_pattern(path):
            rows.append(_pattern_row(ctx, path, fix))
            continue
        # With the first code block attached, the code checks of that block reuse this
        # verdict (VerifyContext caches by commit and claimed file): fewer git calls.
        claimed = (_claimed(files, path, pairs[0] if pairs else ("", "")),)
        verdict = ctx.verdict(fix, claimed)
        rows += [
            _row(c, fix) for c in verdict.checks if c.kind in (K.TOUCHES_FILE, K.DIFF_OVERLAPS)
        ]
    return rows


def _code_rows(
    named: list[dict], claim: Claim, ctx: VerifyContext, fix: str, earlier: list[Row]
) -> list[Row]:
    """The BEFORE/AFTER checks of each code block at the fix commit (and the head). A block
    is not tied to a file by the documents: the claimed file where it fares best speaks."""
    files = [path for path in _paths(named) if not _is_pattern(path)]
    rows: list[Row] = []
    for number, (before, after) in enumerate(quoted_pairs(claim), start=1):
        kinds = [k for k, code in zip(CODE_KINDS, (before, after) * 2, strict=True) if code.strip()]
        if not files:
            reason = _no_file_reason(claim, ctx, earlier)
            rows += [
                Row(k, Check.Result.CANNOT_CHECK, reason, detail={"block": number}) for k in kinds
            ]
            continue
        best: list[Row] | None = None
        for path in files:
            claimed = (_claimed(named, path, (before, after)),)
            found = [
                _row(check, (ctx.head_sha or "") if check.kind in _AT_HEAD else fix, block=number)
                for check in ctx.verdict(fix, claimed).checks
                if check.kind in CODE_KINDS
            ]
            if best is None or _cost(found) < _cost(best):
                best = found
            if _cost(found) == (0, 0):
                break
        rows += best or []
    return rows


def _unchecked_rows(files: list[dict], claim: Claim, why: str) -> list[Row]:
    """What could not run without a fix commit, each saying exactly why."""
    reason = f"there is no fix commit to check: {why}"
    rows: list[Row] = []
    for ref in files:
        rows.append(Row(K.TOUCHES_FILE, Check.Result.CANNOT_CHECK, reason, ref["path"]))
        if ref.get("lines"):
            rows.append(Row(K.DIFF_OVERLAPS, Check.Result.CANNOT_CHECK, reason, ref["path"]))
    for number, (before, after) in enumerate(quoted_pairs(claim), start=1):
        kinds = [k for k, code in zip(CODE_KINDS, (before, after) * 2, strict=True) if code.strip()]
        rows += [Row(k, Check.Result.CANNOT_CHECK, reason, detail={"block": number}) for k in kinds]
    return rows


def _gone_at_anchor(
    ctx: VerifyContext, anchor: str, files: list[str], before: str, claim: Claim, number: int
) -> list[Row]:
    """An "already fixed?" row when ``before`` is in none of ``files`` that exist at the
    anchor (at least one does); else nothing."""
    existing = before_gone(ctx.repo, anchor, files, before)
    if not existing:
        return []
    status = claim.get_status_display().lower()
    reason = (
        f"already fixed? the BEFORE code is not in {', '.join(existing)} at {anchor[:12]}, the "
        f"document's anchor, though the document calls this {status}"
    )
    detail = {"block": number, "hint": "already fixed?"}
    return [Row(GONE_CHECK, Check.Result.PASS, reason, existing[0], anchor, "", detail)]


def _anchor_code_rows(
    files: list[dict], claim: Claim, ctx: VerifyContext, *, after_fix: str = ""
) -> list[Row]:
    """A claim of a finished fix read at the document's own moment: its AFTER code looked
    for in the claimed files that exist at the anchor -- with no fix commit, or with one
    found before the anchor (``after_fix``). Absent there, the fix is described but not
    present (fail); present, it supports the claim and raises nothing by itself."""
    anchor = ctx.anchors.get(claim.report_id)
    if claim.status != Claim.Status.FIXED or anchor is None or not anchor.sha:
        return []
    try:
        if after_fix and not git.is_ancestor(ctx.repo, after_fix, anchor.sha):
            return []
    except git.GitError:
        return []
    paths = [path for path in _paths(files) if not _is_pattern(path)]
    rows: list[Row] = []
    for number, (before, after) in enumerate(quoted_pairs(claim), start=1):
        found = after_at(ctx.repo, anchor.sha, paths, (before, after)) if after.strip() else None
        if found is None:
            continue
        path, match = found
        said = "present" if match.found else "not present"
        reason = f"the AFTER code is {said} in {path} at {anchor.sha[:12]}, the document's "
        reason += f"anchor: {match.describe('the BEFORE code')}"
        result = Check.Result.PASS if match.found else Check.Result.FAIL
        detail = {**match.detail(), "block": number, "at": "anchor"}
        rows.append(Row(K.AFTER_PRESENT_AT_COMMIT, result, reason, path, anchor.sha, "", detail))
    return rows


def _anchor_of(claim: Claim, ctx: VerifyContext) -> Anchor:
    """The claim's document's anchor, found once per document and run."""
    if claim.report_id not in ctx.anchors:
        ctx.anchors[claim.report_id] = document_anchor(ctx.repo, ctx.branch, claim.report)
    return ctx.anchors[claim.report_id]


def _missing_rows(claim: Claim, ctx: VerifyContext) -> list[Row]:
    """commit_exists failures for a claim citing no commit of its own when the commits its
    document names (a "Commit:" header, a history list) are none of them in the repository:
    the document's own account of where its fixes are is wrong."""
    if claim.report_id not in ctx.missing:
        ctx.missing[claim.report_id] = missing_named(ctx.repo, claim.report)
    return [
        Row(
            K.COMMIT_EXISTS,
            Check.Result.FAIL,
            f"the document names {ref} as a commit of its fixes; no such commit in the repository",
            detail={"named_by": "document", "ref": ref},
        )
        for ref in ctx.missing[claim.report_id]
    ]


def _anchor_row(anchor: Anchor) -> Row:
    result = Check.Result.PASS if anchor.sha else Check.Result.CANNOT_CHECK
    detail = {"how": anchor.how} if anchor.how else {}
    return Row(ANCHOR_CHECK, result, anchor.reason, anchor.path, anchor.sha or "", "", detail)


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
        entry = {
            "path": name,
            "lines": ref.get("lines") or [],
            "approximate": ref.get("approximate") or [],
            "named": name,
        }
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
    fix = next((r.commit for r in rows if r.name == FIX_CHECK and r.commit), "")
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


def _pattern_row(ctx: VerifyContext, pattern: str, fix: str) -> Row:
    """touches_file for a folder (``src/email/``) or a pattern (``backend/api/*``)."""
    hits = [p for p in _commit_paths(ctx, fix) if _under(p, pattern)]
    if hits:
        shown = ", ".join(hits[:3]) + (" ..." if len(hits) > 3 else "")
        reason = f"commit {fix[:12]} changes {len(hits)} file(s) in {pattern}: {shown}"
        return Row(K.TOUCHES_FILE, Check.Result.PASS, reason, pattern, fix)
    reason = f"commit {fix[:12]} changes nothing in {pattern}"
    return Row(K.TOUCHES_FILE, Check.Result.FAIL, reason, pattern, fix)


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


def _claimed(files: list[dict], path: str, pair: tuple[str, str]) -> git.ClaimedFile:
    """What the claim says about ``path``: its line ranges (and which of them the document
    gave as approximate, "~406"), with one code block."""
    ranges: list[tuple[int, int]] = []
    rough: list[tuple[int, int]] = []
    for ref in files:
        if ref["path"] == path:
            ranges += [(int(a), int(b)) for a, b in ref.get("lines") or []]
            rough += [(int(a), int(b)) for a, b in ref.get("approximate") or []]
    return git.ClaimedFile(path, tuple(ranges), pair[0], pair[1], tuple(rough))


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


def _touches_any(ctx: VerifyContext, sha: str, names: list[str]) -> bool:
    """Whether commit ``sha`` changes a file one of ``names`` (as the document wrote them)
    can mean."""
    try:
        paths = _commit_paths(ctx, sha)
    except git.GitError:
        return False
    return any(_name_hits(path, name) for path in paths for name in names)


def _name_hits(path: str, name: str) -> bool:
    """Whether repository ``path`` is a file the document's ``name`` can mean: the path, a
    path ending in it (a bare file name), the end of a deployed path, a dotted module, a
    file in a folder or pattern."""
    name = name.strip().lstrip("/")
    if not name:
        return False
    if _is_pattern(name):
        return _under(path, name)
    module = name.replace(".", "/") + ".py" if MODULE.match(name) else ""
    return any(
        path == want or path.endswith("/" + want) or want.endswith("/" + path)
        for want in filter(None, (name, module))
    )


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
