"""The block structure of a Markdown document, from markdown-it-py's token stream.

Only the top level of the token stream matters here: headings, paragraphs, lists (with
their items), fenced or indented code, tables, rules, HTML and block quotes, each with the
0-based source lines it spans. Headings then nest the blocks into a section tree. The
classifiers work on source lines (``Line``: number and text) rather than rendered inline
text, so every line the extraction uses can be accounted for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

# Only block structure is used: inline parsing (emphasis, links) would be wasted time.
_MD = MarkdownIt("commonmark", {"html": True}).enable("table").disable(["inline", "text_join"])
_MARKER_RE = re.compile(r"^\s*(?:[-*+•]|(?P<num>\d{1,4})[.)])\s+")
_CHECKBOX_RE = re.compile(r"^\[(?P<mark>[ xX✓✔-])\]\s*")
_QUOTE_RE = re.compile(r"^\s*>\s?")
_YAML_RE = re.compile(r"^(?:[\w.-]+\s*:(?:\s.*)?|\s+\S.*|-\s.*|#.*)$")


@dataclass(frozen=True, slots=True)
class Line:
    """One source line: ``number`` is 1-based, ``text`` as written."""

    number: int
    text: str


@dataclass(slots=True)
class Item:
    """A top-level list item: its first line without the marker, and the lines under it."""

    start: int
    end: int
    number: str | None
    checked: bool | None
    first: Line
    rest: list[Line]

    @property
    def lines(self) -> list[Line]:
        return [self.first, *self.rest]


@dataclass(slots=True)
class Block:
    """A top-level Markdown block spanning source lines ``start`` to ``end`` (0-based, open)."""

    kind: str  # heading | paragraph | list | code | table | hr | html | quote
    start: int
    end: int
    level: int = 0
    text: str = ""
    info: str = ""
    code: str = ""
    items: list[Item] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @property
    def numbers(self) -> list[int]:
        """1-based numbers of the non-blank source lines of this block."""
        return [ln.number for ln in self.lines if ln.text.strip()]


@dataclass(slots=True, eq=False)
class Section:
    """A heading with the blocks directly under it and its sub-sections."""

    heading: Block | None
    level: int
    title: str
    parent: Section | None = None
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    @property
    def line(self) -> int | None:
        return self.heading.start + 1 if self.heading else None

    def ancestors(self) -> list[Section]:
        """Enclosing sections, nearest first (the root last)."""
        out = []
        node = self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out

    def walk(self) -> list[Section]:
        """This section and every section under it, in document order."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out

    def all_blocks(self) -> list[Block]:
        """The heading and every block in this section and its sub-sections, in order."""
        out = [self.heading] if self.heading else []
        out.extend(self.blocks)
        for child in self.children:
            out.extend(child.all_blocks())
        return out


def parse_blocks(text: str) -> tuple[list[str], list[Block]]:
    """The document's source lines and its top-level blocks in order.

    YAML front matter (``---`` lines around ``key: value`` lines at the very top) becomes
    one paragraph of fields between two rules, rather than a setext heading.
    """
    source = text.split("\n")
    front = _front_matter(source)
    blocks: list[Block] = []
    if front:
        blanked = [""] * (front + 1) + source[front + 1 :]
        tokens = _MD.parse("\n".join(blanked))
        for start, end, kind in ((0, 1, "hr"), (1, front, "paragraph"), (front, front + 1, "hr")):
            part = Block(kind, start, end)
            part.lines = [Line(n + 1, source[n]) for n in range(start, end)]
            blocks.append(part)
    else:
        tokens = _MD.parse(text)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.level != 0 or tok.map is None:
            i += 1
            continue
        start, end = tok.map
        close = _closing(tokens, i)
        block = _block(tok, tokens[i : close + 1], source, start, end)
        if block is not None and block.kind == "paragraph":
            block = _loose_table(block, source) or block
        if block is not None:
            block.lines = [Line(n + 1, source[n]) for n in range(start, min(end, len(source)))]
            blocks.append(block)
        i = close + 1
    return source, blocks


def _front_matter(source: list[str]) -> int:
    """The 0-based line of the rule closing YAML front matter, or 0 when there is none."""
    if not source or source[0].strip() != "---":
        return 0
    for n in range(1, min(len(source), 80)):
        line = source[n].strip()
        if line == "---":
            return n if n > 1 else 0
        if line and not _YAML_RE.match(source[n]):
            return 0
    return 0


def _closing(tokens: list[Token], i: int) -> int:
    tok = tokens[i]
    if tok.nesting != 1:
        return i
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _block(tok: Token, span: list[Token], source: list[str], start: int, end: int) -> Block | None:
    if tok.type == "heading_open":
        inline = span[1].content if len(span) > 1 else ""
        return Block("heading", start, end, level=int(tok.tag[1:]), text=inline.strip())
    if tok.type == "paragraph_open":
        return Block("paragraph", start, end)
    if tok.type in ("fence", "code_block"):
        return Block("code", start, end, info=tok.info.strip(), code=tok.content)
    if tok.type in ("bullet_list_open", "ordered_list_open"):
        return Block("list", start, end, items=_items(span, source))
    if tok.type == "table_open":
        return Block("table", start, end, rows=_rows(span))
    if tok.type == "hr":
        return Block("hr", start, end)
    if tok.type == "html_block":
        return Block("html", start, end)
    if tok.type == "blockquote_open":
        return Block("quote", start, end)
    return Block("paragraph", start, end)


def _items(span: list[Token], source: list[str]) -> list[Item]:
    items: list[Item] = []
    for tok in span:
        if tok.type != "list_item_open" or tok.level != 1 or tok.map is None:
            continue
        start, end = tok.map
        end = min(end, len(source))
        raw = source[start] if start < len(source) else ""
        m = _MARKER_RE.match(raw)
        first = raw[m.end() :] if m else raw.strip()
        checked: bool | None = None
        box = _CHECKBOX_RE.match(first)
        if box:
            checked = box.group("mark") not in (" ", "-")
            first = first[box.end() :]
        number = (m.group("num") if m else None) or (tok.info or None)
        rest = [Line(n + 1, source[n]) for n in range(start + 1, end) if source[n].strip()]
        items.append(Item(start, end, number, checked, Line(start + 1, first.rstrip()), rest))
    return items


_DELIMITER_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PIPE_RE = re.compile(r"(?<!\\)\|")


def split_row(text: str) -> list[str]:
    """A table row's cells as written, split at every unescaped ``|``."""
    body = text.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip().replace("\\|", "|") for cell in _PIPE_RE.split(body)]


def _loose_table(block: Block, source: list[str]) -> Block | None:
    """A pipe table strict GFM rejects (its delimiter row has another cell count than its
    header): every ``|`` line of the paragraph is a row, cells split as written."""
    start, end = block.start, min(block.end, len(source))
    if end - start < 3 or not _DELIMITER_RE.match(source[start + 1]):
        return None
    if not all(source[n].lstrip().startswith("|") for n in range(start, end)):
        return None
    rows = [(n + 1, split_row(source[n])) for n in range(start, end) if n != start + 1]
    return Block("table", start, end, rows=rows)


def _rows(span: list[Token]) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    line = 0
    for tok in span:
        if tok.type == "tr_open":
            current = []
            line = (tok.map[0] + 1) if tok.map else line + 1
        elif tok.type == "inline" and current is not None:
            current.append(tok.content.strip())
        elif tok.type == "tr_close" and current is not None:
            rows.append((line, current))
            current = None
    return rows


def build_sections(blocks: list[Block]) -> Section:
    """Nest blocks under headings: a heading owns everything until one of its level or higher."""
    root = Section(heading=None, level=0, title="")
    stack = [root]
    for block in blocks:
        if block.kind == "heading":
            while stack[-1].level >= block.level:
                stack.pop()
            section = Section(heading=block, level=block.level, title=block.text, parent=stack[-1])
            stack[-1].children.append(section)
            stack.append(section)
        else:
            stack[-1].blocks.append(block)
    return root


def content_lines(block: Block) -> list[Line]:
    """A block's non-blank lines, with block-quote markers removed."""
    out = []
    for ln in block.lines:
        if not ln.text.strip():
            continue
        text = _QUOTE_RE.sub("", ln.text) if block.kind == "quote" else ln.text
        out.append(Line(ln.number, text))
    return out


def strip_marker(text: str) -> str:
    """A list line without its bullet or number and checkbox."""
    text = _MARKER_RE.sub("", text, count=1)
    return _CHECKBOX_RE.sub("", text, count=1).strip()
