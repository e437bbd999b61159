"""Moves, renames and edited lines: the passes of a scan merge that pair a finding the report
no longer has where it was with a new one that is the same problem somewhere else.

A fingerprint holds the path, and content-keyed fingerprints hold the flagged line, so a
renamed file, a flattened directory, a function moved to another file or a cosmetic edit of
the flagged line each make the report's finding look new and the old one look fixed. These
passes run in :meth:`ScanMerge.finish` before the sightings are recorded, over two small
sets: the findings of the report's scopes it did not see (``ad_unseen``) and the report's rows
that no finding has (``ad_fresh``, from ``ad_new``: not yet inserted). An unchanged rescan has
none and they stop at once.

1. :func:`renamed_pairs`: with the linked repository, ``git diff -M -C`` between the commit
   each old finding was last seen at and the report's commit maps old paths to new ones; an
   old and a new finding of the same tool, category, rule and content key on a mapped path
   are one finding, moved.
2. :func:`content_pairs`: what is left is paired on the same tool, category, rule and
   content key (``Finding.content_key``: the fingerprint without path and ordinal) in
   another path, same file names first: a move, with or without a repository.
3. :func:`edit_pairs`: in the same (or mapped) file with the same rule, a new finding on a
   line whose text is similar (token ratio of at least ``SIMILAR``) within ``NEAR_LINES``, or
   in the same enclosing function, is the old one, still present (changed). The text is the
   report's snippet, else the line read from the repository at each commit, else the
   message; the function is known only from the repository.
4. :func:`pairs_absorb`: each pair becomes the old finding seen at the new place (it keeps
   its number, history and claims, and takes the new fingerprint), with an Event that says
   what happened; the paired row is never inserted, so only the rows left become findings
   and their numbers have no gaps.

Pairing is set-based SQL (window functions over the two sets) whatever the number of moves;
only the edit candidates (same file, same rule, both unpaired: few) are scored in Python.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.db import connection

from findings.models import Project, ScanChange
from findings.services.scan.sql import MergeSQL, ScanContext, next_scope_report
from scanners import git

SIMILAR = 0.6
"""The token ratio at which an edited flagged line is still the same finding."""
NEAR_LINES = 50
"""How far (in lines) an edited line may have drifted from the old place."""
EDIT_CANDIDATES = 20_000
"""At most this many (old, new) candidate pairs are scored for edits in one report."""
RENAMED_COMMITS = 20
"""At most this many distinct earlier commits are diffed against the report's."""
MOVE_TABLES = ("ad_unseen", "ad_fresh", "ad_renames", "ad_pairs")

_TOKEN = re.compile(r"\w+|[^\w\s]")
_FUNCTION = re.compile(r"^(\s*)(?:async\s+def|def|class|function|func|fn|sub)\s+(\w+)")
# A path's file name in SQL both databases speak: the path without its directory part
# (rtrim strips the trailing characters that are not '/').
_BASENAME = "REPLACE({p}, RTRIM({p}, REPLACE({p}, '/', '')), '')"


class Merge(Protocol):
    """What these passes read of a merge whose rows are all in (``passes.Merged``)."""

    @property
    def ctx(self) -> ScanContext: ...
    @property
    def sql(self) -> MergeSQL: ...
    @property
    def project(self) -> Project: ...
    @property
    def first_number(self) -> int: ...
    @property
    def new_count(self) -> int: ...
    @property
    def empty(self) -> bool: ...


@dataclass
class Whereabouts:
    """What a merge may learn of the files at the report's commit beyond its rows.

    ``scanned`` is the files the report lists as scanned (None: it lists none and speaks for
    every file); ``failed`` the files the tool could not read; ``coverage`` the path
    prefixes the report speaks for (empty: the whole tree) and ``partial`` whether it says
    so (a path filter given with the import, or a sub-directory scan: every scanned file
    under one directory). ``repo`` is the linked repository, when there is one.
    """

    scanned: tuple[str, ...] | None = None
    failed: tuple[str, ...] = ()
    coverage: tuple[str, ...] = ()
    repo: git.Repository | None = None
    commit: str = ""
    _files: dict[tuple[str, str], list[str] | None] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        *,
        scanned: tuple[str, ...] | None,
        failed: Sequence[str] = (),
        only: Sequence[str] = (),
        repo: git.Repository | None = None,
        commit: str = "",
    ) -> Whereabouts:
        """The whereabouts of a report: its coverage is ``only`` when the import names the
        paths scanned (``"."``: the whole tree), else the one directory every scanned file
        sits under."""
        coverage = tuple(p.strip("/") for p in only if p.strip("/") not in ("", "."))
        if not only and scanned:
            common = _common_directory([*scanned, *failed])
            coverage = (common,) if common else ()
        return cls(scanned, tuple(failed), coverage, repo if commit else None, commit)

    @property
    def partial(self) -> bool:
        return bool(self.coverage)

    def covers(self, path: str) -> bool:
        """Whether the report speaks for ``path``: inside its coverage and read by the tool."""
        if path in self.failed:
            return False
        return not self.coverage or any(
            path == prefix or path.startswith(prefix + "/") for prefix in self.coverage
        )

    def scope_condition(self) -> tuple[str, list]:
        """A condition on findings_finding, and its parameters: the findings whose files the
        report speaks for (see :meth:`covers`)."""
        parts, params = [], []
        if self.failed:
            parts.append("path NOT IN (" + ", ".join(["%s"] * len(self.failed)) + ")")
            params += list(self.failed)
        if self.coverage:
            inside = " OR ".join(["path = %s OR path LIKE %s ESCAPE '!'"] * len(self.coverage))
            parts.append(f"({inside})")
            for prefix in self.coverage:
                like = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
                params += [prefix, like + "/%"]
        return (" AND ".join(parts) or "1 = 1"), params

    def renames(self, since: str) -> list[tuple[str, str]]:
        """(old path, new path) renamed or copied from ``since`` to the report's commit;
        [] without a repository or when either commit is unknown to it."""
        if self.repo is None or not since:
            return []
        try:
            return git.renamed_paths(self.repo, since, self.commit)
        except git.GitError:
            return []

    def present(self, paths: Sequence[str]) -> set[str] | None:
        """Which of ``paths`` are files at the report's commit; None when unknown."""
        if self.repo is None:
            return None
        try:
            return git.paths_present(self.repo, self.commit, paths)
        except git.GitError:
            return None

    def lines(self, commit: str, path: str) -> list[str] | None:
        """The lines of ``path`` at ``commit`` from the repository (cached), or None."""
        if self.repo is None or not commit:
            return None
        key = (commit, path)
        if key not in self._files:
            try:
                text = git.file_at(self.repo, commit, path)
            except git.GitError:
                text = None
            self._files[key] = None if text is None else text.splitlines()
        return self._files[key]


def _common_directory(paths: Sequence[str]) -> str:
    """The deepest directory holding every one of ``paths`` ("" for the tree's root)."""
    parts = [p.split("/")[:-1] for p in paths if p and not p.startswith("/")]
    if not parts or len(parts) != len(paths):
        return ""
    common = parts[0]
    for other in parts[1:]:
        size = 0
        while size < min(len(common), len(other)) and common[size] == other[size]:
            size += 1
        common = common[:size]
    return "/".join(common)


@dataclass
class Moved:
    """What the move passes did, for the report's note."""

    moved: int = 0
    edited: int = 0

    @property
    def absorbed(self) -> int:
        return self.moved + self.edited


def moves_pass(m: Merge, scopes: Sequence[tuple[str, str]], where: Whereabouts) -> Moved:
    """Pair the report's unseen and new findings (renames, moves, edits) and absorb the
    pairs; ``m`` is the merge's :class:`~findings.services.scan.passes.Merged`."""
    done = Moved()
    moves_clear(m)
    if m.empty or not m.new_count:
        return done
    movable = [
        (tool, category)
        for tool, category in scopes
        if next_scope_report(m.ctx, tool, category) is None
    ]
    if not movable or not unseen_collect(m, movable, where):
        return done
    fresh_collect(m)
    if renames_load(m, where):
        renamed_pairs(m)
    content_pairs(m)
    edit_pairs(m, where)
    done.moved = m.sql.scalar("SELECT COUNT(*) FROM ad_pairs WHERE kind = %s", [ScanChange.MOVED])
    done.edited = m.sql.scalar("SELECT COUNT(*) FROM ad_pairs WHERE kind = %s", [ScanChange.EDITED])
    if done.absorbed:
        pairs_absorb(m)
    else:
        _drop(m)
    return done


def _drop(m: Merge) -> None:
    for table in MOVE_TABLES:
        m.sql.run(f"DROP TABLE IF EXISTS {table}")


def unseen_collect(m: Merge, scopes: Sequence[tuple[str, str]], where: Whereabouts) -> bool:
    """The findings of ``scopes`` that the report did not see, that no newer report saw and
    that no scan has fixed, into ``ad_unseen``; whether there are any. A finding in a file
    the report does not speak for (outside a partial scan, or unreadable to the tool) was
    not looked for, so it is no candidate, unless its file is gone at the report's commit."""
    sql = m.sql
    _drop(m)
    scope_sql = " OR ".join(["(tool = %s AND category = %s)"] * len(scopes))
    sql.run(
        f"""CREATE TEMPORARY TABLE ad_unseen AS
        SELECT id, number, tool, category, rule_id, content_key, path, start_line, snippet,
            message, last_seen_commit AS seen_commit, CAST(NULL AS TEXT) AS mapped
        FROM findings_finding
        WHERE project_id = %s AND branch = %s AND number < %s AND ({scope_sql})
          AND last_seen_at <= %s AND fixed_in_report_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM ad_seen a WHERE a.finding_id = findings_finding.id)""",
        [m.project.pk, m.ctx.branch, m.first_number, *[v for s in scopes for v in s], sql.at],
    )
    if where.partial or where.failed:
        _uncovered_drop(where)
    if not sql.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM ad_unseen LIMIT 1) one"):
        _drop(m)
        return False
    return True


def _uncovered_drop(where: Whereabouts) -> None:
    """Out of ``ad_unseen``: findings in files the report does not speak for whose file is
    (or may be) still there."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT path FROM ad_unseen")
        outside = [row[0] for row in cursor.fetchall() if not where.covers(row[0])]
        if not outside:
            return
        present = where.present(outside)
        kept = [(path,) for path in outside if present is None or path in present]
        cursor.executemany("DELETE FROM ad_unseen WHERE path = %s", kept)


def fresh_collect(m: Merge) -> None:
    """The report's rows that no finding has (``ad_new``, not yet inserted) into
    ``ad_fresh``, their place in the report as their id and number."""
    m.sql.run(
        """CREATE TEMPORARY TABLE ad_fresh AS
        SELECT seq AS id, seq AS number, fingerprint, tool, category, rule_id, content_key,
            path, start_line, snippet, message
        FROM ad_new"""
    )
    m.sql.run(
        """CREATE TEMPORARY TABLE ad_pairs (old_id BIGINT PRIMARY KEY, new_id BIGINT UNIQUE,
        kind TEXT, old_path TEXT, new_path TEXT, new_fingerprint TEXT, new_content_key TEXT,
        note TEXT)"""
    )


def renames_load(m: Merge, where: Whereabouts) -> bool:
    """``ad_renames`` (old path, new path): git's renames and copies from the commits the
    unseen findings were last seen at to the report's, one new path per old one (a rename
    before a copy); ``ad_unseen.mapped`` is each finding's path at the report's commit.
    Whether git renamed any of their files."""
    m.sql.run("CREATE TEMPORARY TABLE ad_renames (old_path TEXT PRIMARY KEY, new_path TEXT)")
    if where.repo is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT seen_commit FROM ad_unseen WHERE seen_commit <> '' LIMIT %s",
            [RENAMED_COMMITS],
        )
        commits = [row[0] for row in cursor.fetchall()]
    mapped: dict[str, str] = {}
    for commit in commits:
        for old, new in where.renames(commit):
            mapped.setdefault(old, new)
    if not mapped:
        return False
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO ad_renames (old_path, new_path) VALUES (%s, %s)", list(mapped.items())
        )
    m.sql.run(
        """UPDATE ad_unseen SET mapped =
        (SELECT r.new_path FROM ad_renames r WHERE r.old_path = ad_unseen.path)"""
    )
    return True


_PAIR_INSERT = """INSERT INTO ad_pairs (old_id, new_id, kind, old_path, new_path,
        new_fingerprint, new_content_key)
    SELECT o.id, n.id, %s, o.path, n.path, n.fingerprint, n.content_key
    FROM ({old}) o JOIN ({new}) n ON n.tool = o.tool AND n.category = o.category
        AND n.rule_id = o.rule_id AND n.content_key = o.content_key AND n.rn = o.rn {on}
    WHERE {where}
    ON CONFLICT DO NOTHING"""
# Anti-joins, not NOT IN: the planner, without statistics of the temporary tables, may run
# NOT IN's subquery once per row.
_UNPAIRED_OLD = (
    "content_key <> '' AND NOT EXISTS (SELECT 1 FROM ad_pairs p WHERE p.old_id = ad_unseen.id)"
)
_UNPAIRED_NEW = (
    "content_key <> '' AND NOT EXISTS (SELECT 1 FROM ad_pairs p WHERE p.new_id = ad_fresh.id)"
)


def _bytewise(*columns: str) -> str:
    """``columns`` for a window's PARTITION BY or ORDER BY, compared byte by byte on
    PostgreSQL: the pairing needs only the same order on both sides, and a locale's rules
    make the sorts of a large flatten several times dearer."""
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    return ", ".join(column + collate for column in columns)


def renamed_pairs(m: Merge) -> None:
    """Old and new findings with the same content key, the new one on the old one's path
    as git renamed it; within a file, in the order of their numbers."""
    key = _bytewise("tool", "category", "rule_id", "content_key")
    columns = "tool, category, rule_id, content_key"
    old = f"""SELECT id, {columns}, path, mapped,
        ROW_NUMBER() OVER (PARTITION BY {key}, {_bytewise("mapped")} ORDER BY number) AS rn
        FROM ad_unseen WHERE mapped IS NOT NULL AND {_UNPAIRED_OLD}"""
    new = f"""SELECT id, fingerprint, {columns}, path,
        ROW_NUMBER() OVER (PARTITION BY {key}, {_bytewise("path")} ORDER BY number) AS rn
        FROM ad_fresh WHERE {_UNPAIRED_NEW}"""
    m.sql.run(
        _PAIR_INSERT.format(old=old, new=new, on="AND n.path = o.mapped", where="true"),
        [ScanChange.MOVED],
    )


def content_pairs(m: Merge) -> None:
    """The unpaired rest: the same content key in another path is a move. Each side is
    ranked within its key by file name, then path, then number, so a flattened directory
    pairs each file with its namesake."""
    columns = "tool, category, rule_id, content_key"
    key = _bytewise(*columns.split(", "))
    order = _bytewise(_BASENAME.format(p="path"), "path") + ", number"
    old = f"""SELECT id, {columns}, path,
        ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {order}) AS rn
        FROM ad_unseen WHERE {_UNPAIRED_OLD}"""
    new = f"""SELECT id, fingerprint, {columns}, path,
        ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {order}) AS rn
        FROM ad_fresh WHERE {_UNPAIRED_NEW}"""
    m.sql.run(
        _PAIR_INSERT.format(old=old, new=new, on="", where="n.path <> o.path"),
        [ScanChange.MOVED],
    )


@dataclass
class _Candidate:
    old_id: int
    new_id: int
    old_path: str
    new_path: str
    old_line: int | None
    new_line: int | None
    old_text: str
    new_text: str
    seen_commit: str
    new_fingerprint: str
    new_content_key: str
    old_message: str
    new_message: str


def edit_pairs(m: Merge, where: Whereabouts) -> None:
    """Unpaired old and new findings of one rule in the same (or renamed) file whose lines
    are similar and near, or in the same enclosing function: still present (changed).
    Nothing to look for once either side is all paired (a flatten, where every new row was
    a move): the candidates' join would still read both sides."""
    paired = m.sql.scalar("SELECT COUNT(*) FROM ad_pairs")
    if paired and paired >= min(
        m.sql.scalar("SELECT COUNT(*) FROM ad_unseen"),
        m.sql.scalar("SELECT COUNT(*) FROM ad_fresh"),
    ):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT o.id, n.id, o.path, n.path, o.start_line, n.start_line, o.snippet,
                n.snippet, o.seen_commit, n.fingerprint, n.content_key, o.message, n.message
            FROM ad_unseen o JOIN ad_fresh n ON n.tool = o.tool AND n.category = o.category
                AND n.rule_id = o.rule_id AND n.path = COALESCE(o.mapped, o.path)
            WHERE NOT EXISTS (SELECT 1 FROM ad_pairs p WHERE p.old_id = o.id)
              AND NOT EXISTS (SELECT 1 FROM ad_pairs p WHERE p.new_id = n.id)
            ORDER BY o.id, n.id LIMIT %s""",
            [EDIT_CANDIDATES],
        )
        candidates = [_Candidate(*row) for row in cursor.fetchall()]
    scored = []
    for candidate in candidates:
        score = _edit_score(candidate, where, m.ctx.commit)
        if score is not None:
            scored.append((score, candidate))
    # Best first: the same function, then the most similar text, then the nearest line.
    scored.sort(key=lambda item: item[0], reverse=True)
    used_old: set[int] = set()
    used_new: set[int] = set()
    rows = []
    for _, c in scored:
        if c.old_id in used_old or c.new_id in used_new:
            continue
        used_old.add(c.old_id)
        used_new.add(c.new_id)
        note = f"still present (changed): {_short(c.old_text)} → {_short(c.new_text)}"
        rows.append(
            (c.old_id, c.new_id, ScanChange.EDITED.value, c.old_path, c.new_path,
             c.new_fingerprint, c.new_content_key, note)
        )  # fmt: skip
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO ad_pairs (old_id, new_id, kind, old_path, new_path,
                    new_fingerprint, new_content_key, note)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                rows,
            )


def _edit_score(c: _Candidate, where: Whereabouts, commit: str) -> tuple | None:
    """(same function, token ratio, -distance) when the pair is an edit, else None."""
    old_lines = where.lines(c.seen_commit, c.old_path)
    new_lines = where.lines(commit, c.new_path)
    # The flagged line as the report gave it, else from the repository, else the message
    # (a report without snippets, no repository: messages often name the code).
    old_text = c.old_text or _line(old_lines, c.old_line) or c.old_message
    new_text = c.new_text or _line(new_lines, c.new_line) or c.new_message
    ratio = token_ratio(old_text, new_text) if old_text and new_text else 0.0
    distance = abs((c.old_line or 0) - (c.new_line or 0))
    old_function = enclosing_function(old_lines, c.old_line)
    same_function = bool(old_function) and old_function == enclosing_function(new_lines, c.new_line)
    if not same_function and (ratio < SIMILAR or distance > NEAR_LINES):
        return None
    c.old_text, c.new_text = old_text, new_text
    return (same_function, ratio, -distance)


def _line(lines: list[str] | None, number: int | None) -> str:
    if not lines or not number or number > len(lines):
        return ""
    return lines[number - 1].strip()


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split()) or "(no text)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def token_ratio(a: str, b: str) -> float:
    """How alike two lines of code are, token by token (0 to 1)."""
    return difflib.SequenceMatcher(None, _TOKEN.findall(a), _TOKEN.findall(b), False).ratio()


def enclosing_function(lines: list[str] | None, number: int | None) -> str:
    """The name of the function or class the line ``number`` sits in ("" when unknown): the
    nearest definition above it that is indented less."""
    if not lines or not number or number > len(lines):
        return ""
    line = lines[number - 1]
    indent = len(line) - len(line.lstrip())
    for above in reversed(lines[: number - 1]):
        found = _FUNCTION.match(above)
        if found and len(found.group(1)) < indent:
            return found.group(2)
    return ""


def pairs_absorb(m: Merge) -> None:
    """Each pair in ``ad_pairs`` becomes its old finding seen where the new row is: the old
    one joins ``ad_seen`` with the new fingerprint, content key and how it changed (written
    by ``where_now_pass``, in the one update of its row) and gets an Event saying what
    moved; the row leaves ``ad_new``, so it is never inserted as a finding."""
    sql, ctx = m.sql, m.ctx
    sql.run(
        """INSERT INTO ad_seen (finding_id, suppressed, newest, path, start_line, end_line,
            snippet, title, message, severity, fingerprint, content_key, scan_change)
        SELECT p.old_id, n.suppressed, 1, n.path, n.start_line, n.end_line, n.snippet,
            n.title, n.message, n.severity, p.new_fingerprint, p.new_content_key, p.kind
        FROM ad_pairs p JOIN ad_new n ON n.seq = p.new_id"""
    )
    sql.run("DELETE FROM ad_new WHERE seq IN (SELECT new_id FROM ad_pairs)")
    # A person knows a scan by its commit, else by its day (a report's number means little).
    where = f"in {ctx.commit[:12]}" if ctx.commit else f"in the scan of {ctx.order_at:%Y-%m-%d}"
    sql.run(
        """INSERT INTO findings_event (project_id, finding_id, report_id, action, before,
            after, note, created_at)
        SELECT %s, old_id, %s, kind, '', '',
            CASE WHEN kind = %s THEN 'moved from ' || old_path || ' to ' || new_path || %s
                ELSE note || %s END, %s
        FROM ad_pairs""",
        [m.project.pk, ctx.report.pk, ScanChange.MOVED, " " + where, " " + where, sql.now],
    )
    _drop(m)


def moves_clear(m: Merge) -> None:
    """Findings this report saw again in place no longer say they moved or changed (a
    partial index keeps the look at the few that do cheap). Run before the pairs join
    ``ad_seen``: they say it anew."""
    if m.empty:
        return
    m.sql.run(
        f"""UPDATE findings_finding SET scan_change = ''
        WHERE project_id = %s AND scan_change IN ('{ScanChange.MOVED}', '{ScanChange.EDITED}')
          AND id IN (SELECT finding_id FROM ad_seen)""",
        [m.project.pk],
    )


# --- what a report that no longer has a finding says of it ---------------------------------


def gone_kinds(m: Merge, where: Whereabouts) -> list[str]:
    """``ad_gone`` (path, kind): how each file of the unseen findings in ``ad_scope`` left
    the report (a :class:`ScanChange` value, "" when unknown); the kinds present."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT path FROM findings_finding WHERE id IN (SELECT id FROM ad_scope)"
        )
        paths = [row[0] for row in cursor.fetchall()]
    present = where.present(paths)
    scanned = set(where.scanned) if where.scanned is not None else None
    rows = [(path, gone_kind(path, present, scanned)) for path in paths]
    m.sql.run("DROP TABLE IF EXISTS ad_gone")
    m.sql.run("CREATE TEMPORARY TABLE ad_gone (path TEXT PRIMARY KEY, kind TEXT)")
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO ad_gone (path, kind) VALUES (%s, %s)", rows)
    return sorted({kind for _, kind in rows})


def gone_kind(path: str, present: set[str] | None, scanned: set[str] | None) -> str:
    """How a file whose findings a report no longer has left it: still scanned, so the code
    changed; not at the report's commit (the repository says so, or a whole-tree scan does
    not list it), so the code was removed; at the commit but not scanned, so it left the
    scanner's view. "" when nothing tells (no list of files, no repository)."""
    if scanned is not None and path in scanned:
        return ScanChange.CHANGED
    if present is not None:
        if path not in present:
            return ScanChange.REMOVED
        return ScanChange.UNSCANNED if scanned is not None else ScanChange.CHANGED
    return ScanChange.REMOVED if scanned is not None else ""


GONE_NOTES = {
    ScanChange.REMOVED: "fixed (code removed), its file is gone",
    ScanChange.CHANGED: "fixed (code changed)",
    ScanChange.UNSCANNED: "its file is no longer scanned",
}
