"""Assembling an ``Extraction``: decode, find the title and preamble, read, then resolve.

Resolution happens once everything is read, because some facts are only known at the end:
a commit named in a section's status list ("Committed and deployed (e4121ef)") belongs to
the claimed fixes of that section; planning items link to findings by what they mention;
and whatever no role claimed becomes ``unparsed``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from scanners.documents import fields as F
from scanners.documents import planning as P
from scanners.documents import signals as S
from scanners.documents import words as W
from scanners.documents.findings import parse_heading
from scanners.documents.model import (
    DocumentFacts,
    Extraction,
    Fact,
    FileRef,
    Finding,
    HealthReading,
    Unparsed,
)
from scanners.documents.reader import Reader
from scanners.documents.statements import reading_from, score_in
from scanners.documents.structure import Block, Section, build_sections, content_lines, parse_blocks
from scanners.documents.tables import merge_restated
from scanners.documents.text import decode


def extract(data: bytes, *, source: str) -> Extraction:
    """Read a remediation document. Raises ``ParseError`` for input that is not one.

    Pure: no database, no files, no network. Never raises anything but ``ParseError``
    for bad bytes; text it cannot place is returned in ``unparsed``.
    """
    decoded = decode(data, source=source)
    lines, blocks = parse_blocks(decoded.text)
    root = build_sections(blocks)
    title = _title_section(root, blocks)
    reader = Reader(title=title)
    reader.account([b for b in blocks if b.kind == "hr"])

    facts = _preamble(reader, root, title)
    for sec in _top_sections(root, title):
        reader.visit(sec, parent_collection=False)

    code_lines = {n for b in blocks if b.kind == "code" for n in b.numbers}
    doc_commits = _commits(lines, code_lines)
    document = DocumentFacts(
        title=W.strip_decoration(title.title) if title else None,
        date=None,
        date_raw=None,
        author=None,
        repository=None,
        status=None,
        commits=doc_commits,
        headline_claims=[],
        files=[F.file_ref(p, r) for p, r in reader.files.items()],
        facts=[],
        repaired=decoded.repaired,
        encoding_repair=decoded.encoding_repair,
    )
    _fill_facts(document, facts + reader.facts, reader.claims)

    findings = _findings(reader, document, lines, code_lines, title, _header_commit(facts))
    items = [item for phase in reader.phases for item in phase.items]
    P.link(items, findings)
    phases = sorted(reader.phases, key=lambda p: p.line)
    marks = _when_marks(blocks)
    order = sorted(range(len(reader.readings)), key=lambda i: reader.readings[i][4])
    health = [
        HealthReading(
            area=a,
            status=s,
            raw=r,
            date=document.date,
            notes=n,
            line=line,
            when=reader.when.get(i) or _when(a, r, line, marks),
            score=score_in(r),
        )
        for i in order
        for a, s, r, n, line in [reader.readings[i]]
    ]
    unparsed = _unparsed(lines, reader.accounted, root, reader)
    return Extraction(
        source=source,
        document=document,
        findings=findings,
        phases=phases,
        health=health,
        unparsed=unparsed,
        accounted=frozenset(reader.accounted),
    )


def _when_marks(blocks: list[Block]) -> list[tuple[int, str]]:
    """Headings and label lines ("### Before Fixes", "**After:**") with when they speak of."""
    marks: list[tuple[int, str]] = []
    for block in blocks:
        if block.kind == "heading":
            text = block.text
        elif block.kind == "paragraph" and len(block.numbers) == 1:
            parsed = F.parse_field(block.lines[0].text) if block.lines else None
            if not parsed or parsed[1]:
                continue
            text = parsed[0]
        else:
            continue
        marks.append((block.start + 1, S.when_of(text, "")))
    return marks


def _when(area: str, raw: str, line: int, marks: list[tuple[int, str]]) -> str:
    """A reading's own words decide when it holds, else the nearest heading or label above."""
    own = S.when_of(area, raw)
    if own != "current":
        return own
    numbers = [n for n, _ in marks]
    at = bisect_right(numbers, line) - 1
    return marks[at][1] if at >= 0 else "current"


def _title_section(root: Section, blocks: list[Block]) -> Section | None:
    """The first heading is the title when no heading outranks it and it is not a finding."""
    headings = [b for b in blocks if b.kind == "heading"]
    if not headings or not root.children:
        return None
    first = headings[0]
    top = min(h.level for h in headings)
    if first.level != top:
        return None
    peers = [h for h in headings if h.level == top]
    if len(peers) > 1 and parse_heading(first.text):
        return None
    return root.children[0]


def _top_sections(root: Section, title: Section | None) -> list[Section]:
    if title is None:
        return list(root.children)
    return list(title.children) + [s for s in root.children if s is not title]


def _preamble(reader: Reader, root: Section, title: Section | None) -> list[Fact]:
    """Fields before the first section: date, author, repository, status, commit, others."""
    facts: list[Fact] = []
    if title and title.heading:
        reader.head(title)
    blocks = list(root.blocks) + (list(title.blocks) if title else [])
    rest: list[Block] = []
    for block in blocks:
        if block.kind == "table" and _fact_table(block):
            for line, (label, value) in block.rows[1:]:
                facts.append(Fact(label=W.strip_decoration(label), value=value, line=line))
            reader.account([block])
            continue
        if block.kind not in ("paragraph", "quote"):
            rest.append(block)
            continue
        used = False
        for ln in content_lines(block):
            parsed = F.parse_field(ln.text)
            if parsed and parsed[1]:
                facts.append(Fact(label=parsed[0], value=parsed[1], line=ln.number))
                reader.accounted.add(ln.number)
                used = True
        if not used:
            rest.append(block)
    for fact in facts:
        # "Score: 62/100", "VERDICT: ❌ NOT READY": a preamble field can be a reading too.
        reading = reading_from(f"{fact.label}: {fact.value}", strong_only=True)
        if reading:
            reader.readings.append((reading[0], reading[2], reading[1], [], fact.line))
    holder = Section(heading=None, level=0, title="", blocks=rest)
    holder.parent = None
    reader.blocks(holder, collection=False)
    return facts


def _fact_table(block: Block) -> bool:
    """A two-column table of labels and values ("| Date | 2025-03-14 |")."""
    rows = block.rows
    return (
        bool(rows)
        and all(len(cells) == 2 for _, cells in rows)
        and any(F.label_kind(cells[0]) for _, cells in rows[1:])
    )


def _fill_facts(doc: DocumentFacts, facts: list[Fact], claims: list[tuple[int, str]]) -> None:
    """Dedicated keys take the first matching field; the other fields stay as facts."""
    headline: list[tuple[int, str]] = list(claims)
    for fact in sorted(facts, key=lambda f: f.line):
        kind = F.label_kind(fact.label)
        value = W.strip_decoration(fact.value)
        if kind == "date" and doc.date_raw is None:
            doc.date_raw = value
            doc.date = W.parse_date(value)
        elif kind == "author" and doc.author is None:
            doc.author = value
        elif kind == "repository" and doc.repository is None:
            doc.repository = value
        elif kind == "status" and doc.status is None:
            doc.status = value
            headline.append((fact.line, value))
        else:
            if F.label_kind(fact.label) != "date" and _is_status_label(fact.label):
                headline.append((fact.line, value))
            doc.facts.append(Fact(label=fact.label, value=value, line=fact.line))
    seen: set[str] = set()
    for _, text in sorted(headline):
        if text and text not in seen:
            seen.add(text)
            doc.headline_claims.append(text)


def _is_status_label(label: str) -> bool:
    return bool(S.STATUS_LABEL_RE.search(label))


def _commits(lines: list[str], code_lines: set[int]) -> list[str]:
    out: list[str] = []
    for number, text in enumerate(lines, start=1):
        if number in code_lines:
            continue
        for sha in F.commits_in(text):
            if sha not in out:
                out.append(sha)
    return out


def _findings(
    reader: Reader,
    doc: DocumentFacts,
    lines: list[str],
    code_lines: set[int],
    title: Section | None,
    header_commit: list[str],
) -> list[Finding]:
    finding_lines = {n for p in reader.pending for n in p.draft.used} | {
        p.draft.line for p in reader.pending
    }
    loose = {
        n: F.commits_in(text)
        for n, text in enumerate(lines, start=1)
        if n not in code_lines and n not in finding_lines and F.commits_in(text)
    }
    doc_level = sorted({sha for shas in loose.values() for sha in shas})
    if len(doc_level) != 1 and header_commit:
        doc_level = header_commit
    default_file = _default_file(doc.title)
    doc_status = S.status_in(doc.status) if doc.status else None
    out: list[Finding] = []
    spans: dict[int, tuple[int, int]] = {}
    kept = {id(d) for d in merge_restated([p.draft for p in reader.pending])}
    ordered = sorted((p for p in reader.pending if id(p.draft) in kept), key=lambda p: p.draft.line)
    for index, pending in enumerate(ordered, start=1):
        section_severity = next(
            (sev for s in pending.context if (sev := S.severity_in(s.title, heading=True))),
            None,
        )
        section_status = next((st for s in pending.context if (st := S.status_in(s.title))), None)
        finding = pending.draft.build(
            key=f"F{index}",
            section_severity=section_severity,
            section_status=section_status,
            document_status=doc_status,
            default_file=default_file,
        )
        if finding.status in (S.FIXED, S.PARTIAL) and _names_no_fix_commit(finding):
            inherited = _inherited_commits(pending.context, loose, doc_level, title, spans)
            finding.commits += [sha for sha in inherited if sha not in finding.commits]
        out.append(finding)
    _add_cited_files(out, reader.file_refs)
    return out


def _names_no_fix_commit(finding: Finding) -> bool:
    """Whether the finding names no commit, or only the ones that caused its bug ("Root
    Cause: the refactoring in f5e249c8"): commits said in its problem or impact, not its fix.
    Such a finding still takes the commit its section names for the fix."""
    said = f"{finding.problem}\n{finding.impact}".lower()
    fix = finding.fix.lower()
    return all(sha.lower() in said and sha.lower() not in fix for sha in finding.commits)


def _header_commit(facts: list[Fact]) -> list[str]:
    """The one commit a "**Commit:** `2ed2dd4`" field before the first section names: the
    commit the document reports, whatever history it lists further down. A qualified label
    ("Latest Commit", "Base commit") names the branch's state, not the fixes' commit."""
    shas = [
        sha
        for fact in facts
        if F.is_field_label(fact.label) and F.label_kind(fact.label) == "commit"
        for sha in F.commits_in(fact.value)
    ]
    return shas if len(shas) == 1 else []


def _add_cited_files(findings: list[Finding], file_refs: list[tuple[str, list[str]]]) -> None:
    """Give each finding the files a file-keyed table cites it under ("C1: Return fix")."""
    by_ref: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.ref:
            by_ref.setdefault(finding.ref.upper(), []).append(finding)
    for path, refs in file_refs:
        for ref in dict.fromkeys(r.upper() for r in refs):
            for finding in by_ref.get(ref, []):
                if not any(_same_file(f.path, path) for f in finding.files):
                    finding.files.append(FileRef(path))
    for group in by_ref.values():
        for finding in group:
            # Lines the finding gave without a file ("~L475") belong to its one file.
            loose = [f for f in finding.files if f.path is None]
            named = [f for f in finding.files if f.path is not None]
            if len(loose) == 1 and len(named) == 1:
                named[0].lines.extend(r for r in loose[0].lines if r not in named[0].lines)
                named[0].approximate.extend(
                    r for r in loose[0].approximate if r not in named[0].approximate
                )
                finding.files = named


def _same_file(a: str | None, b: str) -> bool:
    a = (a or "").lower()
    b = b.lower()
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def _inherited_commits(
    context: list[Section],
    loose: dict[int, list[str]],
    doc_level: list[str],
    title: Section | None,
    spans: dict[int, tuple[int, int]],
) -> list[str]:
    """Commits named outside findings in the nearest enclosing section that names any.

    At document level a commit is only inherited when the document names exactly one.
    """
    numbers = sorted(loose)
    for sec in context:
        if sec is title:
            break
        first, last = _span(sec, spans)
        found: list[str] = []
        for n in numbers[bisect_left(numbers, first) : bisect_right(numbers, last)]:
            found.extend(sha for sha in loose[n] if sha not in found)
        if found:
            return found
    return list(doc_level) if len(doc_level) == 1 else []


def _span(sec: Section, spans: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """First and last line of a section with everything under it, remembered in ``spans``."""
    if id(sec) not in spans:
        blocks = sec.all_blocks()
        spans[id(sec)] = (blocks[0].start + 1, max(b.end for b in blocks)) if blocks else (0, -1)
    return spans[id(sec)]


def _default_file(title: str | None) -> str | None:
    """The one file a document's title names ("Critical Fixes Applied to app.py")."""
    if not title:
        return None
    found = [t for t in title.replace("`", " ").split() if F.looks_like_path(t.strip(".,:;()"))]
    return found[0].strip(".,:;()") if len(found) == 1 else None


def _unparsed(
    lines: list[str], accounted: set[int], root: Section, reader: Reader
) -> list[Unparsed]:
    """Runs of consecutive non-blank lines no role placed, with their section path."""
    where: dict[int, list[str]] = {}
    for sec in root.walk():
        path = reader.path(sec)
        for block in ([sec.heading] if sec.heading else []) + sec.blocks:
            for n in range(block.start + 1, block.end + 1):
                where[n] = path
    out: list[Unparsed] = []
    prev = -1
    for number, text in enumerate(lines, start=1):
        if not text.strip() or number in accounted:
            continue
        path = where.get(number, [])
        if out and prev == number - 1 and out[-1].section == path:
            out[-1].text += "\n" + text.rstrip()
        else:
            out.append(Unparsed(line=number, text=text.rstrip(), section=path))
        prev = number
    return out
