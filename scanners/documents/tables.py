"""Tables outside findings: ledgers of findings, health tables, plan tables; and merging
a summary row with the detail section that restates it.

Cells are read by their header (``statements.column_kind``): a ref (ID, #), a title, a
severity or priority, a status or result, files, lines and commits. A table is a ledger of
findings when it has a title column, or an ID column, and at least one column that says
something checkable about each row. A row whose cell count differs from the header is
kept, with a note saying so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from scanners.documents import fields as F
from scanners.documents import planning as P
from scanners.documents import signals as S
from scanners.documents import vocabulary as V
from scanners.documents import words as W
from scanners.documents.findings import Draft, clean_title
from scanners.documents.model import Note, PhaseItem
from scanners.documents.statements import column_kind, risk_status

if TYPE_CHECKING:
    from scanners.documents.model import Phase
    from scanners.documents.structure import Block, Section


class Reader(Protocol):
    """What a table needs from the reader walking the document (``reader.Reader``)."""

    readings: list[tuple[str, str, str, list[str], int]]
    file_refs: list[tuple[str, list[str]]]

    def add_reading(self, area: str, status: str, raw: str, line: int, when: str) -> None: ...

    def account(self, blocks: list[Block]) -> None: ...
    def path(self, sec: Section | None) -> list[str]: ...
    def add_draft(self, draft: Draft, sec: Section) -> None: ...


_ID_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")
_ID_ONLY_RE = re.compile(r"#?[A-Z]{1,6}-?\d{1,4}")
_CURRENT_RE = re.compile(
    r"current|now|actual|today|aktuell|attuale|atual|actual|текущ|现在|当前|現在|현재", re.I
)
_CHECKABLE = {"severity", "status", "files", "lines", "commit"}
_REF_NUM_RE = re.compile(r"[A-Z]{0,6}-?\d{1,4}(?:\.\d+)*[a-z]?", re.I)


def read_table(
    reader: Reader, block: Block, sec: Section, *, phase: Phase | None, health: bool
) -> None:
    """Tables of findings, of health areas, or (in a plan) of items; else left alone."""
    if not block.rows:
        return
    header = [W.strip_decoration(h).lower() for h in block.rows[0][1]]
    kinds = [column_kind(h) for h in header]
    body = block.rows[1:]
    if _file_impact(reader, block, kinds):
        return
    if phase is not None:
        # A plan's own ledger (a task or issue column and a status column) also names
        # findings: each row is a phase item and a finding, linked later by title.
        title_col = _title_column(kinds, header, body)
        if title_col is not None and "status" in kinds:
            ref_col = kinds.index("ref") if "ref" in kinds else None
            for line, cells in body:
                if ref_col is not None and not _ID_TOKEN_RE.search(_cell(cells, ref_col)):
                    continue  # a row with no ID in a plan's ledger is a task, not a finding
                draft = _row_draft(reader, block, sec, kinds, title_col, line, cells)
                if draft is not None:
                    reader.add_draft(draft, sec)
        state_col = kinds.index("status") if "status" in kinds else None
        for line, cells in body:
            if not cells:
                continue
            phase.items.append(
                PhaseItem(
                    " | ".join(W.strip_decoration(c) for c in cells),
                    _row_done(cells, state_col),
                    [],
                    [],
                    line,
                )
            )
        reader.account([block])
        return
    if "area" in kinds and "status" in kinds and not {"title", "ref", "severity"} & set(kinds):
        _health_rows(reader, block, kinds)
        return
    title_col = _title_column(kinds, header, body)
    if not _CHECKABLE & set(kinds) or (title_col is None and "ref" not in kinds):
        if not _rows_are_events(header, body):
            _status_table(reader, block, header)
        return
    for line, cells in body:
        draft = _row_draft(reader, block, sec, kinds, title_col, line, cells)
        if draft is not None:
            reader.add_draft(draft, sec)
    reader.account([block])


def is_ledger(block: Block) -> bool:
    """Whether a block is a table of findings: a title or ID column and a checkable one."""
    if block.kind != "table" or not block.rows:
        return False
    kinds = [column_kind(W.strip_decoration(h).lower()) for h in block.rows[0][1]]
    if "area" in kinds and "status" in kinds and not {"title", "ref", "severity"} & set(kinds):
        return False
    return bool(_CHECKABLE & set(kinds)) and (_title_column(kinds) is not None or "ref" in kinds)


# A problem column that explains why ("Root Cause") names a finding less well than one that
# says what is wrong ("Actual", "Description"), so it is the title only when nothing else is.
_CAUSE_HEADER_RE = re.compile(
    r"\b(?:root\s+)?causes?\b|\bcontext\b|\bdetails\b|ursache|cause racine|causa|причина|原因|원인",
    re.I,
)


def _title_column(
    kinds: list[str | None],
    header: list[str] | None = None,
    body: list[tuple[int, list[str]]] | None = None,
) -> int | None:
    """The column that names each row: a title column unless its cells are only numbers
    ("Task" holding 1.1, 1.2), else the first problem column that says what is wrong."""
    titles = [i for i, kind in enumerate(kinds) if kind == "title"]
    if body:
        titles = [i for i in titles if not _numbers_only(body, i)]
    if titles:
        return titles[0]
    problems = [i for i, kind in enumerate(kinds) if kind == "problem"]
    if header is not None:
        stated = [i for i in problems if i < len(header) and not _CAUSE_HEADER_RE.search(header[i])]
        problems = stated or problems
    return problems[0] if problems else None


def _numbers_only(body: list[tuple[int, list[str]]], col: int) -> bool:
    cells = [W.strip_decoration(cells[col]) for _, cells in body if col < len(cells)]
    cells = [c for c in cells if c]
    return bool(cells) and all(_REF_NUM_RE.fullmatch(c.strip("#[] ")) for c in cells)


def _health_rows(reader: Reader, block: Block, kinds: list[str | None]) -> None:
    a, s = kinds.index("area"), kinds.index("status")
    for line, cells in block.rows[1:]:
        if max(a, s) < len(cells):
            status = S.health_status(cells[s]) or "unknown"
            reader.readings.append(
                (W.strip_decoration(cells[a]), status, W.strip_decoration(cells[s]), [], line)
            )
    reader.account([block])


_STATUS_HEADER_RE = re.compile(
    r"status|state|result|health|verdict|outcome|" + V.alternation(V.SECTION["status"]), re.I
)
_LED_RE = re.compile(r"^\W*(?:✅|❌|⚠|🔴|🟢|🟡|🟠|✔|✗|⏳|🚧|❓)")


def _when_column(header: str) -> str | None:
    if S.when_of(header, "") != "current":
        return S.when_of(header, "")
    return "current" if _CURRENT_RE.search(header) or S.names_moment(header) else None


def _status_table(reader: Reader, block: Block, header: list[str]) -> None:
    """A table of states: one health reading per row (area in the first column), or one per
    Before / Current / Target column, each with when it holds."""
    body = [(line, cells) for line, cells in block.rows[1:] if cells and cells[0].strip()]
    if len(header) < 2 or not body:
        return
    whens = {i: w for i, h in enumerate(header) if i and (w := _when_column(h))}
    risks = [i for i, h in enumerate(header) if i and S.RISK_RE.fullmatch(h.strip(" *:"))]
    if len(whens) < 2:
        whens = {}
        # "| City | State | Status |": a status column whose cells lead with marks wins.
        named = [i for i, h in enumerate(header) if i and _STATUS_HEADER_RE.search(h)]
        named = named or risks  # "| Scenario | Behavior | Risk |": each row's level of risk
        led_named = [i for i in named if _mostly_led(body, i)]
        col: int | None = (led_named or named)[0] if named else None
        if col is None:
            led = [i for i in range(1, len(header)) if _mostly_led(body, i)]
            col = led[0] if led else None
        if col is None:
            _metric_rows(reader, block, header, body)
            return
        whens = {col: ""}
    hypothetical = "projected" if _SCENARIO_RE.fullmatch(header[0]) else ""
    for line, cells in body:
        area = W.strip_decoration(cells[0]).strip("* ")
        for i, when in whens.items():
            if i < len(cells) and cells[i].strip() and area:
                raw = W.strip_decoration(cells[i])
                status = S.health_status(cells[i]) or (
                    risk_status(raw, none=True) if i in risks else None
                )
                status = status or "unknown"
                when = when or hypothetical
                reader.add_reading(area, status, raw, line, when or S.when_of(area, raw))
    reader.account([block])


def _metric_rows(
    reader: Reader, block: Block, header: list[str], body: list[tuple[int, list[str]]]
) -> None:
    """ "| Metric | 20 Users | 100 Users |": each row measures its metric in every column,
    one reading of the metric whose words are all of them ("20 users: < 1s; …")."""
    if not _METRIC_RE.fullmatch(header[0].strip(" *:")):
        return
    names = [W.strip_decoration(h) for h in block.rows[0][1]]  # as written, not folded
    for line, cells in body:
        values = [
            f"{h}: {W.strip_decoration(c)}"
            for h, c in zip(names[1:], cells[1:], strict=False)
            if c.strip()
        ]
        area = W.strip_decoration(cells[0]).strip("* ")
        if area and values:
            raw = "; ".join(values)
            reader.add_reading(area, S.health_status(raw) or "unknown", raw, line, "")
    reader.account([block])


_METRIC_RE = V.compiled(V.SECTION["metric"])
# "| Scenario | Behaviour | Risk |": rows of what would happen, not of what is.
_SCENARIO_RE = V.compiled(V.SECTION["scenario"])
_ROW_KEY_RE = {kind: V.compiled(words) for kind, words in V.ROW_KEY.items()}
_CLOCK_RE = re.compile(
    r"^\W*(?:\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?|\d{4}-\d{2}-\d{2}(?:[ T]\S*)?)\W*$", re.I
)


def _rows_are_events(header: list[str], body: list[tuple[int, list[str]]]) -> bool:
    """A timeline or a matrix of single test cases: its rows are moments or checks, not
    areas whose state the document reads. Known by the first column's header being only a
    time or a test-case word, or by its cells being mostly clock times or dates."""
    first = header[0].strip(" *:") if header else ""
    if any(rx.fullmatch(first) for rx in _ROW_KEY_RE.values()):
        return True
    cells = [W.strip_decoration(c[0]) for _, c in body if c and c[0].strip()]
    return bool(cells) and sum(bool(_CLOCK_RE.match(c)) for c in cells) * 2 > len(cells)


def _mostly_led(body: list[tuple[int, list[str]]], col: int) -> bool:
    cells = [c[col] for _, c in body if col < len(c)]
    return bool(cells) and sum(bool(_LED_RE.match(c)) for c in cells) * 2 > len(cells)


def _row_draft(
    reader: Reader,
    block: Block,
    sec: Section,
    kinds: list[str | None],
    title_col: int | None,
    line: int,
    cells: list[str],
) -> Draft | None:
    """One ledger row as a finding draft; None for an empty or separator row."""
    header = block.rows[0][1]
    ref_col = kinds.index("ref") if "ref" in kinds else None
    ref = cells[ref_col].strip() if ref_col is not None and ref_col < len(cells) else ""
    ref = W.strip_decoration(ref)
    ref = ref if re.search(r"\w", ref) else ""
    if title_col is not None and title_col < len(cells) and cells[title_col].strip():
        title = clean_title(cells[title_col])
    else:
        title = _fallback_title(cells, kinds, ref_col)
    if not ref and _ID_ONLY_RE.fullmatch(title):
        # "| C4 | 2h | 2h | ✅ |": a title cell holding only an ID is the row's ID.
        ref, title = title, _fallback_title(cells, kinds, title_col) or title
    if not title or not (ref or title_col is not None) or not _REF_OK(ref, title_col):
        return None
    draft = Draft(
        ref=ref or None, title=title, line=line, section=reader.path(sec), backticks_anywhere=True
    )
    draft.origin = "table"
    for i, cell in enumerate(cells):
        if i in (title_col, ref_col) or i >= len(header) or not cell.strip():
            continue
        kind = kinds[i] if kinds[i] not in ("title", "area") else None
        if kind is None and S.status_in(cell) and "status" not in kinds:
            kind = "status"
        draft.label(W.strip_decoration(header[i]), kind, cell)
        if draft.current.startswith("note:"):
            draft.current = "problem"
    if len(cells) != len(header):
        draft.notes.append(
            Note(
                label="table",
                text=f"row has {len(cells)} cells, its header {len(header)}; kept as written",
            )
        )
    draft.used.add(line)
    return draft


def _REF_OK(ref: str, title_col: int | None) -> bool:  # noqa: N802
    """Without a title column a row needs an ID that looks like one ("CR-01", "7")."""
    return title_col is not None or bool(_REF_NUM_RE.fullmatch(ref.strip("#[] ")))


def _fallback_title(cells: list[str], kinds: list[str | None], ref_col: int | None) -> str:
    """A ledger without a title column: its longest free-text cell, else its first file."""
    free = [
        W.strip_decoration(c)
        for i, c in enumerate(cells)
        if i != ref_col and (i >= len(kinds) or kinds[i] in (None, "fix", "impact", "status"))
    ]
    # A status cell is a title only where it says more than its status ("Deferred — why").
    free = [c for c in free if not S.status_in(c) or re.search(r"\s[—–-]\s", c)]
    free = [c for c in free if len(c) > 3]
    if free:
        text = max(free, key=len)
        # "Deferred — stale limit; no impact": the status word is not part of the title.
        text = re.split(r"\s+[—–-]\s+", text, maxsplit=1)[-1]
        return clean_title(text.split(";")[0])
    files = [c for i, c in enumerate(cells) if i < len(kinds) and kinds[i] == "files"]
    return clean_title(files[0]) if files else ""


# --- a summary row and the detail section that restates it ---------------------------------


def canonical_ref(ref: str | None) -> str | None:
    """``"Fix #3"``, ``"#3"``, ``"3."`` -> ``"3"``; ``"CR-01"``, ``"BUG-N03-001"`` as written."""
    if not ref:
        return None
    ids = [t for t in _ID_TOKEN_RE.findall(ref) if any(ch.isdigit() for ch in t)]
    if not ids:
        return None
    last = ids[-1].upper()
    return (last.lstrip("0") or "0") if last.isdigit() else last


def _similar(a: str, b: str) -> bool:
    wa, wb = W.significant_words(a), W.significant_words(b)
    if not wa or not wb:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= 0.6


_RANK = {"heading": 0, "prose": 0, "item": 1, "table": 2, "merged": 9}


def merge_restated(drafts: list[Draft]) -> list[Draft]:
    """Fold each table row, and each list item, into the finding that restates it.

    A row or item joins a finding read from a fuller form (a heading over a list item
    over a table row) with the same ID, with a similar title where that ID is used more
    than once. A row without an ID joins the one finding whose title shares most of its
    significant words; a row that repeats an earlier row's ID joins that row. The fuller
    finding keeps its title and text; the other adds the severity, status, files, lines
    and commits the fuller one does not state.
    """
    by_ref: dict[str, list[Draft]] = {}
    for d in drafts:
        key = canonical_ref(d.ref)
        if key:
            by_ref.setdefault(key, []).append(d)
    first_rows: dict[tuple[str, str | None], Draft] = {}  # by :func:`_row_key`
    for row in [d for d in drafts if _RANK.get(d.origin, 0) > 0]:
        rank = _RANK.get(row.origin, 0)
        key = canonical_ref(row.ref)
        if row.origin == "item" and (not key or key.replace(".", "").isdigit()):
            continue  # a list's own numbering is a position, not an ID
        if row.origin == "merged":
            continue
        fuller = [d for d in drafts if _RANK.get(d.origin, 0) < rank]
        same = [d for d in by_ref.get(key, []) if _RANK.get(d.origin, 0) < rank] if key else []
        if len(same) > 1:
            # Numbers repeat across severity bands: the one in the row's band, by title or
            # else by band ("| 7 | JSON_DECODE … |" under High is "7. JSON no check" under High).
            similar = [d for d in same if _similar(d.title, row.title)]
            same = similar or [d for d in same if _band(d) == _band(row) is not None]
        if (
            not same
            and row.origin == "table"
            and not (key and key in by_ref and len(by_ref[key]) > 1)
        ):
            same = [d for d in fuller if _similar(d.title, row.title)]
        target = same[0] if len(same) == 1 else None
        if target is None and key and row.origin == "table":
            target = first_rows.get(_row_key(key, row))
        if target is None:
            if key and row.origin == "table":
                first_rows[_row_key(key, row)] = row
            continue
        if target.origin == "item" and row.origin == "table" and len(target.used) == 1:
            # A bare one-line item ("26. ✅ Retention race → Wrong file delete") restates the
            # row more tersely than the row names it: the row keeps its name.
            target, row = row, target
            if key:
                first_rows.setdefault(_row_key(key, target), target)  # later rows join it
        absorb(target, row)
        row.origin = "merged"
    return [d for d in drafts if d.origin != "merged"]


def _row_key(key: str, row: Draft) -> tuple[str, str | None]:
    """A plain number repeats across severity bands ("7" under High and under Low); an ID
    with letters ("C5") names one finding wherever it stands."""
    return key, _band(row) if key.isdigit() else None


def _band(draft: Draft) -> str | None:
    """The severity the nearest heading above a draft states ("HIGH (17) 88%"), if any."""
    for title in reversed(draft.section):
        level = S.severity_in(title, heading=True)
        if level:
            return level[0]
    return None


def absorb(detail: Draft, row: Draft) -> None:
    """What a summary row adds to the detail finding it restates."""
    detail.field_severity = detail.field_severity or row.field_severity
    if row.field_status and not (detail.field_status or detail.heading_status):
        detail.field_status, detail.field_status_source = row.field_status, "table"
    if row.loose and len(row.files) == 1:
        row.files[next(iter(row.files))].extend(row.loose)
    elif row.loose:
        detail.loose.extend(row.loose)
    for path, ranges in row.files.items():
        detail.files.setdefault(path, []).extend(r for r in ranges if r not in detail.files[path])
    for sha in row.commits:
        if sha not in detail.commits:
            detail.commits.append(sha)
    for short in [p for p in detail.files if any(q.endswith("/" + p) for q in detail.files)]:
        # "tax.py" in the text and "src/billing/tax.py" in the row are one file.
        full = next(q for q in detail.files if q.endswith("/" + short))
        detail.files[full].extend(detail.files.pop(short))
    if not detail.ref:
        detail.ref = row.ref
    detail.notes.extend(row.notes)
    detail.used.update(row.used)
    detail.merged_lines.append(row.line)


def _cell(cells: list[str], col: int) -> str:
    return W.strip_decoration(cells[col]) if col < len(cells) else ""


def _row_done(cells: list[str], state_col: int | None) -> bool | None:
    """A plan row's done state: its Status cell's word or mark, else its first cell's mark."""
    if state_col is None or state_col >= len(cells):
        return P.item_done(cells[0])
    state = P.item_done(cells[state_col])
    if state is None:
        status = S.status_in(cells[state_col])
        state = (
            True if status == S.FIXED else False if status in (S.PARTIAL, S.IDENTIFIED) else None
        )
    return state


_CITED_ID_RE = re.compile(r"(?<![\w-])[A-Z]{1,6}-?\d{1,4}(?![\w-])")


def _file_impact(reader: Reader, block: Block, kinds: list[str | None]) -> bool:
    """A table keyed by file whose other cells cite finding IDs ("| `src/app.rs` | C1: Return
    fix. C3+C5: … |"): each cited finding gets the file. Only IDs the document's findings
    carry are used (in ``extract``); the table names no finding of its own."""
    if not kinds or kinds[0] != "files" or {"status", "severity", "title", "ref"} & set(kinds):
        return False
    rows = []
    for _, cells in block.rows[1:]:
        paths = F.field_paths(cells[0]) if cells else []
        refs = [ref for cell in cells[1:] for ref in _CITED_ID_RE.findall(cell)]
        if paths and refs:
            rows.append((paths[0], refs))
    if not rows:
        return False
    reader.file_refs.extend(rows)
    reader.account([block])
    return True
