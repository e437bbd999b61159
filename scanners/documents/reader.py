"""Walking the section tree and deciding what each part of a document is.

Each heading gets one role, tried in this order: a labelled finding ("Fix #3: ..."), a
summary (left to ``unparsed``), a planning section, a health section or reading, a list of
modified files, a status section (its ✅ lines are the document's headline claims), a
numbered finding ("1. ..."), an unnumbered leaf under a heading that names a set of issues,
or a plain container whose own blocks are read for fields, checklists, tables and, under
an issue heading with no finding sub-headings, one-line or prose findings.

Every line the reader uses is recorded in ``accounted``; the rest becomes ``unparsed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scanners.documents import fields as F
from scanners.documents import planning as P
from scanners.documents import signals as S
from scanners.documents import words as W
from scanners.documents.findings import (
    Draft,
    Heading,
    clean_title,
    file_aside,
    heading_status,
    labelled_children,
    parse_heading,
    severity_aside,
)
from scanners.documents.items import (
    band_draft,
    holds_own_items,
    item_draft,
    prose_draft,
    sub_findings,
)
from scanners.documents.model import Fact, Phase, PhaseItem
from scanners.documents.statements import (
    is_band,
    marked_statement,
    reading_from,
    reading_tuple,
)
from scanners.documents.structure import Block, Item, Line, Section, content_lines, strip_marker
from scanners.documents.tables import is_ledger, read_table

# "C1: Statement::Return ...", "**SEC-4** — ...": a list item led by its own ID.
_ISSUE_REF_RE = re.compile(r"[A-Z]{1,6}-?\d{1,4}")


@dataclass(slots=True)
class Pending:
    """A finding draft with the sections whose headings give it severity and status."""

    draft: Draft
    context: list[Section]


@dataclass(slots=True)
class Reader:
    """Reads a section tree once, collecting drafts, phases, readings, claims and facts."""

    title: Section | None
    accounted: set[int] = field(default_factory=set)
    pending: list[Pending] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    readings: list[tuple[str, str, str, list[str], int]] = field(default_factory=list)
    claims: list[tuple[int, str]] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    files: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    when: dict[int, str] = field(default_factory=dict)  # reading index -> when it holds
    # "| src/codegen/mod.rs | C1: Return fix. C2: … |": a file and the finding IDs it names.
    file_refs: list[tuple[str, list[str]]] = field(default_factory=list)

    # --- bookkeeping --------------------------------------------------------------------

    def _size(self) -> int:
        return len(self.accounted)

    def path(self, sec: Section | None) -> list[str]:
        """Cleaned heading titles from the top down to ``sec``, without the document title."""
        out: list[str] = []
        node = sec
        while node is not None and node.heading is not None and node is not self.title:
            out.append(W.strip_decoration(node.title))
            node = node.parent
        return out[::-1]

    def context(self, sec: Section) -> list[Section]:
        return [s for s in [sec, *sec.ancestors()] if s.heading is not None]

    def claim(self, line: int, text: str) -> None:
        cleaned = W.strip_decoration(text).strip(" -–:")
        if cleaned:
            self.claims.append((line, cleaned))
            self.accounted.add(line)

    def head(self, sec: Section) -> None:
        """Account a heading's lines (two for a setext heading)."""
        if sec.heading is not None:
            self.accounted.update(sec.heading.numbers)

    def account(self, blocks: list[Block]) -> None:
        for block in blocks:
            self.accounted.update(block.numbers)

    # --- roles --------------------------------------------------------------------------

    def visit(self, sec: Section, parent_collection: bool) -> None:
        """Give ``sec`` its role and read it."""
        title = sec.title
        plain = W.strip_decoration(title)
        head = parse_heading(title)
        if head and (
            head.labelled
            # "### 1. ✅ Blake Threshold Test Bounds": numbered and marked, it is one finding
            # whatever words it holds ("Test" does not make it a checklist).
            or (head.ref and head.status and P.planning_kind(plain) not in ("phase", "sprint"))
        ):
            if head.labelled and labelled_children(sec) >= 2:
                # "### Fix #1" over "#### Sub-Issue 1A", "#### Sub-Issue 1B": the parts are
                # the findings; the fix's own lines (its commit) are their context.
                self.container(sec, collection=False)
            else:
                self.finding(sec, head)
            return
        if S.POSITIVE_HEADING_RE.match(plain):
            self.positive_section(sec)
            return
        if S.SUMMARY_HEADING_RE.search(plain) and not head:
            self.container(sec, collection=False)
            return
        band = is_band(title) and not (head and head.ref)
        if band and S.RISK_RE.search(plain) and not sec.children:
            self.risk_band(sec)
            return
        if band:
            self.container(sec, collection=parent_collection or P.is_collection(plain))
            return
        kind = P.planning_kind(plain)
        if kind == "checklist" and not sec.children and _tables_only(sec):
            kind = None  # "### Test Categories Performance" over a table: results, not a plan
        if kind:
            self.planning(sec, kind)
            return
        if S.HEALTH_HEADING_RE.search(plain):
            self.health_section(sec)
            return
        reading = reading_from(title, strong_only=True)
        if reading:
            self.reading(sec, reading)
            return
        if S.FILES_LABEL_RE.search(plain):
            self.files_section(sec)
            return
        if S.STATUS_LABEL_RE.search(plain):
            self.status_section(sec)
            return
        held = holds_own_items(sec) if head and not head.status and not sec.children else None
        if held:
            # "## 2. Remaining Risks" over "- Critical: …" items: a numbered section that
            # lists items with their own checkbox or severity is their container.
            self.container(sec, collection=held == "severity")
            return
        if head and (head.status or not S.is_verification(sec.parent)):
            self.finding(sec, head)  # "## Verification" over "### 1. Restart": steps, not issues
            return
        if (
            parent_collection
            and not sec.children
            and not any(map(is_ledger, sec.blocks))
            and not F.is_field_label(plain)  # "### Root Cause" is part of a finding, not one
        ):
            self.finding(sec, Heading(None, clean_title(title), False, heading_status(title)))
            return
        self.container(sec, collection=P.is_collection(plain))

    def container(self, sec: Section, *, collection: bool, status: bool = False) -> None:
        before = self._size()
        # One-line and prose findings only where no sub-heading could be holding them.
        # Under "Before the fixes" / "After" / "Target", "Area: value" lines are readings.
        moment = not collection and S.names_moment(sec.title)
        self.blocks(sec, collection=collection and not sec.children, status=status, health=moment)
        for child in sec.children:
            self.visit(child, parent_collection=collection)
        if self._size() > before:
            self.head(sec)

    def finding(self, sec: Section, head: Heading) -> None:
        draft = Draft(
            ref=head.ref,
            title=head.title,
            line=sec.line or 0,
            section=self.path(sec.parent),
            heading_status=head.status,
        )
        for sha in F.commits_in(sec.title):
            draft.commits.append(sha)
        for path in F.field_paths(file_aside(sec.title) or ""):
            draft.add_file(path, [])
        graded = severity_aside(sec.title)
        if graded:
            draft.field_severity = graded
        for block in sec.all_blocks()[1:]:
            draft.add_block(block)
        self.accounted.update(draft.used)
        self.head(sec)
        self.pending.append(Pending(draft, self.context(sec.parent) if sec.parent else []))

    def positive_section(self, sec: Section) -> None:
        """Each numbered sub-heading a check that passed: a reading of its area, healthy
        unless its heading or its own status line says otherwise."""
        for child in sec.children:
            head = parse_heading(child.title)
            if head is None or child.children:  # "### Infrastructure Services": a group
                self.visit(child, parent_collection=False)
                continue
            area = head.title
            notes = self._notes(child)
            fields = [n.split(":", 1)[1].strip() for n in notes if S.STATUS_LABEL_RE.match(n)]
            stated = fields[0] if fields else ""
            raw = stated or W.strip_decoration(child.title)
            status = S.health_status(stated or child.title) or "healthy"
            self.readings.append((area, status, raw, notes, child.line or 0))
            self.head(child)
        self.blocks(sec, collection=False, health=True)
        self.head(sec)

    def risk_band(self, sec: Section) -> None:
        """ "### Critical Risks 🔴" over "1. **Technical Debt**: 4 weeks remaining": each
        labelled item reads its area at that level of risk; the rest is read as usual."""
        level = S.severity_in(sec.title, heading=True)
        status = S.RISK_STATUS.get(level[0] if level else "", "unknown")
        for block in sec.blocks:
            for item in block.items if block.kind == "list" else []:
                parsed = F.parse_field(item.first.text)
                if parsed and parsed[1] and len(parsed[0].split()) <= 6:
                    self.readings.append((parsed[0], status, parsed[1], [], item.first.number))
                    self._use([item], None)
        self.container(sec, collection=False)

    def status_section(self, sec: Section) -> None:
        plain = W.strip_decoration(sec.title)
        if ":" in plain and plain.split(":", 1)[1].strip():
            self.claim(sec.line or 0, plain)
        self.container(sec, collection=False, status=True)

    def files_section(self, sec: Section) -> None:
        for block in sec.all_blocks():
            hit = False
            for ln in content_lines(block) if block.kind != "code" else []:
                found = F.paths_in(ln.text)
                for path, lines in found:
                    self.files.setdefault(path, []).extend(lines)
                if found:
                    self.accounted.add(ln.number)
                    hit = True
            if block.kind == "heading" and block is not sec.heading:
                continue
            if hit:
                self.head(sec)
        for child in sec.children:
            if any(n in self.accounted for b in child.all_blocks()[1:] for n in b.numbers):
                self.head(child)

    def health_section(self, sec: Section) -> None:
        before = self._size()
        if own := reading_from(sec.title, strong_only=True):  # "## Health Score: 78/100"
            self.readings.append((own[0], own[2], own[1], [], sec.line or 0))
        for child in sec.children:
            reading = reading_from(child.title, strong_only=False)
            if reading:
                self.reading(child, reading)
            else:
                self.visit(child, parent_collection=False)
        self.blocks(sec, collection=False, health=True)
        if self._size() > before:
            self.head(sec)

    def reading(self, sec: Section, reading: tuple[str, str, str]) -> None:
        notes = self._notes(sec)
        area, raw, status = reading
        self.readings.append((area, status, raw, notes, sec.line or 0))
        self.head(sec)

    def _notes(self, sec: Section) -> list[str]:
        """The text under a heading that is itself one item (a reading, a phase item), line
        by line and undecorated, code blocks whole; every block is accounted for."""
        notes: list[str] = []
        for block in sec.all_blocks()[1:]:
            if block.kind == "code":
                notes.append(block.code.rstrip("\n"))
            elif block.kind != "hr":
                notes.extend(
                    W.strip_decoration(strip_marker(ln.text)) for ln in content_lines(block)
                )
            self.account([block])
        return notes

    def planning(self, sec: Section, kind: str) -> None:
        before = self._size()
        name, window = W.split_window(W.strip_decoration(sec.title))
        phase = Phase(
            name=name,
            window=window,
            kind=kind,
            items=[],
            section=self.path(sec.parent),
            line=sec.line or 0,
        )
        self.phases.append(phase)
        self.blocks(sec, collection=False, phase=phase)
        for child in sec.children:
            head = parse_heading(child.title)
            # A numbered sub-heading is one item ("### 1. Event Loop Test") unless it holds
            # a list of its own, which makes it a sub-phase.
            if head and _ISSUE_REF_RE.fullmatch(head.ref or "") and not child.children:
                # "#### C2: Context Leak" in a plan is an open issue, not a task.
                self.finding(child, head)
            elif head and not any(b.kind == "list" for b in child.blocks):
                phase.items.append(self.heading_item(child, head))
            else:
                self.planning(child, P.planning_kind(child.title) or kind)
        if not phase.items:
            self.phases.remove(phase)
        if phase.items or self._size() > before:
            self.head(sec)

    def heading_item(self, sec: Section, head: Heading) -> PhaseItem:
        details = self._notes(sec)
        self.head(sec)
        done = {S.FIXED: True, S.IDENTIFIED: False}.get(head.status or "")
        return PhaseItem(
            text=head.title, done=done, finding_refs=[], details=details, line=sec.line or 0
        )

    # --- blocks directly under a heading ------------------------------------------------

    def blocks(
        self,
        sec: Section,
        *,
        collection: bool,
        status: bool = False,
        health: bool = False,
        phase: Phase | None = None,
    ) -> None:
        """Read the blocks directly under ``sec`` (not its sub-sections).

        A paragraph that is only a label ("**Next Steps:**", "**Git Status:**") decides
        what the list right after it is.
        """
        intro: tuple[str, str, Line] | None = None
        for block in sec.blocks:
            if block.kind == "hr":
                self.account([block])
            elif block.kind in ("paragraph", "quote"):
                intro = None
                lines = content_lines(block)
                for ln in lines:
                    intro = self.line(ln, sec, health=health) or intro
                if (
                    collection
                    and not any(ln.number in self.accounted for ln in lines)
                    and not F.parse_field(lines[0].text)
                ):
                    self.prose_finding(sec, lines)
            elif block.kind == "list":
                self.list_block(
                    block,
                    sec,
                    intro,
                    collection=collection,
                    status=status,
                    health=health,
                    phase=phase,
                )
                intro = None
            elif block.kind == "table":
                read_table(self, block, sec, phase=phase, health=health)
                intro = None

    def line(self, ln: Line, sec: Section, *, health: bool) -> tuple[str, str, Line] | None:
        """Read one paragraph line outside findings; return it when it introduces a list."""
        parsed = F.parse_field(ln.text)
        if not parsed:
            reading = reading_from(ln.text, strong_only=not health)
            if reading:
                self.readings.append((*reading_tuple(reading), [], ln.number))
                self.accounted.add(ln.number)
            return None
        label, value = parsed
        kind = F.label_kind(label)
        plan = P.planning_kind(label)
        if kind in ("date", "author", "repository") and value:
            self.facts.append(Fact(label=label, value=value, line=ln.number))
            self.accounted.add(ln.number)
        elif S.STATUS_LABEL_RE.search(label) and value:
            self.claim(ln.number, value)
            reading = reading_from(ln.text, strong_only=True)
            if reading:  # "Security Status: 🔴 CRITICAL" is also a reading of an area
                self.readings.append((*reading_tuple(reading), [], ln.number))
        elif plan and value:
            self.phases.append(
                Phase(
                    name=W.strip_decoration(label),
                    window=None,
                    kind=plan,
                    items=[PhaseItem(W.strip_decoration(value), None, [], [], ln.number)],
                    section=self.path(sec),
                    line=ln.number,
                )
            )
            self.accounted.add(ln.number)
        elif (kind == "files" or S.FILES_LABEL_RE.search(label)) and value:
            paths = F.field_paths(value)
            for path in paths:
                self.files.setdefault(path, [])
            if paths:
                self.accounted.add(ln.number)
        elif not value:
            if plan:
                return ("plan:" + plan, label, ln)
            if S.STATUS_LABEL_RE.search(label):
                return ("status", label, ln)
            if kind == "files" or S.FILES_LABEL_RE.search(label):
                return ("files", label, ln)
            if S.names_moment(label):
                return ("moment", label, ln)  # "**Before Fixes**:" over a list of states
            return ("other", label, ln)
        else:
            reading = reading_from(ln.text, strong_only=not health)
            if reading:
                self.readings.append((*reading_tuple(reading), [], ln.number))
                self.accounted.add(ln.number)
        return None

    def list_block(
        self,
        block: Block,
        sec: Section,
        intro: tuple[str, str, Line] | None,
        *,
        collection: bool,
        status: bool,
        health: bool,
        phase: Phase | None,
    ) -> None:
        """Read a list: as its introducing line (``intro``, from :meth:`line`) says, else as
        its section says (status, phase, issues, checklist), else item by item."""
        role = intro[0] if intro else None
        items = block.items
        if role == "moment":
            self._list_items(items, readings=True, health=True)
        elif intro is not None and role != "other":
            self._introduced_list(intro, items, sec)
        elif status:
            self._status_items(items, intro, every=False)
        elif role is not None or not self._section_list(
            block, sec, collection=collection, phase=phase
        ):
            self._list_items(items, readings=health or role is None, health=health)

    def _introduced_list(
        self, intro: tuple[str, str, Line], items: list[Item], sec: Section
    ) -> None:
        """A list under a line that says what it is: a plan, modified files or a status."""
        role = intro[0]
        if role.startswith("plan:"):
            self.phases.append(
                Phase(
                    name=W.strip_decoration(intro[1]),
                    window=None,
                    kind=role[5:],
                    items=[self.plan_item(i, sec) for i in items],
                    section=self.path(sec),
                    line=intro[2].number,
                )
            )
            self._use(items, intro)
        elif role == "files":
            for item in items:
                for path, lines in F.paths_in(" ".join(ln.text for ln in item.lines)):
                    self.files.setdefault(path, []).extend(lines)
                    self._use([item], intro)
        elif role == "status":
            self._status_items(items, intro, every=True)

    def _status_items(
        self, items: list[Item], intro: tuple[str, str, Line] | None, *, every: bool
    ) -> None:
        """Claims (unless ``every``, only items stating a status); "**Keys:** ✅ Set" a reading."""
        for item in items:
            text = item.first.text
            if reading := reading_from(text, strong_only=True):
                self.readings.append((*reading_tuple(reading), [], item.first.number))
                self._use([item], intro)
            if every or P.item_state(text):
                self.claim(item.first.number, P.item_text(text))
                self._use([item], intro)

    def _section_list(
        self, block: Block, sec: Section, *, collection: bool, phase: Phase | None
    ) -> bool:
        """A list with no introducing line, read as its section says: a phase's items, a
        set of issues, or a checklist. False when the section says none of these."""
        items = block.items
        if phase is not None:
            phase.items.extend(self.plan_item(i, sec) for i in items)
            self._use(items, None)
            if is_band(sec.title) and not re.search(r"\d", sec.title):  # not "Week 1: Critical"
                # "### High Priority" in a plan: issues of that grade, not only tasks
                for item in items:
                    self.add_draft(band_draft(item, sec.title, self.path(sec)), sec)
        elif collection:
            for item in items:
                self.item_finding(sec, item)
        elif any(i.checked is not None for i in items):
            plain = W.strip_decoration(sec.title) or "Checklist"
            name, window = W.split_window(plain)
            self.phases.append(
                Phase(
                    name=name,
                    window=window,
                    kind="checklist",
                    items=[self.plan_item(i, sec) for i in items],
                    section=self.path(sec.parent),
                    line=block.start + 1,
                )
            )
            self._use(items, None)
        else:
            return False
        return True

    def _list_items(self, items: list[Item], *, readings: bool, health: bool) -> None:
        """Item by item: health readings when ``readings`` (strong ones only unless
        ``health``), then status fields and modified files."""
        for item in items:
            reading = reading_from(item.first.text, strong_only=not health) if readings else None
            if reading is None and health:
                reading = marked_statement(item.first.text)
            if reading:
                self.readings.append(
                    (
                        *reading_tuple(reading),
                        [strip_marker(ln.text) for ln in item.rest],
                        item.first.number,
                    )
                )
                self._use([item], None)
                continue
            parsed = F.parse_field(item.first.text)
            if parsed and S.STATUS_LABEL_RE.search(parsed[0]) and parsed[1]:
                self.claim(item.first.number, parsed[1])
            elif parsed and F.label_kind(parsed[0]) == "files":
                for path in F.field_paths(parsed[1]):
                    self.files.setdefault(path, [])
                    self.accounted.add(item.first.number)

    def _use(self, items: list[Item], intro: tuple[str, str, Line] | None) -> None:
        for item in items:
            self.accounted.update(ln.number for ln in item.lines)
        if intro:
            self.accounted.add(intro[2].number)

    # --- findings that are not headings -------------------------------------------------

    def item_finding(self, sec: Section, item: Item) -> None:
        """A one-line finding under a heading that names issues (:func:`item_draft`)."""
        draft = item_draft(item, sec, self.path(sec))
        if draft is not None:
            self.add_draft(draft, sec)

    def plan_item(self, item: Item, sec: Section) -> PhaseItem:
        """A plan item; its sub-items led by an issue ID are findings (:func:`sub_findings`)."""
        for draft in sub_findings(item, self.path(sec), self.accounted):
            self.add_draft(draft, sec)
        return P.make_item(item)

    def prose_finding(self, sec: Section, lines: list[Line]) -> None:
        """A paragraph under an issue heading that names a place (:func:`prose_draft`)."""
        draft = prose_draft(lines, self.path(sec))
        if draft is not None:
            self.add_draft(draft, sec)

    def add_reading(self, area: str, status: str, raw: str, line: int, when: str) -> None:
        self.when[len(self.readings)] = when
        self.readings.append((area, status, raw, [], line))

    def add_draft(self, draft: Draft, sec: Section) -> None:
        self.accounted.update(draft.used)
        self.pending.append(Pending(draft, self.context(sec)))


def _tables_only(sec: Section) -> bool:
    kinds = {b.kind for b in sec.blocks}
    return "table" in kinds and not kinds & {"list", "code"}
