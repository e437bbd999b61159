"""The finding page's reads (also the API's one finding): the finding itself, its timeline,
the claims that speak for it, what the scanner said of it and its rule, the history of its
lines and the code around it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from django.db.models import Prefetch, Q

from findings.models import Check, Claim, Finding, FindingLink, Project, Rule, ScanChange
from findings.selectors.cards import scan_events, scan_words, scope_scanned_at
from findings.services.document_matching import DOCUMENT_TOOL

log = logging.getLogger(__name__)


def finding_by_number(*, project: Project, number: int) -> Finding | None:
    """The project's finding ``number`` (its key's number), with its project; None if none."""
    return Finding.objects.filter(project=project, number=number).select_related("project").first()


def finding_timeline(*, finding: Finding) -> dict:
    """Sightings (newest first) and events of one finding, for its detail page, and what the
    scans say of it in words (moved, still present (changed), fixed (code removed), not seen
    since ...: :func:`~findings.selectors.cards.scan_words`)."""
    sightings = finding.sightings.select_related("report").order_by("-report__order_at")[:200]
    events = finding.events.select_related("actor", "report").order_by("-created_at", "-id")[:200]
    newest = scope_scanned_at(finding.project).get((finding.tool, finding.category, finding.branch))
    last_seen = (finding.last_seen_at, finding.last_seen_report_id)
    told = scan_events([finding.pk], [ScanChange.MOVED, ScanChange.EDITED]).get(finding.pk, "")
    words = scan_words(finding.status, finding.scan_change, last_seen, newest, told)
    return {"sightings": sightings, "events": events, "scan_words": words}


_DETAIL_LABELS = {
    "rule_name": "Rule name",
    "help_uri": "Help",
    "help_url": "Help",
    "security_severity": "Security severity",
    "cwes": "CWEs",
    "owasp": "OWASP",
}


def rule_details(*, finding: Finding) -> dict:
    """What the scanner said of the finding's rule (see :class:`Rule`); {} when nothing."""
    rule = (
        Rule.objects.filter(
            project_id=finding.project_id, tool=finding.tool, rule_id=finding.rule_id
        )
        .values_list("details", flat=True)
        .first()
    )
    return rule if isinstance(rule, dict) else {}


def finding_details(*, finding: Finding) -> dict:
    """What the scanner said beyond the finding's own fields, as label/text rows: about this
    finding (its ``extra``: package versions, baseline state, ...) and about its rule (name,
    help link, tags, precision, ..., kept once per rule: see :class:`Rule`)."""
    rule = rule_details(finding=finding)
    if rule.get("rule_name") == finding.rule_id:
        rule = {key: value for key, value in rule.items() if key != "rule_name"}
    # Findings imported before rules were kept apart carry a copy of their rule's metadata:
    # shown once, with the rule.
    extra = finding.extra if isinstance(finding.extra, dict) else {}
    own = {key: value for key, value in extra.items() if rule.get(key, ...) != value}
    if finding.tool == DOCUMENT_TOOL:
        own = _document_details(own)
    rows = [row for row in _detail_rows(own) if row["text"] != finding.message]
    return {"finding_details": rows, "rule_details": _detail_rows(rule)}


def _document_details(extra: dict) -> dict:
    """A document finding's ``extra`` as a reader needs it: the keys that find the claim
    again (its document's identity, its claim key) are the import's bookkeeping, shown by the
    Claims section in words, and an unstated severity is said as such."""
    shown = {k: v for k, v in extra.items() if k not in ("document", "claim_key")}
    stated = shown.pop("severity_stated", True)
    if stated is False:
        shown = {"severity": "not stated by the document (shown as info)", **shown}
    return shown


def _detail_rows(details: object) -> list[dict]:
    if not isinstance(details, dict):
        return []
    rows = []
    for key, value in details.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(item) for item in value)
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            text = str(value)
        label = _DETAIL_LABELS.get(key) or str(key).replace("_", " ").capitalize()
        # Only web links become links: a report is untrusted input.
        href = text if isinstance(value, str) and text.startswith(("https://", "http://")) else ""
        rows.append({"label": label, "text": text, "href": href})
    return rows


def finding_claims(*, finding: Finding) -> list[Claim]:
    """Claims that speak about a finding (their own, or linked and not undone), newest first."""
    live = [FindingLink.State.SUGGESTED, FindingLink.State.CONFIRMED]
    claims: list[Claim] = list(
        Claim.objects.filter(Q(finding=finding) | Q(links__finding=finding, links__state__in=live))
        .distinct()
        .select_related("report", "report__document", "verification")
        .prefetch_related(
            Prefetch(
                "links",
                queryset=FindingLink.objects.filter(finding=finding),
                to_attr="links_here",
            )
        )
        .order_by("-report__created_at", "line", "id")
    )
    # The Checks behind each claim's newest verification, read in one query for all of them.
    verifications = [claim.verification for claim in claims if hasattr(claim, "verification")]
    by_run: dict = defaultdict(list)
    if verifications:
        for check in Check.objects.filter(run__in={v.run for v in verifications}).order_by("id"):
            by_run[check.run].append(check)
    for claim in claims:
        verification = getattr(claim, "verification", None)
        # Like ``links_here`` above, an attribute for the finding page's template alone.
        checks = by_run.get(verification.run, []) if verification else []
        claim.checks_here = checks  # type: ignore[attr-defined]
        claim.evidence_here = claim_evidence(checks)  # type: ignore[attr-defined]
    return claims


# --- a claim's evidence, as a reviewer reads it ----------------------------------------------

FIX_ROW = "fix_commit"
ANCHOR_ROW = "document_anchor"
_COMMIT_ROWS = ("commit_exists", "commit_cites_finding", "document_commit")
RESULT_WORDS: dict[str, str] = {
    Check.Result.PASS: "passed",
    Check.Result.FAIL: "failed",
    Check.Result.CANNOT_CHECK: "could not check",
}


def claim_evidence(checks: list[Check]) -> dict:
    """One verification's checks arranged for the finding page: the fix commit and why it
    was chosen (the ``fix_commit`` row; before there is one, the commit the commit-level
    checks name), the document's anchor, the checks grouped by file with their evidence
    (diff hunks, closest code span and score) and the checks that could not run."""
    fix_row = next((c for c in checks if c.name == FIX_ROW), None)
    anchor = next((c for c in checks if c.name == ANCHOR_ROW), None)
    fix: dict | None = None
    if fix_row is not None:
        fix = {"commit": fix_row.commit, "reason": fix_row.reason, "result": fix_row.result}
    else:
        named = next((c for c in checks if c.name in _COMMIT_ROWS and c.commit), None)
        if named is not None:
            fix = {"commit": named.commit, "reason": named.reason, "result": named.result}
    groups: dict[str, list[dict]] = {}
    for check in checks:
        if check.name in (FIX_ROW, ANCHOR_ROW):
            continue
        groups.setdefault(check.path, []).append(_check_evidence(check))
    tally = {word: sum(c.result == result for c in checks) for result, word in RESULT_WORDS.items()}
    return {
        "fix": fix,
        "fix_stated": fix_row is not None,
        "anchor": anchor,
        "groups": [{"path": path, "checks": rows} for path, rows in groups.items()],
        "cannot": [c for c in checks if c.result == Check.Result.CANNOT_CHECK],
        "tally": tally,
    }


def _check_evidence(check: Check) -> dict:
    """A check with the evidence its detail carries, in the shapes the template shows."""
    detail = check.detail if isinstance(check.detail, dict) else {}
    hunks = [
        {
            "claimed": r.get("claimed", ""),
            "off": r.get("off"),
            "approximate": bool(r.get("approximate")),
            "text": r.get("hunk", ""),
        }
        for r in detail.get("ranges") or []
        if isinstance(r, dict)
    ]
    span = detail.get("span") if isinstance(detail.get("span"), dict) else None
    return {
        "check": check,
        "words": RESULT_WORDS.get(check.result, check.result),
        "hunks": hunks,
        "span": span,
        "score": detail.get("score"),
        "threshold": detail.get("threshold"),
        "block": detail.get("block"),
        "at_parent": detail.get("at") == "parent",
        # When both blocks of a pair matched the same lines, which one fits them better.
        "rival": "AFTER" if check.name.startswith("before") else "BEFORE",
        "rival_score": detail.get("rival_score"),
        "fit": detail.get("fit"),
    }


# --- history of a finding's lines ----------------------------------------------------------

LINE_HISTORY_LIMIT = 20
"""At most this many commits are listed under "History of these lines", newest first."""
LINE_HISTORY_SECONDS = 3600
"""How long a computed history is cached. The key holds the branch head, so a new commit
makes a new key; the time limit only bounds how long stale keys linger."""


def finding_line_history(*, finding: Finding) -> dict:
    """The history of a finding's lines, for its detail page: ``{"line_history": value}``.

    The value is None when there is nothing to trace: the finding has no path or start line,
    or its project has no linked repository. Otherwise it is a dict with

    * ``path``, ``lines`` (``"12"`` or ``"12-15"``), ``since`` and ``until`` (full hashes;
      ``since`` empty when the finding has no first-seen commit);
    * ``changes``: the commits that touched those lines after ``since`` up to ``until``
      (``git log -L`` semantics, renames followed), newest first, at most
      :data:`LINE_HISTORY_LIMIT`, each ``{sha, short_sha, author, email, date, summary,
      path, commit_id}``, ``commit_id`` the stored :class:`Commit` row's id or None;
    * ``owners``: blame of the lines at ``until``, ``{name, email, lines, share}`` (share in
      whole percent), largest first; the first is the suggested owner;
    * ``problem``: "" or why the history cannot be read (repository unavailable, a commit or
      the lines missing, git failing). A problem is shown, never raised.

    ``until`` is the finding's last-seen commit, else the branch head. The git part is cached
    in Django's cache under the branch head, the finding, its path and lines (and the commits
    it spans), so repeated page views run one ``rev-parse`` and no history walk.
    """
    import hashlib

    from django.core.cache import cache

    from findings.models import Commit, Repository
    from findings.services.repositories import (
        RepositoryError,
        repository_branch,
        repository_open,
    )
    from scanners import git

    project = finding.project
    has_link = Repository.objects.filter(project=project).exists() or bool(project.repo_path)
    if not finding.path or not finding.start_line or not has_link:
        return {"line_history": None}
    start = finding.start_line
    end = max(finding.end_line or start, start)
    lines = str(start) if end == start else f"{start}-{end}"
    since = finding.first_seen_commit or ""
    result: dict[str, Any] = {
        "path": finding.path,
        "lines": lines,
        "since": since,
        "until": finding.last_seen_commit or "",
        "changes": [],
        "owners": [],
        "problem": "",
    }
    try:
        handle = repository_open(project)
        branch = repository_branch(project)
        head = git.resolve(handle, branch)
        if head.outcome is not git.ResolveOutcome.FOUND or head.sha is None:
            raise git.GitError(head.reason, plain=f"the linked repository has no branch {branch}")
    except (RepositoryError, git.GitError) as error:
        log.warning("line history of %s: %s", finding.key, error)
        return {"line_history": {**result, "problem": error.plain}}
    parts = (head.sha, finding.pk, finding.path, lines, since, result["until"])
    key = "line-history:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        until = result["until"] or head.sha
        cached = _read_line_history(handle, finding.path, start, end, since, until)
        if not cached["problem"]:
            # A failure is not cached: the next view retries once the cause is fixed.
            cache.set(key, cached, LINE_HISTORY_SECONDS)
    result.update(cached)
    stored = dict(
        Commit.objects.filter(
            project=project, sha__in=[c["sha"] for c in result["changes"]]
        ).values_list("sha", "pk")
    )
    result["changes"] = [{**c, "commit_id": stored.get(c["sha"])} for c in result["changes"]]
    return {"line_history": result}


def _read_line_history(handle, path: str, start: int, end: int, since: str, until: str) -> dict:
    """The git part of :func:`finding_line_history`, as plain values (it is cached)."""
    from scanners import git

    data: dict = {"changes": [], "owners": [], "problem": "", "until": until}
    try:
        for sha, role in ((until, "last seen"), (since, "first seen")):
            if sha and git.resolve(handle, sha).outcome is not git.ResolveOutcome.FOUND:
                data["problem"] = (
                    f"commit {sha[:12]}, where this finding was {role}, is not in the linked "
                    "repository: the report was made from another copy of the code, or the "
                    "repository needs a fetch"
                )
                return data
        tip = git.require_commit(handle, until)
        data["until"] = tip
        base = git.require_commit(handle, since) if since else None
        changes = git.line_history(handle, path, start, end, since=base, until=tip)
        shares = git.blame(handle, path, start, end, at=tip)
    except git.GitError as error:
        log.warning("line history of %s lines %s-%s: %s", path, start, end, error)
        data["problem"] = error.plain
        return data
    data["changes"] = [
        {
            "sha": c.sha,
            "short_sha": c.short_sha,
            "author": c.author_name,
            "email": c.author_email,
            "date": c.authored_at,
            "summary": c.summary,
            "path": c.path,
        }
        for c in changes[:LINE_HISTORY_LIMIT]
    ]
    total = sum(s.lines for s in shares) or 1
    data["owners"] = [
        {
            "name": s.author_name,
            "email": s.author_email,
            "lines": s.lines,
            "share": round(100 * s.lines / total),
        }
        for s in shares
    ]
    return data


CODE_CONTEXT_LINES = 5


def finding_code_context(*, finding: Finding) -> dict:
    """The code around a finding at its last-seen commit: ``{"code_context": value}``.

    The value is None without a location, a last-seen commit or a linked repository, or when
    the file cannot be read there (the page then shows the scanner's snippet alone); else
    ``{text, first_line, commit}`` with :data:`CODE_CONTEXT_LINES` lines either side, cached
    per commit, path and lines (a commit's content never changes).
    """
    import hashlib

    from django.core.cache import cache

    from findings.services.repositories import RepositoryError, repository_open
    from scanners import git

    commit = finding.last_seen_commit
    if not (finding.path and finding.start_line and commit):
        return {"code_context": None}
    start = finding.start_line
    end = max(finding.end_line or start, start)
    parts = (finding.project_id, commit, finding.path, start, end)
    key = "code-context:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        try:
            text = git.file_at(repository_open(finding.project), commit, finding.path)
        except (RepositoryError, git.GitError):
            return {"code_context": None}
        if text is None:
            return {"code_context": None}
        lines = text.splitlines()
        first = max(1, start - CODE_CONTEXT_LINES)
        window = lines[first - 1 : min(len(lines), end + CODE_CONTEXT_LINES)]
        cached = {"text": "\n".join(window), "first_line": first, "commit": commit}
        cache.set(key, cached, 24 * 3600)
    return {"code_context": cached}
