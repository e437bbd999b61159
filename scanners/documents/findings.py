"""Reading one finding: its heading (or table row, or list item) and the blocks under it.

A finding's body is read line by line. A field label ("**Problem:**", "### Solution",
"Lines Fixed:") switches the part the following text belongs to; text and code are attached
to the current part, so every line inside a finding lands somewhere in it. Labels the
vocabulary does not know become notes, except inside a fix, where teams put sub-labels
("In startup_manager.py:", "For cost tracking:") in front of the code they changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scanners.documents import fields as F
from scanners.documents import signals as S
from scanners.documents import vocabulary as V
from scanners.documents import words as W
from scanners.documents.model import FileRef, Finding, Note
from scanners.documents.structure import Block, Line, Section, content_lines

_HEADING_RE = re.compile(
    r"^(?:(?P<labelled>(?i:(?:sub[- ]?)?(?:fix|issue|bug|finding|problem|defect)|vulnerability|"
    r"vuln|item|ticket|fehler|befund|problème|correctif|anomalie|faille|"
    + "|".join(re.escape(w) for w in V.LABELLED)
    + r"))\s*(?:#|no\.?|nr\.?|n°|№)?\s*"
    r"(?P<lnum>[A-Z]{0,6}-?\d{1,4}(?:\.\d+)*[a-zA-Z]?)\b"
    r"|#\s*(?P<hnum>[A-Z]{0,6}-?\d{1,4}(?:\.\d+)*)\b"
    r"|\[(?P<bnum>[A-Z]{1,6}-?\d{1,4})\]"
    r"|(?P<inum>(?=[A-Z0-9-]*\d)[A-Z]{1,6}(?:-[A-Z0-9]{1,8}){1,3}(?=[\s:.)])|[A-Z]{1,4}\d{1,4}(?=\s*[:—–]\s))"
    r"|(?P<num>\d{1,3}(?:\.\d{1,3})+(?=[\s.):])|\d{1,3}(?=[.):])))"
    r"\s*[.):\-–—]*\s*(?P<title>\S.*)$"
)
_MARKER_RE = re.compile(
    r"^\s*(?:#|//|--|/\*+|<!--|;|%)\s*(?P<w>before|after|old|new|was|now|previously|vorher|"
    r"nachher|avant|après|alt|neu)\b\s*(?:[:(\-–—]|\*/|-->|$)",
    re.IGNORECASE,
)
_BEFORE_WORDS = {"before", "old", "was", "previously", "vorher", "avant", "alt"}
_BRACKET_RE = re.compile(r"\[[^\]]*\]|\([^)]*\)")


@dataclass(frozen=True, slots=True)
class Heading:
    """A finding heading split into the document's own label, a clean title and its signals."""

    ref: str | None
    title: str
    labelled: bool
    status: str | None


def parse_heading(text: str) -> Heading | None:
    """``"Fix #3: Bare Except Clauses ✅"`` -> ref "Fix #3", title, status fixed; else None."""
    plain = W.strip_decoration(text)
    m = _HEADING_RE.match(plain)
    if not m:
        return None
    if m.group("labelled"):
        ref = plain[: m.end("lnum")].strip()
    else:
        ref = m.group("hnum") or m.group("bnum") or m.group("inum") or m.group("num")
    title = clean_title(m.group("title"))
    if not title:
        return None
    return Heading(
        ref=ref, title=title, labelled=bool(m.group("labelled")), status=heading_status(text)
    )


def labelled_children(sec: Section) -> int:
    """How many sub-headings of ``sec`` are labelled findings ("Sub-Issue 1A: …")."""
    return sum(1 for c in sec.children if (h := parse_heading(c.title)) and h.labelled)


def heading_status(text: str) -> str | None:
    """The status a heading itself claims: emoji, a trailing status word, a bracketed tag.

    Words inside the title proper are not signals: "Open Redirect in Login" is a title.
    """
    signals = [ch for ch in text if W.is_emoji(ch)]
    plain = W.strip_decoration(text)
    tail = W.STATUS_WORD_TAIL_RE.search(plain)
    parts = "".join(signals)
    if tail:
        parts += " " + tail.group(0)
    parts += " " + " ".join(_BRACKET_RE.findall(plain))
    return S.status_in(parts) if parts.strip() else None


def clean_title(text: str) -> str:
    """A title without emoji, markup or a trailing status word ("... ✅ FIXED")."""
    plain = W.strip_decoration(text)
    plain = W.STATUS_WORD_TAIL_RE.sub("", plain)
    plain = re.sub(
        r"\s*\[(?:fixed|done|open|resolved|wip|partial)\]\s*$", "", plain, flags=re.IGNORECASE
    )
    plain = _FILE_ASIDE_RE.sub("", plain)
    plain = _SEVERITY_ASIDE_RE.sub("", plain)
    plain = _STATUS_ASIDE_RE.sub("", plain)
    return plain.strip(" -–—:|")


# "Queue Saturation (hub.js)": a trailing aside that only names files is where, not what.
_FILE_ASIDE_RE = re.compile(
    r"(?<=\S)\s*\((?:`?[\w./-]+\.[A-Za-z]{1,5}`?(?:\s*[,&/]\s*|\s+and\s+)?)+\)\s*$"
)


# "Blake Threshold Test Bounds (P3 - LOW)": a trailing aside that only grades the finding
# (its severity is read from the heading itself) is not part of its name.
_SEVERITY_WORD = "(?:" + V.alternation([w for words in V.SEVERITY.values() for w in words]) + ")"
_GRADE_WORD = r"(?:priority|severity|risk|priorità|prioridade|prioridad|priorité|приоритет)"
_SEVERITY_ASIDE_RE = re.compile(
    rf"(?<=\S)\s*\(\s*(?:P[0-4](?:\s*[-–—:/]\s*{_SEVERITY_WORD})?|"
    rf"(?:(?:critical|high|medium|moderate|low)\s*[/-]\s*)?{_SEVERITY_WORD}(?:[\s-]+{_GRADE_WORD})?|"
    rf"{_GRADE_WORD}\s*:?\s*{_SEVERITY_WORD})\s*\)\s*$",
    re.I,
)
# "Data Integrity (FIXED - October 4, 2025)", "(PARTIALLY RESOLVED)": a trailing aside led by
# a status word tags the finding (read by ``heading_status``); it is not part of its name.
_STATUS_ASIDE_RE = re.compile(
    r"(?<=\S)\s*\(\s*(?:"
    + V.alternation(V.STATUS["fixed"] + V.STATUS["partial"] + V.STATUS["not_fixed"])
    + r")(?:[\s\-–—:,][^()]*)?\)\s*$",
    re.I,
)


def severity_aside(text: str) -> tuple[str, str] | None:
    """The severity a title's trailing grade gives ("… (P3 - LOW)" -> low), or None."""
    m = _SEVERITY_ASIDE_RE.search(W.strip_decoration(text))
    return S.severity_in(m.group(0).strip(" ()")) if m else None


def file_aside(text: str) -> str | None:
    """The trailing "(hub.js)" of a title that :func:`clean_title` takes off, or None."""
    m = _FILE_ASIDE_RE.search(W.strip_decoration(text))
    return m.group(0).strip(" ()") if m else None


def split_code(code: str) -> tuple[list[str], list[str]] | None:
    """Split a code block at its BEFORE/AFTER comment markers; None when it has none."""
    segments: list[tuple[str, list[str]]] = []
    lead: list[str] = []
    for line in code.rstrip("\n").split("\n"):
        m = _MARKER_RE.match(line)
        if m:
            side = "before" if m.group("w").lower() in _BEFORE_WORDS else "after"
            segments.append((side, []))
        elif segments:
            segments[-1][1].append(line)
        else:
            lead.append(line)
    if not segments:
        return None
    if any(x.strip() for x in lead):
        segments[0] = (segments[0][0], lead + segments[0][1])
    before = [_trim(lines) for side, lines in segments if side == "before"]
    after = [_trim(lines) for side, lines in segments if side == "after"]
    return [b for b in before if b], [a for a in after if a]


def _trim(lines: list[str]) -> str:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "\n".join(lines)


@dataclass(slots=True)
class Draft:
    """A finding being read. Feed it blocks or lines, then ``build`` it with its context."""

    ref: str | None
    title: str
    line: int
    section: list[str]
    heading_status: str | None = None
    parts: dict[str, list[str]] = field(
        default_factory=lambda: {"problem": [], "impact": [], "fix": []}
    )
    notes: list[Note] = field(default_factory=list)
    current: str = "problem"
    pending_code: str | None = None
    files: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    loose: list[tuple[int, int]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    languages: dict[str, str] = field(default_factory=dict)
    """The fence language of each BEFORE/AFTER block that named one (see ``_foreign``)."""
    field_severity: tuple[str, str] | None = None
    field_status: str | None = None
    field_status_source: str = "field"
    backticks_anywhere: bool = False
    used: set[int] = field(default_factory=set)
    origin: str = "heading"  # heading | item | prose | table | merged (folded into another)
    merged_lines: list[int] = field(default_factory=list)

    # --- feeding ------------------------------------------------------------------------

    def add_block(self, block: Block) -> None:
        """Attach one block of the finding's body."""
        self.used.update(block.numbers)
        if block.kind == "heading":
            label = W.strip_decoration(block.text)
            self.label(label, F.label_kind(label), "")
        elif block.kind == "code":
            self.add_code(block.code, language=block.info)
        elif block.kind == "list":
            for item in block.items:
                for ln in item.lines:
                    self.add_line(ln)
        elif block.kind == "table":
            self.add_table(block)
        elif block.kind != "hr":
            for ln in content_lines(block):
                self.add_line(ln)

    def add_line(self, ln: Line) -> None:
        """Attach one line of text: a field switches the part, anything else is text."""
        self.used.add(ln.number)
        parsed = F.parse_field(ln.text)
        if parsed:
            label, value = parsed
            kind = F.label_kind(label)
            # "Line 145: requests.post()" names a place, it does not start a section.
            if kind == "lines" and re.search(r"\d", label):
                parsed = None
            else:
                self.label(label, kind, value)
                return
        self.text(ln.text)

    def label(self, label: str, kind: str | None, value: str) -> None:
        """Handle a field label (and its value) found in the body."""
        if kind not in ("files", "lines"):
            self.scan(value)
        if kind in ("before", "after"):
            self.pending_code = kind
            if value:
                self.note(label, value)
        elif kind == "severity":
            self.field_severity = S.severity_in(value) or self.field_severity
            self.note(label, value)
        elif kind == "status":
            self.field_status = S.status_in(value) or self.field_status
            self.add_evidence(S.evidence_in(value))
            self.note(label, value)
        elif kind == "evidence":
            self.add_evidence(S.evidence_in(value) or (["verified"] if value else []))
            self.note(label, value)
        elif kind == "files":
            places = F.paths_in(value) or [(p, []) for p in F.field_paths(value)]
            for path, own in places:
                self.add_file(path, own or (F.line_refs(value) if len(places) == 1 else []))
            if len(places) != 1:
                self.loose.extend(F.line_refs(value))
            self.note(label, value)
        elif kind == "lines":
            places = [(p, own) for p, own in F.paths_in(value) if own]
            for path, own in places:
                self.add_file(path, own)
            if not places:
                self.loose.extend(F.line_list(value))
            self.note(label, value)
        elif kind == "commit":
            self.note(label, value)
        elif kind in ("problem", "impact", "fix"):
            if kind == "impact" and not self.field_severity:
                # "Impacto: CRÍTICO - goroutines leak": a leading level is the severity.
                lead = S.severity_in(value.split(" - ")[0].split(":")[0], heading=True)
                self.field_severity = lead if lead and len(value.split()) > 0 else None
            self.current = kind
            if value:
                self.parts[kind].append(value)
        elif self.current == "fix":
            self.parts["fix"].append(f"{label}: {value}".rstrip(": ") if value else label)
        else:
            self.note(label, value)

    def note(self, label: str, value: str) -> None:
        self.notes.append(Note(label=label, text=value))
        self.current = f"note:{len(self.notes) - 1}"

    def text(self, raw: str) -> None:
        cleaned = raw.strip()
        self.scan(raw, listed=True)
        if self.current in self.parts:
            self.parts[self.current].append(cleaned)
        else:
            note = self.notes[int(self.current.split(":")[1])]
            note.text = f"{note.text}\n{cleaned}" if note.text else cleaned

    def scan(self, text: str, *, listed: bool = False) -> None:
        """Collect the paths, line numbers and commits a piece of body text names; ``listed``
        when it is a line of the body (not a label's value), which may list a bare path."""
        if not text:
            return
        in_files = (
            self.current.startswith("note:")
            and F.label_kind(self.notes[int(self.current.split(":")[1])].label) == "files"
        )
        found = F.paths_in(
            text, backticks=self.backticks_anywhere or self.current == "fix" or in_files
        )
        if listed and in_files and not found:
            # "**Files Changed**:" over "- shared/config/dates.py (1 import fixed)": a line
            # under a files label may name its file bare, as the label's own value may.
            found = [(p, []) for p in F.field_paths(text) if F.looks_like_path(p, strict=True)]
        ranges = F.line_refs(text)
        if found:
            for path, own in found:
                self.add_file(path, own or (ranges if len(found) == 1 else []))
            if len(found) > 1 and ranges and not any(own for _, own in found):
                self.loose.extend(ranges)
        else:
            self.loose.extend(ranges)
        for sha in F.commits_in(text):
            if sha not in self.commits:
                self.commits.append(sha)

    def add_file(self, path: str, ranges: list[tuple[int, int]]) -> None:
        self.files.setdefault(path, []).extend(ranges)

    def add_evidence(self, kinds: list[str]) -> None:
        for kind in kinds:
            if kind not in self.evidence:
                self.evidence.append(kind)

    def add_code(self, code: str, *, language: str = "") -> None:
        split = split_code(code)
        body = code.rstrip("\n")
        fence = _LANGUAGE_ALIASES.get(language.split()[0].lower(), "") if language.strip() else ""
        if fence:
            for piece in [*(split[0] + split[1] if split else []), body]:
                self.languages[piece] = fence
        for line in body.split("\n") if split else []:
            if _MARKER_RE.match(line):  # "# Before (shared/config.py:4):" names the place
                for path, lines in F.paths_in(line):
                    self.add_file(path, lines)
        if split:
            self.before.extend(split[0])
            self.after.extend(split[1])
        elif self.pending_code == "before" or (
            self.pending_code is None and self.current == "problem"
        ):
            self.before.append(body)
        elif self.pending_code == "after" or self.current == "fix":
            self.after.append(body)
        else:
            self.code.append(body)
        self.pending_code = None

    def add_table(self, block: Block) -> None:
        """A two-column table of labels and values is a set of fields; else it is text."""
        rows = block.rows
        if (
            rows
            and all(len(cells) == 2 for _, cells in rows)
            and any(F.label_kind(cells[0]) for _, cells in rows[1:])
        ):
            for _, (label, value) in rows[1:]:
                self.label(W.strip_decoration(label), F.label_kind(label), value)
                self.current = "problem" if self.current.startswith("note:") else self.current
            return
        for ln in content_lines(block):
            self.text(ln.text)

    # --- building -----------------------------------------------------------------------

    def build(
        self,
        *,
        key: str,
        section_severity: tuple[str, str] | None,
        section_status: str | None,
        document_status: str | None,
        default_file: str | None,
    ) -> Finding:
        """The finished finding, resolving severity and status by precedence.

        Severity: the finding's own field, else the nearest section that states one, else
        None. Status: own field, own heading, nearest section, then what its content shows
        (a "Fix Applied" part means fixed, only a recommended fix means recommended), the
        document's own status line, and "identified" when nothing is said.
        """
        if self.field_severity:
            severity, severity_source = self.field_severity, "field"
        elif section_severity:
            severity, severity_source = section_severity, "section"
        else:
            severity, severity_source = None, None
        status, source = self._status(section_status, document_status)
        files = self._files(default_file)
        foreign = self._foreign(files)
        return Finding(
            key=key,
            ref=self.ref,
            title=self.title,
            severity=severity[0] if severity else None,
            severity_raw=severity[1] if severity else None,
            severity_source=severity_source,
            status=status,
            status_source=source,
            files=files,
            commits=list(self.commits),
            problem="\n".join(self.parts["problem"]).strip(),
            impact="\n".join(self.parts["impact"]).strip(),
            fix="\n".join(self.parts["fix"]).strip(),
            before=[code for code in self.before if code not in foreign],
            after=[code for code in self.after if code not in foreign],
            code=self.code + [code for code in self.before + self.after if code in foreign],
            evidence=self.evidence,
            notes=self.notes,
            section=self.section,
            line=self.line,
        )

    def _foreign(self, files: list) -> set[str]:
        """BEFORE/AFTER blocks fenced as another language than every file the finding names
        (a ```sql example under a fix of ``mixin.py``): illustrations, not the file's code, so
        they are kept as plain code and never compared with the file."""
        named = {_EXTENSION_LANGUAGES.get(_extension(ref.path or ""), "") for ref in files}
        named.discard("")
        if not named:
            return set()
        return {code for code, language in self.languages.items() if language not in named}

    def _status(self, section_status: str | None, document_status: str | None) -> tuple[str, str]:
        if self.field_status:
            return self.field_status, self.field_status_source
        if self.heading_status:
            return self.heading_status, "heading"
        if section_status:
            return section_status, "section"
        fix_text = " ".join(self.parts["fix"]) + " ".join(n.label for n in self.notes)
        if self.parts["fix"] or self.after:
            applied = not re.search(
                r"recommend|suggest|propos|should|empfohlen|recommand", fix_text, re.IGNORECASE
            )
            return (S.FIXED if applied else S.RECOMMENDED), "content"
        if document_status:
            return document_status, "document"
        return S.IDENTIFIED, "default"

    def _files(self, default_file: str | None) -> list[FileRef]:
        files = {path: list(ranges) for path, ranges in self.files.items()}
        if self.loose:
            if len(files) == 1:
                files[next(iter(files))].extend(self.loose)
            elif not files and default_file:
                files[default_file] = list(self.loose)
            else:
                return [F.file_ref(p, r) for p, r in files.items()] + [F.file_ref(None, self.loose)]
        return [F.file_ref(p, r) for p, r in files.items()]


def _extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


_LANGUAGE_ALIASES = {
    **dict.fromkeys(("python", "py", "python3", "py3"), "python"),
    **dict.fromkeys(("javascript", "js", "jsx", "mjs", "node"), "javascript"),
    # One family: a ```javascript block often quotes a .ts file, and the reverse.
    **dict.fromkeys(("typescript", "ts", "tsx"), "javascript"),
    **dict.fromkeys(("sql", "postgresql", "postgres", "psql", "mysql", "sqlite", "plpgsql"), "sql"),
    **dict.fromkeys(("go", "golang"), "go"),
    **dict.fromkeys(("ruby", "rb"), "ruby"),
    **dict.fromkeys(("rust", "rs"), "rust"),
    **dict.fromkeys(("java",), "java"),
    **dict.fromkeys(("php",), "php"),
    **dict.fromkeys(("csharp", "cs", "c#"), "csharp"),
    **dict.fromkeys(("yaml", "yml"), "yaml"),
    **dict.fromkeys(("html", "htm"), "html"),
    **dict.fromkeys(("css", "scss"), "css"),
}
"""Fence info strings that name a language for certain. Shell, text, json, diff and unknown
tags name none: a shell session or a diff may well quote any file's code."""

_EXTENSION_LANGUAGES = {
    **dict.fromkeys(("py", "pyi"), "python"),
    **dict.fromkeys(("js", "jsx", "mjs", "cjs"), "javascript"),
    **dict.fromkeys(("ts", "tsx"), "javascript"),
    "sql": "sql",
    "go": "go",
    "rb": "ruby",
    "rs": "rust",
    "java": "java",
    "php": "php",
    "cs": "csharp",
    **dict.fromkeys(("yaml", "yml"), "yaml"),
    **dict.fromkeys(("html", "htm"), "html"),
    **dict.fromkeys(("css", "scss"), "css"),
}
