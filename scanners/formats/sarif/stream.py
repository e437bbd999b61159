"""A forward-only reader over one JSON document in a binary stream.

It walks the skeleton of a document (objects key by key, arrays element by element) and hands
over each value as a Python object, so a caller holds one array element at a time however big
the array is. Elements of a large array are cut out by guessing where each one ends — the bytes
that separate the first two elements, plus the first key of an element, usually recur between
every pair — and parsed by orjson, which only accepts a slice that is exactly one complete
value. A wrong guess falls back to the standard library's ``raw_decode``, so guessing can make
reading slower, never wrong. ``skip_array`` uses the same guess to jump over an array without
parsing it; a caller that needs certainty re-reads with ``careful=True``.

Errors are :class:`~scanners.base.ParseError` naming the JSON path and the byte offset.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

import orjson

from scanners.base import ByteStream, ParseError
from scanners.formats._jsonreport import too_deep

_CHUNK = 1 << 20
MAX_DEPTH = 900
"""How deeply a SARIF value may nest: orjson stops at 1,024 levels and the standard library's
decoder, its fallback, at Python's recursion limit (1,000 frames); both stop in linear time."""
_FIRST_WINDOW = 1 << 16
_WS = re.compile(rb"[ \t\r\n]*")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# An element's opening brace and first key: the recurring part of the boundary guess.
_FIRST_KEY = re.compile(rb'\{[ \t\r\n]*"((?:[^"\\]|\\.){0,200})"[ \t\r\n]*:', re.DOTALL)
_KINDS = {
    ord("{"): "an object",
    ord("["): "a list",
    ord('"'): "a string",
    ord("t"): "a boolean",
    ord("f"): "a boolean",
    ord("n"): "null",
}


class _Constant(ValueError):
    """NaN and Infinity are accepted by ``json`` but are not JSON."""


def _reject_constant(name: str) -> None:
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def describe(first: int) -> str:
    """What kind of JSON value starts with the byte ``first`` (for error messages)."""
    if first in _KINDS:
        return _KINDS[first]
    if first == ord("-") or ord("0") <= first <= ord("9"):
        return "a number"
    return f"not JSON (it starts with {bytes([first])!r})"


class JsonReader:
    """Cursor over the JSON document in ``stream``; ``source`` names it in errors."""

    def __init__(self, stream: ByteStream, *, source: str) -> None:
        self.source = source
        self._stream = stream
        self._buf = b""
        self._pos = 0  # cursor, relative to _buf
        self._base = stream.tell()  # absolute offset of _buf[0]
        self._eof = False

    # -- position ---------------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Absolute byte offset of the cursor."""
        return self._base + self._pos

    def seek(self, offset: int) -> None:
        """Move the cursor to an absolute byte offset found earlier with :attr:`offset`."""
        self._stream.seek(offset)
        self._buf, self._pos, self._base, self._eof = b"", 0, offset, False

    def start(self) -> None:
        """Step over a UTF-8 byte order mark; refuse UTF-16 and UTF-32."""
        self._ensure(4)
        head = self._buf[self._pos : self._pos + 4]
        if head.startswith(codecs.BOM_UTF8):
            self._pos += 3
        elif head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or (
            len(head) >= 2 and (head[0] == 0 or head[1] == 0)
        ):
            raise self.error("the file is UTF-16 or UTF-32; a SARIF log must be UTF-8", "byte 0")

    # -- errors -----------------------------------------------------------------------------

    def error(self, message: str, where: str) -> ParseError:
        return ParseError(message, where=where, source=self.source)

    def _early_end(self, where: str) -> ParseError:
        inside = f", inside {where}" if where else ""
        return self.error(f"the file ends early{inside} (truncated JSON)", where or "end of file")

    # -- buffer -----------------------------------------------------------------------------

    def _ensure(self, size: int) -> int:
        """Buffer at least ``size`` bytes past the cursor unless the stream ends first."""
        while len(self._buf) - self._pos < size and not self._eof:
            chunk = self._stream.read(max(_CHUNK, size))
            if not chunk:
                self._eof = True
                break
            self._base += self._pos
            self._buf = self._buf[self._pos :] + chunk
            self._pos = 0
        return len(self._buf) - self._pos

    def peek(self, where: str) -> int:
        """The next non-blank byte, without consuming it; the file must not end here."""
        first = self._peek_or_end()
        if first < 0:
            raise self._early_end(where)
        return first

    def _peek_or_end(self) -> int:
        while True:
            blanks = _WS.match(self._buf, self._pos)
            assert blanks is not None  # the pattern matches the empty string too
            self._pos = blanks.end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._ensure(1):
                return -1

    def expect(self, char: bytes, where: str, what: str) -> None:
        """Consume ``char`` (after blanks) or fail saying ``where`` should hold ``what``."""
        first = self.peek(where)
        if first != char[0]:
            raise self.error(f"expected {what}, found {describe(first)}", where)
        self._pos += 1

    def expect_end(self) -> None:
        """Only blanks may follow the document."""
        if self._peek_or_end() >= 0:
            raise self.error("unexpected data after the end of the JSON document", self._at())

    def _at(self) -> str:
        return f"byte {self.offset}"

    # -- objects ----------------------------------------------------------------------------

    def iter_object(self, where: str) -> Iterator[str]:
        """Consume an object key by key; the caller consumes each value before resuming."""
        self.expect(b"{", where, "an object")
        if self.peek(where) == ord("}"):
            self._pos += 1
            return
        while True:
            key = self._key(where)
            yield key
            first = self.peek(where)
            if first == ord(","):
                self._pos += 1
            elif first == ord("}"):
                self._pos += 1
                return
            else:
                place = f"{where}.{key}" if where else key
                raise self.error(
                    f"not valid JSON at byte {self.offset}: expected ',' or '}}' after {place}",
                    place,
                )

    def _key(self, where: str) -> str:
        if self.peek(where) != ord('"'):
            raise self.error(
                f"not valid JSON at byte {self.offset}: expected a quoted property name", where
            )
        window = 256
        while True:
            self._ensure(window)
            match = _STRING.match(self._buf, self._pos)
            if match or self._eof:
                break
            window *= 4
        if not match:
            raise self._early_end(where)
        token = match.group()
        try:
            key = orjson.loads(token)
        except orjson.JSONDecodeError as exc:
            raise self.error(
                f"a property name at byte {self.offset} is not valid: {exc}", where
            ) from None
        self._pos = match.end()
        self.expect(b":", where, f"':' after the property name {key!r}")
        return key

    # -- values -----------------------------------------------------------------------------

    def read_value(self, where: str) -> Any:
        """Parse the value at the cursor, whatever its size, and step past it."""
        self.peek(where)
        window = _FIRST_WINDOW
        previous: tuple[int, str] | None = None
        while True:
            self._ensure(window)
            start = self._pos
            chunk = self._buf[start : start + window]
            whole = self._eof and start + window >= len(self._buf)
            bad_byte = -1
            try:
                text = codecs.getincrementaldecoder("utf-8")().decode(chunk, final=whole)
            except UnicodeDecodeError as exc:
                # The value may end before the bad byte; read the valid part and see.
                bad_byte = self._base + start + exc.start
                text = chunk[: exc.start].decode("utf-8")
            try:
                value, end = _DECODER.raw_decode(text)
            except json.JSONDecodeError as exc:
                if bad_byte >= 0:
                    raise self.error(
                        f"the file is not valid UTF-8 at byte {bad_byte} (SARIF logs are UTF-8)",
                        where,
                    ) from None
                failure = (exc.pos, exc.msg)
                truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(text)
                if whole:
                    if truncated:
                        raise self._early_end(where) from None
                    raise self._syntax(exc.msg, start, text, exc.pos, where) from None
                if failure == previous and not truncated:
                    raise self._syntax(exc.msg, start, text, exc.pos, where) from None
                previous = failure
                window *= 4
                continue
            except _Constant as exc:
                raise self.error(f"{exc} is not allowed in JSON", where) from None
            except RecursionError:
                raise self.error(too_deep(self._base + start, MAX_DEPTH), where) from None
            self._pos = start + (end if text.isascii() else len(text[:end].encode()))
            return value

    def _syntax(self, message: str, start: int, text: str, char: int, where: str) -> ParseError:
        offset = self._base + start + len(text[:char].encode())
        return self.error(f"not valid JSON at byte {offset}: {message}", where)

    def skip_value(self, where: str) -> None:
        """Step past the value at the cursor; lists are jumped over without parsing them."""
        if self.peek(where) == ord("["):
            self.skip_array(where)
        else:
            self.read_value(where)

    # -- arrays -----------------------------------------------------------------------------

    def iter_array(self, where: str) -> Iterator[tuple[int, Any]]:
        """Consume a list, yielding ``(index, element)``; one element is in memory at a time."""
        yield from self._walk(where, parse=True)

    def skip_array(self, where: str, *, careful: bool = False) -> None:
        """Step past a list. Unless ``careful``, elements are jumped over by the boundary
        guess without being parsed: fast, but a pathological list can mislead it, which shows
        up as an error later in the document (re-read with ``careful=True`` to be sure)."""
        for _ in self._walk(where, parse=careful, skip=True):
            pass

    def _walk(self, where: str, *, parse: bool, skip: bool = False) -> Iterator[tuple[int, Any]]:
        self.expect(b"[", where, "a list")
        if self.peek(where) == ord("]"):
            self._pos += 1
            return
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        pattern = b""
        lead = 0  # where the next element starts, counted from the start of a pattern match
        trusted = False  # may a guessed element be skipped without parsing it?
        limit = _FIRST_WINDOW
        index = 0
        first_offset = self.offset
        while True:
            if pattern:
                if len(self._buf) - self._pos < limit:
                    self._ensure(limit)
                buf, pos, eof = self._buf, self._pos, self._eof
                fence = _fence(buf, pos) if trusted else -1
                refill = False
                # The hot loop: one find and (unless jumping) one orjson call per element.
                while True:
                    cut = buf.find(pattern, pos, pos + limit)
                    if cut < 0:
                        break
                    if cut >= fence:
                        try:
                            value = loads(buf[pos : cut + 1])
                        except decode_error:
                            break
                        if not skip:
                            yield index, value
                    index += 1
                    pos = cut + lead
                    if pos > fence >= 0:
                        fence = _fence(buf, pos)
                    if not eof and len(buf) - pos < limit:
                        refill = True
                        break
                self._pos = pos
                if index:
                    # Look a good way past a typical element before giving up on the guess.
                    average = (self.offset - first_offset) // index
                    limit = max(_FIRST_WINDOW, min(8 * average, 1 << 24))
                if refill:
                    continue
            # One element the guess could not cut out: parse it the slow, certain way.
            value = self.read_value(f"{where}[{index}]")
            if not skip:
                yield index, value
            index += 1
            end = self.offset
            first = self.peek(where)
            if first == ord("]"):
                self._pos += 1
                return
            if first != ord(","):
                raise self.error(
                    f"not valid JSON at byte {self.offset}: expected ',' or ']' after "
                    f"{where}[{index - 1}]",
                    f"{where}[{index - 1}]",
                )
            self._pos += 1
            if not pattern:
                pattern, lead, first_key = self._learn(end, where)
                trusted = not parse and first_key in _JUMPABLE_FIRST_KEYS

    def _learn(self, end: int, where: str) -> tuple[bytes, int, bytes]:
        """The bytes from an element's closing brace to the next element's first key, where
        in them the next element starts, and that first key."""
        self.peek(where)
        self._ensure(300)
        relative_end = end - self._base
        if relative_end < 1 or self._buf[relative_end - 1] != ord("}"):
            return b"", 0, b""
        match = _FIRST_KEY.match(self._buf, self._pos)
        if not match or self._pos - relative_end > 256:
            return b"", 0, b""
        pattern = self._buf[relative_end - 1 : match.end()]
        return pattern, self._pos - relative_end + 1, match.group(1)


_MISSING: Any = object()

# Jumping over SARIF results unparsed is safe only if a guessed boundary cannot lie in some
# other list. Results that open with one of these keys can only be confused with the results
# of another run, or with notifications, whose lists sit behind a "results" or "invocations"
# key: a jump never passes one of those fences without being checked. Results that open with
# anything else (say "properties", which any object may have) are always checked.
_JUMPABLE_FIRST_KEYS = frozenset(
    (
        b"ruleId",
        b"ruleIndex",
        b"rule",
        b"fingerprints",
        b"partialFingerprints",
        b"baselineState",
        b"guid",
        b"correlationGuid",
        b"message",
        b"locations",
        b"level",
        b"analysisTarget",
        b"codeFlows",
        b"suppressions",
    )
)
_FENCES = (b'"results"', b'"invocations"')


def _fence(buf: bytes, pos: int) -> int:
    """The first place from ``pos`` where a list other than the current one may begin."""
    found = [at for at in (buf.find(fence, pos) for fence in _FENCES) if at >= 0]
    return min(found) if found else len(buf)
