"""Comparing code from documents with code in the repository, as a reviewer reads it.

Documents quote code re-indented, reformatted, shortened with elisions and decorated with
comments ("# ✅ FIXED", "# Guaranteed cleanup"). A literal line-by-line comparison calls
most true fixes false, so both sides are normalised first and then compared as token
sequences with a similarity threshold:

1. line endings are unified and a leading byte-order mark is dropped;
2. comments are dropped: ``#`` (when it starts a line or follows a space and is not
   ``#include``/``#[attr]``-like), ``//`` and ``/* ... */`` (not for Python, shell or YAML,
   where ``//`` is an operator or text), ``--`` (SQL, Lua and the like). Quoted strings are
   skipped, so ``"http://x"`` keeps its ``//``. Which styles apply is read from the file's
   extension; without one, all of them (``//`` and ``--`` then only after a space);
3. marker symbols (emoji such as ✅ ❌ ⚠) are dropped wherever they are;
4. each line is split into tokens (words, quoted strings with inner whitespace folded,
   single punctuation characters), so layout and spacing no longer matter.

An elision line in the snippet stands for any number of lines: ``...`` or ``…`` alone or
followed by words, a comment starting with an ellipsis (``# ... task logic``,
``// ...``, ``/* ... */``, ``-- ...``), or a comment line ending in a colon that says where
the next part lives (``# In create_checkout:``). The lines between elisions form segments, found in
order. Inside a line, ``...`` (``Message(...)``) is a wildcard that absorbs whatever the
file has at that place.

:func:`code_match` scores each segment with :class:`difflib.SequenceMatcher` over tokens
(``2·matched / (snippet tokens + span tokens)``, wildcard-absorbed tokens left out, and
punctuation weighing a quarter of a word),
weights the segments by size and calls the code present when the score is at least
:data:`THRESHOLD`. Documents also quote a function shortened without saying so (arguments,
a try block, a branch left out): such a quote is present too when at least :data:`COVERAGE`
of it occurs in order in a span at most :data:`SPREAD` times its size, and the match says
it was found as a shortened quote. Exact questions (:func:`code_presence`) never use this.
A snippet shorter than :data:`SHORT_TOKENS` tokens must match exactly,
since one changed token there (``db`` for ``DB``) is a different statement. The standard
library's matcher is enough: the inputs are a few hundred tokens, and candidate windows are
chosen first (lines sharing the snippet's rarest tokens), so a 5,000-line file costs a few
dozen small comparisons rather than one per line.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from scanners.git.command import GitError

THRESHOLD = 0.8
"""The lowest score at which a snippet counts as present."""
SHORT_TOKENS = 10
"""Snippets with fewer tokens than this must match exactly."""
COVERAGE = 0.95
"""A shortened snippet counts as present when at least this share of it occurs, in order,
in a span of the file (see :func:`_cover`)..."""
SPREAD = 5.0
"""...no heavier than this many times the snippet: documents drop arguments and lines, they
do not quote one statement from each screen of a file."""
SLACK = 2
"""Lines a segment's span may grow or shrink by against the snippet (reformatting)."""
SPAN_LINES = 40
SPAN_CHARS = 4000
"""The closest span's text is trimmed to this many lines and characters."""
PUNCTUATION = 0.25
"""The weight of a punctuation token against a word's 1 (see :func:`_score`)."""
_CANDIDATES = 24
_ANCHOR_TOKENS = 6
_WILD = "\x00…"

_ELISION = re.compile(
    r"^(?:(?:#|//|--|;|/\*|<!--)\s*(?:\.\.\.|…).*|(?:\.\.\.|…)(?:\s.*)?)$",
)
_LOCATION = re.compile(r"^(?:#|//|--)\s+[A-Za-z].*:$")
"""A comment line that introduces the next part ("# In create_checkout:"): the quote jumps."""
_TOKEN = re.compile(r"\.\.\.|…|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\w+|[^\w\s]")
_HASH_ONLY = {"py", "pyi", "rb", "sh", "bash", "zsh", "yml", "yaml", "toml", "ini", "cfg",
              "conf", "env", "r", "pl", "tf", "dockerfile", "makefile", "gitignore"}  # fmt: skip
_SLASH_ONLY = {"js", "jsx", "ts", "tsx", "mjs", "cjs", "java", "kt", "go", "rs", "c", "h",
               "cc", "cpp", "hpp", "cs", "swift", "scala", "dart", "css", "scss", "vue",
               "svelte", "json", "jsonc", "proto", "groovy", "gradle"}  # fmt: skip
_DASH_SLASH = {"sql", "lua", "hs"}
_PHP = {"php"}


@dataclass(frozen=True, slots=True)
class Span:
    """Lines ``start`` to ``end`` (1-based, inclusive) of the file, and their text (trimmed
    to :data:`SPAN_LINES` lines and :data:`SPAN_CHARS` characters)."""

    start: int
    end: int
    text: str

    def __str__(self) -> str:
        return f"line {self.start}" if self.start == self.end else f"lines {self.start}–{self.end}"


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """How well a snippet occurs in a file: ``found`` when ``score`` reaches the threshold;
    ``span`` is the closest place found (None when no line shares a token with it)."""

    found: bool
    score: float
    span: Span | None
    fit: float | None = None
    rival_score: float | None = None
    coverage: float | None = None

    @property
    def rival_wins(self) -> bool:
        """The span reached the threshold but the rival block fits it at least as well."""
        return self.rival_score is not None and self.rival_score >= (self.fit or 0.0)

    def describe(self, rival: str = "the other block") -> str:
        """ "found at lines 40–52 (score 0.93)" or "closest span lines 10–14, score 0.41";
        ``rival`` names the rival block when it fits the span as well."""
        if self.span is None:
            return "no line of the file shares a word with it (score 0.00)"
        if self.found and self.score < THRESHOLD and self.coverage is not None:
            return (
                f"found at {self.span} (score {self.score:.2f}; {self.coverage:.0%} of the "
                "snippet in order, the file adding code between: a shortened quote)"
            )
        if self.found:
            return f"found at {self.span} (score {self.score:.2f})"
        if self.rival_wins:
            return (
                f"closest span {self.span}, score {self.score:.2f}, but {rival} fits those "
                f"lines as well or better ({self.rival_score:.2f} vs {self.fit:.2f})"
            )
        return f"closest span {self.span}, score {self.score:.2f}"

    def detail(self) -> dict:
        """JSON-serialisable facts for a stored check."""
        facts: dict = {"score": round(self.score, 3), "threshold": THRESHOLD}
        if self.coverage is not None:
            facts["coverage"] = round(self.coverage, 3)
        if self.rival_score is not None and self.fit is not None:
            facts["fit"], facts["rival_score"] = round(self.fit, 3), round(self.rival_score, 3)
        if self.span is not None:
            facts["span"] = {"start": self.span.start, "end": self.span.end, "text": self.span.text}
        return facts


def normalise_code(text: str, path: str = "") -> str:
    """``text`` as the comparison sees it: one line per code line, tokens joined by a space."""
    return "\n".join(" ".join(tokens) for _, tokens in _file_lines(text, _styles(path)))


def shell_session(snippet: str) -> bool:
    """Whether ``snippet`` is a terminal session (its first command line starts with a
    ``$`` prompt): commands a document ran to show an attack or a test, not code in a file,
    so looking for it in the claimed file proves nothing either way."""
    for line in _unified(snippet):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        return text == "$" or text.startswith("$ ")
    return False


_CODE_MARK = re.compile(
    r"[=(){}\[\];<>\"'`]|^\s*[-\w.]+:(?:\s|$)|[A-Za-z0-9]_[A-Za-z0-9]|[A-Za-z]\.[A-Za-z_]|[a-z][A-Z]"
)


def plain_text(snippet: str) -> bool:
    """Whether ``snippet`` reads as prose (a scenario, an output, a list of steps) rather
    than code: fewer than half of its lines carry a sign of code (an operator, a bracket, a
    quote, a ``key:`` of a configuration file, a ``snake_case``, ``dotted.name`` or
    ``camelCase`` identifier, or fewer than three words, like ``pass`` or ``end``)."""
    lines = [line for line in _unified(snippet) if line.strip()]
    marked = sum(bool(_CODE_MARK.search(line)) or len(line.split()) < 3 for line in lines)
    return bool(lines) and marked * 2 < len(lines)


def code_presence(file_text: str, snippet: str, path: str = "") -> bool:
    """Whether ``snippet`` is in ``file_text`` exactly, once normalised (score 1.0): for
    questions where a near copy would mislead, such as which commit brought code back."""
    return code_match(file_text, snippet, path).score >= 1.0 - 1e-9


def code_match(file_text: str, snippet: str, path: str = "", *, rival: str = "") -> CodeMatch:
    """How well ``snippet`` occurs in ``file_text`` (``path`` names the file, for its comment
    styles). Raises :class:`GitError` when the snippet has no code at all, since nothing can
    then be said about presence.

    ``rival`` is the other block of a BEFORE/AFTER pair. A one-token fix (``except:`` to
    ``except OSError:``) leaves BEFORE and AFTER above the threshold against each other, so
    when the rival is found too, at an overlapping place, the snippet is found only if it
    fits the joined lines of both places (every token counts, :func:`fit`) strictly better
    than the rival does; a tie is not found."""
    found = _match(file_text, snippet, path)
    if not found.found or not rival.strip() or found.span is None:
        return found
    start, end = found.span.start, found.span.end
    try:
        # Where the rival would sit, if it overlaps: the two compete for the whole region.
        near = _match(file_text, rival, path)
        if not near.found or near.span is None or near.span.start > end or start > near.span.end:
            return found
        start, end = min(start, near.span.start), max(end, near.span.end)
        lines = "\n".join(_unified(file_text)[start - 1 : end])
        own, other = fit(lines, snippet, path), fit(lines, rival, path)
    except GitError:
        return found
    region = Span(start, end, _excerpt(tuple(_unified(file_text)), start, end))
    return CodeMatch(other < own, found.score, region, own, other, found.coverage)


def fit(text: str, snippet: str, path: str = "") -> float:
    """How well ``snippet`` and the whole of ``text`` agree (the score of :func:`code_match`,
    but over every line of ``text``, so extra code in it counts against the snippet)."""
    styles = _styles(path)
    indexed = _indexed(text, styles)
    tokens: list[str] = []
    for segment, _ in _segments(snippet, styles):
        tokens += ([_WILD] if tokens else []) + segment
    found = _score(indexed, tokens, 0, len(indexed.lines), narrow=False)
    return found[0] if found else 0.0


def _match(file_text: str, snippet: str, path: str) -> CodeMatch:
    styles = _styles(path)
    segments = _segments(snippet, styles)
    indexed = _indexed(file_text, styles)
    total = sum(len(tokens) for tokens, _ in segments)
    position = 0
    weighted = 0.0
    spans: list[tuple[int, int]] = []
    for tokens, offsets in segments:
        best = _best_window(indexed, tokens, offsets, position)
        if best is None:
            continue
        score, first, last = best
        weighted += score * len(tokens)
        spans.append((first, last))
        position = last + 1
    score = weighted / total if total else 0.0
    if not spans:
        return CodeMatch(False, 0.0, None)
    lines = indexed.lines
    found = score >= (1.0 if total < SHORT_TOKENS else THRESHOLD) - 1e-9
    if not found and total >= SHORT_TOKENS:
        covered = _covered(indexed, segments)
        if covered is not None:
            # A shortened quote: nearly all of it in order, the file's extra code between.
            coverage, (start, end) = covered
            span = Span(start, end, _excerpt(indexed.raw, start, end))
            return CodeMatch(True, score, span, coverage=coverage)
    start, end = lines[spans[0][0]][0], lines[spans[-1][1]][0]
    return CodeMatch(found, score, Span(start, end, _excerpt(indexed.raw, start, end)))


def _covered(
    indexed: _Indexed, segments: list[tuple[list[str], list[int]]]
) -> tuple[float, tuple[int, int]] | None:
    """(share of the snippet found in order, (first, last) file line) when it reaches
    :data:`COVERAGE` with every segment in a compact span, else None."""
    total = sum(len(tokens) for tokens, _ in segments)
    position = 0
    covered = 0.0
    spans: list[tuple[int, int]] = []
    for tokens, offsets in segments:
        cover = _best_cover(indexed, tokens, offsets, position)
        if cover is None:
            return None
        share, first, last = cover
        covered += share * len(tokens)
        spans.append((first, last))
        position = last + 1
    coverage = covered / total
    if coverage < COVERAGE - 1e-9:
        return None
    return coverage, (indexed.lines[spans[0][0]][0], indexed.lines[spans[-1][1]][0])


def _best_cover(
    indexed: _Indexed, tokens: list[str], offsets: list[int], after: int
) -> tuple[float, int, int] | None:
    """The best (share of the segment found in order, first code line, last code line) in a
    window up to :data:`SPREAD` times the segment's height, at or after code line ``after``."""
    height = offsets[-1] + 1
    grow = int(height * (SPREAD - 1))
    best: tuple[float, int, int] | None = None
    for start in _starts(indexed, tokens, offsets, after):
        # The snippet's rows no longer line up with the file's: its words vote for a start
        # that may be early or late by the lines it left out.
        for first, last in ((start - SLACK, start + height + grow), (start - grow, start + height)):
            first, last = max(after, first), min(len(indexed.lines), last + SLACK)
            found = _cover(indexed, tokens, first, last)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
    return best


def _align(indexed: _Indexed, tokens: list[str], first: int, last: int) -> tuple | None:
    """``tokens`` aligned with code lines ``first``..``last`` (exclusive): the lines' tokens,
    the line each token comes from, the matcher and its matching blocks, and the first and
    last line the match uses; None when nothing matches."""
    window: list[str] = []
    owner: list[int] = []
    for index in range(first, last):
        window += indexed.lines[index][1]
        owner += [index] * len(indexed.lines[index][1])
    matcher = SequenceMatcher(None, tokens, window, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    if not blocks:
        return None
    lo, hi = owner[blocks[0].b], owner[blocks[-1].b + blocks[-1].size - 1]
    return window, owner, matcher, blocks, lo, hi


def _cover(indexed: _Indexed, tokens: list[str], first: int, last: int) -> tuple | None:
    """The share of ``tokens`` (by weight) that code lines ``first``..``last`` hold in
    order, over the whole lines from the first to the last matched one; None when nothing
    matches or that span weighs more than :data:`SPREAD` times the snippet."""
    aligned = _align(indexed, tokens, first, last)
    if aligned is None:
        return None
    window, owner, _, blocks, lo, hi = aligned
    own = _weight(tokens)
    spread = _weight(window[owner.index(lo) : len(owner) - owner[::-1].index(hi)])
    if not own or spread > SPREAD * own:
        return None
    matched = sum(_weight(tokens[b.a : b.a + b.size]) for b in blocks)
    return matched / own, lo, hi


# --- normalising ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Styles:
    hash: bool = True
    slash: bool = True
    dash: bool = True
    loose: bool = True  # unknown language: ``//`` and ``--`` only after a space


def _styles(path: str) -> _Styles:
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else name
    if ext in _HASH_ONLY:
        return _Styles(True, False, False, False)
    if ext in _SLASH_ONLY:
        return _Styles(False, True, False, False)
    if ext in _DASH_SLASH:
        return _Styles(False, True, True, False)
    if ext in _PHP:
        return _Styles(True, True, False, False)
    return _Styles()


def _strip_comments(line: str, styles: _Styles, in_block: bool) -> tuple[str, bool]:
    """``line`` without its comments, and whether a ``/* */`` comment is still open."""
    out: list[str] = []
    i, quote, n = 0, "", len(line)
    while i < n:
        char = line[i]
        if in_block:
            close = line.find("*/", i)
            if close < 0:
                return "".join(out), True
            i, in_block = close + 2, False
            continue
        if quote:
            out.append(char)
            if char == "\\" and i + 1 < n:
                out.append(line[i + 1])
                i += 1
            elif char == quote:
                quote = ""
            i += 1
            continue
        spaced = i == 0 or line[i - 1].isspace()
        two = line[i : i + 2]
        if styles.loose and line.startswith("<!--", i):
            # Markup's comment (an unknown language may be HTML): to its end or the line's.
            close = line.find("-->", i + 4)
            if close < 0:
                break
            i = close + 3
            continue
        if char in "\"'`":
            quote = char
        elif styles.hash and char == "#" and spaced and not re.match(r"#[\w\[{!]", line[i:]):
            break
        elif styles.slash and two == "//" and (spaced or not styles.loose):
            break
        elif styles.slash and two == "/*":
            in_block, i = True, i + 2
            continue
        elif (
            styles.dash
            and two == "--"
            and spaced
            and (not styles.loose or line[i + 2 : i + 3] in " ")
        ):
            break
        out.append(char)
        i += 1
    return "".join(out), in_block


def _tokens(line: str) -> list[str]:
    tokens = []
    for token in _TOKEN.findall(line):
        if token in ("...", "…"):
            tokens.append(_WILD)
        elif token[0] in "\"'":
            tokens.append(" ".join(token.split()))
        elif len(token) == 1 and unicodedata.category(token) in ("So", "Sk", "Cf", "Mn"):
            continue  # a marker: ✅, ❌, the variation selector of ⚠️
        else:
            tokens.append(token)
    return tokens


def _unified(text: str) -> list[str]:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _file_lines(text: str, styles: _Styles) -> list[tuple[int, list[str]]]:
    """(1-based line number, tokens) of every line that holds code."""
    result: list[tuple[int, list[str]]] = []
    in_block = False
    for number, line in enumerate(_unified(text), start=1):
        code, in_block = _strip_comments(line, styles, in_block)
        tokens = [t for t in _tokens(code) if t != _WILD]
        if tokens:
            result.append((number, tokens))
    return result


def _segments(snippet: str, styles: _Styles) -> list[tuple[list[str], list[int]]]:
    """The snippet's segments between elision lines: tokens, and each token's line within
    its segment."""
    segments: list[tuple[list[str], list[int]]] = [([], [])]
    in_block = False
    row = 0
    for line in _unified(snippet):
        folded = " ".join(line.split())
        if not in_block and (_ELISION.match(folded) or _LOCATION.match(folded)):
            if segments[-1][0]:
                segments.append(([], []))
                row = 0
            continue
        code, in_block = _strip_comments(line, styles, in_block)
        tokens = _tokens(code)
        if [t for t in tokens if t != _WILD]:
            segments[-1][0].extend(tokens)
            segments[-1][1].extend([row] * len(tokens))
            row += 1
    segments = [s for s in segments if any(t != _WILD for t in s[0])]
    if not segments:
        raise GitError(
            "the code snippet has no code lines (only blank lines, comments or elisions)"
        )
    return segments


# --- searching -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Indexed:
    raw: tuple[str, ...]
    lines: tuple[tuple[int, tuple[str, ...]], ...]
    where: dict[str, list[int]]
    counts: Counter


@lru_cache(maxsize=8)
def _indexed(text: str, styles: _Styles) -> _Indexed:
    """A file's code lines and, per token, the code lines holding it (kept for the few texts
    one claim compares several snippets with)."""
    lines = tuple((n, tuple(t)) for n, t in _file_lines(text, styles))
    where: dict[str, list[int]] = defaultdict(list)
    for index, (_, tokens) in enumerate(lines):
        for token in set(tokens):
            where[token].append(index)
    counts = Counter({token: len(found) for token, found in where.items()})
    return _Indexed(tuple(_unified(text)), lines, dict(where), counts)


def _starts(indexed: _Indexed, tokens: list[str], offsets: list[int], after: int) -> list[int]:
    """Candidate first code lines for a segment: where its rarest words vote for it."""
    votes: Counter = Counter()
    seen: set[str] = set()
    ranked = sorted(
        # Words anchor a window; punctuation is everywhere.
        (
            (indexed.counts[t], t, k)
            for t, k in zip(tokens, offsets, strict=True)
            if _weight([t]) == 1
        ),
        key=lambda item: (item[0] == 0, item[0], -len(item[1])),
    )
    for count, token, row in ranked:
        if count == 0 or len(seen) >= _ANCHOR_TOKENS:
            break
        if token in seen:
            continue
        seen.add(token)
        for line in indexed.where[token][:400]:
            if line - row >= after - SLACK:
                votes[max(line - row, after)] += 1
    return [start for start, _ in votes.most_common(_CANDIDATES)]


def _best_window(
    indexed: _Indexed, tokens: list[str], offsets: list[int], after: int
) -> tuple[float, int, int] | None:
    """The best-scoring (score, first code line, last code line) for one segment, starting
    at or after code line ``after``; None when no line shares a token."""
    height = offsets[-1] + 1
    best: tuple[float, int, int] | None = None
    for start in _starts(indexed, tokens, offsets, after):
        first = max(after, start - SLACK)
        last = min(len(indexed.lines), start + height + SLACK)
        found = _score(indexed, tokens, first, last)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
            if best[0] >= 1.0:
                break  # an exact match: no window can do better
    return best


def _score(
    indexed: _Indexed, tokens: list[str], first: int, last: int, *, narrow: bool = True
) -> tuple | None:
    """Score ``tokens`` against code lines ``first``..``last`` (exclusive), narrowed to the
    lines the match actually uses unless ``narrow`` is False."""
    aligned = _align(indexed, tokens, first, last)
    if aligned is None:
        return None
    window, owner, matcher, blocks, lo, hi = aligned
    span = window
    if narrow:
        # Narrow to whole lines from the first to the last matched one, then score that span.
        j1 = owner.index(lo)
        j2 = len(owner) - owner[::-1].index(hi)
        span = window[j1:j2]
        matcher = SequenceMatcher(None, tokens, span, autojunk=False)
    matched = absorbed = 0.0
    for tag, i1, i2, k1, k2 in matcher.get_opcodes():
        if tag == "equal":
            matched += _weight(tokens[i1:i2])
        elif _WILD in tokens[max(i1 - 1, 0) : i2 + 1]:
            absorbed += _weight(span[k1:k2])
    size = _weight(tokens) + _weight(span) - absorbed
    return (2 * matched / size if size else 0.0), lo, hi


def _weight(tokens: list[str]) -> float:
    """Words and literals count 1, punctuation :data:`PUNCTUATION`: brackets and dots
    agree between most statements and would otherwise lift unrelated code to the threshold."""
    return sum(
        0.0 if t == _WILD else 1.0 if t[0].isalnum() or t[0] in "_\"'" else PUNCTUATION
        for t in tokens
    )


def _excerpt(raw: tuple[str, ...], start: int, end: int) -> str:
    lines = list(raw[start - 1 : min(end, start - 1 + SPAN_LINES)])
    text = "\n".join(lines)
    if end - start + 1 > SPAN_LINES or len(text) > SPAN_CHARS:
        text = text[:SPAN_CHARS].rstrip() + "\n…"
    return text
