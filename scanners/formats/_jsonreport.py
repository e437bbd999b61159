"""Reading scanners' native JSON reports: one streaming pass, a look at the head, typed fields.

Shared by the native-JSON parsers (bandit, ruff, semgrep, pip-audit, gitleaks); it is not a
format itself, hence the leading underscore (the registry never lists it).

* :class:`JsonReport` streams one JSON document once: it yields the elements of one array (the
  results) as they complete, through ijson's C backend, and on the way hands the few small
  values a parser also wants (a version, a timestamp, the list of errors) to callbacks. Memory
  holds one result at a time, whatever the size of the report.
* :func:`head_shape` reads the first bytes a ``sniff`` gets (cut anywhere, perhaps with a BOM)
  into the keys seen at each place, so a ``sniff`` can decide on structure, not on substrings.
* :class:`Fields` reads one JSON object with typed accessors; every mistake becomes a
  :class:`~scanners.base.ParseError` naming the file, the JSON path and what was expected.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, overload

import ijson

from scanners.base import MAX_POSITION, ByteStream, ParseError

BOM = codecs.BOM_UTF8
CHUNK = 64 * 1024
MAX_DEPTH = 128
"""How deeply a native JSON report may nest. No tool writes more than a dozen levels; past this
a document is refused. ijson names every event's place (``results.item.more.item...``), a
text that grows with the depth, for a whole buffer of events at a time: reading 4 KiB at a
time and stopping at this depth keeps that linear in the size of the report (at most a few
tens of MB), where an unbounded depth made it quadratic (gigabytes)."""
IJSON_BUF = 4096
_SHAPE_DEPTH = 8  # how deep ``head_shape`` records keys: sniffers look a few levels down
_BRACKETS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
_WHITESPACE = b" \t\r\n"
_STARTS = frozenset(
    {"start_map", "start_array", "null", "boolean", "integer", "double", "number", "string"}
)


def describe(value: object) -> str:
    """A short phrase naming a JSON value's type, for error messages (``text "ten"``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'text "{shown}"'
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def kind_of(value: object) -> str:
    """The type of a JSON value without its content, for messages about values that may be
    secret (``text``, ``a number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return describe(value)


_EVENT_NAMES = {
    "start_map": "an object",
    "start_array": "a list",
    "null": "null",
    "boolean": "a boolean",
    "integer": "a number",
    "double": "a number",
    "number": "a number",
    "string": "text",
}


class ReportBytes:
    """A file-like ``read`` over the report that drops a leading BOM and checks UTF-8 as it goes.

    ``first`` is the first byte of the document after the BOM and whitespace (``b""`` when the
    file is empty), for parsers whose format has two shapes (pip-audit: a list or an object).

    yajl only notices bad UTF-8 inside strings and cannot say where; decoding each chunk here
    (and discarding the text) gives the exact byte of the first bad sequence.
    """

    def __init__(self, stream: ByteStream, *, source: str) -> None:
        self._stream = stream
        self._source = source
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.offset = 0  # bytes of the file consumed so far
        self._pending = self._stream.read(CHUNK)
        if self._pending.startswith(BOM):
            self._pending = self._pending[len(BOM) :]
            self.offset = len(BOM)
        self.first = self._pending.lstrip(_WHITESPACE)[:1]
        while not self.first and self._pending:
            # a report that starts with more than a chunk of whitespace: skip it
            self.offset += len(self._pending)
            self._pending = self._stream.read(CHUNK)
            self.first = self._pending.lstrip(_WHITESPACE)[:1]

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) to learn bytes from text
            return b""
        if self._pending:
            cut = len(self._pending) if size is None or size < 0 else size
            data, self._pending = self._pending[:cut], self._pending[cut:]
        else:
            data = self._stream.read(size if size and size > 0 else CHUNK)
        held = len(self._decoder.getstate()[0])  # an unfinished sequence from the last chunk
        try:
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            byte = self.offset - held + exc.start
            if not data:
                problem = "the file ends early, in the middle of a UTF-8 character"
            elif byte == 0 and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                problem = "the file is UTF-16 encoded: a report must be UTF-8 encoded JSON"
            else:
                problem = f"invalid UTF-8 at byte {byte}: a report must be UTF-8 encoded JSON"
            raise ParseError(problem, where=f"byte {byte}", source=self._source) from None
        self.offset += len(data)
        return data


class JsonReport:
    """One pass over a JSON report, yielding the elements of the array at ``items``.

    ``items`` is an ijson prefix: ``"results.item"`` for ``{"results": [...]}``, ``"item"`` for
    a top-level list. ``top`` names the acceptable top-level values (ijson start events:
    ``"start_map"``, ``"start_array"``, ``"null"``); ``what`` says in words what the report
    should be, for the error raised otherwise. ``values`` maps other ijson prefixes to callbacks
    receiving each complete value found there (keep them small: they are built in memory);
    ``keys`` maps prefixes of objects to callbacks receiving each key of that object, without
    building its values (bandit's per-file metrics).

    After :meth:`items` is exhausted, ``top_keys`` holds the top-level keys seen, so a parser
    can tell "no results" from "no ``results`` key".
    """

    def __init__(
        self,
        stream: ByteStream | ReportBytes,
        *,
        source: str,
        items: str,
        top: tuple[str, ...],
        what: str,
        values: Mapping[str, Callable[[Any], None]] | None = None,
        keys: Mapping[str, Callable[[str], None]] | None = None,
    ) -> None:
        self.source = source
        self.what = what
        self._reader = (
            stream if isinstance(stream, ReportBytes) else ReportBytes(stream, source=source)
        )
        self._items = items
        self._container_prefix = items.rpartition(".")[0] if "." in items else ""
        self._top = top
        self._values = dict(values or {})
        self._keys = dict(keys or {})
        self.top_keys: list[str] = []
        self._prefix = ""
        self._index = -1
        self._top_seen = False

    def fail(self, message: str, where: str) -> ParseError:
        """A ParseError about this report (raise it)."""
        return ParseError(message, where=where, source=self.source)

    def item_path(self, index: int) -> str:
        """The JSON path of element ``index`` of the streamed array (``results[3]``)."""
        return f"{self._container_prefix}[{index}]"

    def items(self) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, value)`` for each element of the array, as each one completes."""
        if not self._reader.first:
            raise self.fail(f"the file is empty: expected {self.what}", "byte 0")
        events = self._tap(ijson.parse(self._reader, buf_size=IJSON_BUF, use_float=True))
        try:
            yield from enumerate(ijson.items(events, self._items))
        except ijson.JSONError as exc:
            raise self._syntax_error(exc) from None

    def _tap(self, events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
        """Pass every event on to ijson, noting the place and feeding the side callbacks."""
        building: ijson.ObjectBuilder | None = None
        depth = 0
        target: Callable[[Any], None] | None = None
        items, container = self._items, self._container_prefix
        values, keys = self._values, self._keys
        nesting = 0
        for event_tuple in events:
            prefix, event, value = event_tuple
            self._prefix = prefix
            if event in ("start_map", "start_array"):
                nesting += 1
                if nesting > MAX_DEPTH:
                    raise self.fail(too_deep(self._reader.offset), self._place())
            elif event in ("end_map", "end_array"):
                nesting -= 1
            if building is not None:
                building.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if depth == 0:
                    target(building.value)  # type: ignore[misc]
                    building = None
            elif prefix == items:
                if event in _STARTS:
                    self._index += 1
            elif prefix == "":
                if event == "map_key":
                    self.top_keys.append(value)
                elif not self._top_seen:
                    self._top_seen = True
                    self._check_top(event)
            if container and prefix == container and event in _STARTS:
                self._check_container(event)
            if building is None and prefix in values and event in _STARTS:
                target = values[prefix]
                if event in ("start_map", "start_array"):
                    building = ijson.ObjectBuilder()
                    building.event(event, value)
                    depth = 1
                else:
                    target(value)
            elif event == "map_key" and prefix in keys:
                keys[prefix](value)
            yield event_tuple

    def _check_top(self, event: str) -> None:
        if event not in self._top:
            raise self.fail(
                f"expected {self.what}, found {_EVENT_NAMES.get(event, event)} at the top level",
                "the top level",
            )

    def _check_container(self, event: str) -> None:
        if event != "start_array":
            raise self.fail(
                f"`{self._container_prefix}` should be a list, found "
                f"{_EVENT_NAMES.get(event, event)}",
                self._container_prefix,
            )

    def _place(self) -> str:
        """Where the parser is: ``results[12].code`` inside the streamed array, else the
        top-level key (deeper ijson prefixes outside it are ambiguous when keys hold dots)."""
        prefix = self._prefix
        if prefix == self._items or prefix.startswith(self._items + "."):
            rest = prefix[len(self._items) :].replace(".item", "[]")
            if len(rest) > 80:  # a deep place: its start says enough
                rest = rest[:77] + "..."
            return f"{self.item_path(max(self._index, 0))}{rest}"
        if not prefix:
            return "the top level"
        return prefix.split(".", 1)[0] if not prefix.startswith("item") else "[]"

    def _syntax_error(self, exc: Exception) -> ParseError:
        detail = exc.args[0] if exc.args else str(exc)
        if isinstance(detail, bytes):  # yajl quotes the offending text, sometimes as bytes
            detail = detail.decode("utf-8", "replace")
        detail = str(detail)
        first_line = detail.strip().splitlines()[0] if detail.strip() else "invalid JSON"
        place = self._place()
        inside = f", inside {place}" if place != "the top level" else ""
        if "premature EOF" in first_line:
            return self.fail(f"the file ends early{inside}: the JSON is cut short", place)
        if "trailing garbage" in first_line:
            return self.fail(
                "unexpected data after the end of the JSON document: expected one JSON "
                "document, not several (JSON Lines is not this format)",
                "the top level",
            )
        return self.fail(f"invalid JSON{inside}: {first_line}", place)


class Fields:
    """One JSON object of a report, read with typed accessors that raise a clear ParseError.

    ``where`` is the object's JSON path (``results[3]``); errors name ``results[3].line_number``.
    """

    __slots__ = ("data", "where", "source")

    def __init__(self, value: Any, *, where: str, source: str, what: str = "an object") -> None:
        if not isinstance(value, dict):
            raise ParseError(
                f"expected {what}, found {describe(value)}", where=where, source=source
            )
        self.data: dict[str, Any] = value
        self.where = where
        self.source = source

    def fail(self, key: str, message: str) -> ParseError:
        return ParseError(message, where=f"{self.where}.{key}", source=self.source)

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                raise ParseError(
                    f"missing the required key `{key}`", where=self.where, source=self.source
                )
            return None
        return self.data[key]

    def has(self, key: str) -> bool:
        return key in self.data

    def require(self, key: str) -> None:
        """Fail unless ``key`` is present (for keys whose value may legitimately be null)."""
        self._get(key, True)

    def raw(self, key: str) -> Any:
        """The value as it is (None when absent), for fields read leniently."""
        return self.data.get(key)

    def text(self, key: str, *, required: bool = False) -> str:
        """A string; ``""`` when absent or null (unless required)."""
        value = self._get(key, required)
        if value is None:
            if required and key in self.data:
                raise self.fail(key, f"`{key}` should be text, found null")
            return ""
        if not isinstance(value, str):
            raise self.fail(key, f"`{key}` should be text, found {describe(value)}")
        return value

    @overload
    def whole(self, key: str, *, required: Literal[True]) -> int: ...
    @overload
    def whole(self, key: str, *, required: bool = False) -> int | None: ...
    def whole(self, key: str, *, required: bool = False) -> int | None:
        """A whole number (not a boolean) from 0 to MAX_POSITION; None when absent or null
        (unless required)."""
        value = self._get(key, required)
        if value is None:
            if required and key in self.data:
                raise self.fail(key, f"`{key}` should be a whole number, found null")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if not (isinstance(value, float) and value.is_integer()):
                raise self.fail(key, f"`{key}` should be a whole number, found {describe(value)}")
            value = int(value)
        # Every whole number these reports hold is a line, a column or a cell: a position.
        if not 0 <= value <= MAX_POSITION:
            raise self.fail(
                key, f"`{key}` is {value}; expected a position from 0 to {MAX_POSITION:,}"
            )
        return value

    def number(self, key: str) -> float | None:
        """Any number; None when absent or null."""
        value = self._get(key, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"`{key}` should be a number, found {describe(value)}")
        return value

    def obj(self, key: str, *, required: bool = False) -> Fields:
        """A nested object; an empty one when absent or null (unless required)."""
        value = self._get(key, required)
        if value is None and not (required and key in self.data):
            value = {}
        return Fields(
            value, where=f"{self.where}.{key}", source=self.source, what=f"`{key}` to be an object"
        )

    def texts(self, key: str) -> list[str]:
        """A list of strings; ``[]`` when absent or null. A lone string counts as a list of one."""
        value = self._get(key, False)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise self.fail(key, f"`{key}` should be a list of text, found {describe(value)}")
        for index, entry in enumerate(value):
            if not isinstance(entry, str):
                raise ParseError(
                    f"`{key}` should hold text, found {describe(entry)}",
                    where=f"{self.where}.{key}[{index}]",
                    source=self.source,
                )
        return value

    def array(self, key: str, *, required: bool = False) -> list[Any]:
        """A list of anything; ``[]`` when absent or null (unless required)."""
        value = self._get(key, required)
        if value is None and not (required and key in self.data):
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"`{key}` should be a list, found {describe(value)}")
        return value


@dataclass(frozen=True, slots=True)
class HeadShape:
    """What the first bytes of a report show of its structure.

    ``top`` is the kind of the top-level value (``"map"``, ``"array"``, ``"null"``, ``"scalar"``)
    or None when the head is not JSON at all. ``keys`` maps ijson prefixes (``""`` for the top
    level, ``"item"`` for the elements of a top-level list, ``"results.item"``) to every key seen
    in objects there. ``sizes`` maps the prefix of each array that was seen to end to its number
    of elements. ``complete`` is true when the whole document is in the head and is valid JSON.
    """

    top: str | None
    keys: Mapping[str, frozenset[str]]
    sizes: Mapping[str, int]
    complete: bool

    def keys_at(self, prefix: str) -> frozenset[str]:
        return self.keys.get(prefix, frozenset())

    def is_empty_list(self) -> bool:
        """The whole document is an empty list (``[]`` with any whitespace)."""
        return self.complete and self.top == "array" and self.sizes.get("") == 0


_TOP_KINDS = {"start_map": "map", "start_array": "array", "null": "null"}


@lru_cache(maxsize=8)
def head_shape(head: bytes) -> HeadShape:
    """The structure visible in ``head`` (cached: every parser's sniff asks about one head)."""
    data = head[len(BOM) :] if head.startswith(BOM) else head
    deep = deepest_at(data)
    if deep is not None:
        data = data[:deep]  # judged on what lies above the cap; the parser will refuse it
    keys: dict[str, set[str]] = {}
    open_counts: dict[str, int] = {}
    sizes: dict[str, int] = {}
    top: str | None = None
    complete = False
    depth = 0
    try:
        for prefix, event, value in ijson.parse(data, buf_size=IJSON_BUF):
            if top is None:
                top = _TOP_KINDS.get(event, "scalar")
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
            if depth > _SHAPE_DEPTH:
                continue  # deep places say nothing of the format; keeping them costs memory
            if event == "map_key":
                keys.setdefault(prefix, set()).add(value)
            elif event == "start_array":
                open_counts[prefix] = 0
            elif event == "end_array":
                sizes[prefix] = open_counts.pop(prefix, 0)
            if event in _STARTS and (prefix == "item" or prefix.endswith(".item")):
                parent = prefix[: -len("item")].rstrip(".")
                if parent in open_counts:
                    open_counts[parent] += 1
        complete = top is not None
    except ijson.JSONError:
        pass  # the head is cut short (or is not JSON): judge on what was read
    return HeadShape(
        top=top,
        keys={prefix: frozenset(found) for prefix, found in keys.items()},
        sizes=sizes,
        complete=complete,
    )


def too_deep(offset: int, limit: int = MAX_DEPTH) -> str:
    """The message for JSON nested past ``limit`` levels, found by byte ``offset``."""
    return (
        f"the JSON is nested more than {limit:,} levels deep (by byte {offset:,}); a report "
        f"may nest at most {limit:,} levels"
    )


def deepest_at(data: bytes, limit: int = MAX_DEPTH) -> int | None:
    """The byte offset in ``data`` where JSON nesting first passes ``limit`` levels, or None.

    One pass, strings stepped over whole (a bracket inside a string does not count), so the
    cost is linear in ``len(data)`` whatever the depth.
    """
    depth = 0
    for match in _BRACKETS.finditer(data):
        char = data[match.start()]
        if char in b"[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif char in b"]}":
            depth -= 1
    return None
