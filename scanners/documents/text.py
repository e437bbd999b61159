"""Bytes to clean text: size and binary checks, UTF-8 decoding, and mojibake repair.

Handoff documents are often UTF-8 that some tool read as cp1252 or Mac Roman and saved
again as UTF-8 ("âœ…" or "‚úÖ" for "✅"). The repair re-encodes each run of such
characters with the guilty code page and decodes it as UTF-8 again, one UTF-8 sequence at a
time, so genuine accented letters next to the damage survive. cp1252 has five undefined
bytes that such tools usually drop; a sequence missing exactly one of them is completed when
that yields a real character (the "ï¸" left from U+FE0F is the common case). A code page is
only applied when it repairs at least one multi-byte sequence of three bytes or more (emoji,
arrows, curly quotes) and ftfy's badness measure agrees the result is cleaner.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import ftfy.bad_codecs  # noqa: F401  registers the "sloppy-windows-1252" codec
from ftfy.badness import badness

from scanners.base import ParseError

MAX_BYTES = 5 * 1024 * 1024
_CODEPAGES = (("cp1252", "sloppy-windows-1252"), ("mac_roman", "mac_roman"))
# Bytes cp1252 leaves undefined; tools that read UTF-8 as cp1252 tend to drop them.
_CP1252_HOLES = (0x8F, 0x81, 0x8D, 0x90, 0x9D)
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v", "\x1b"}
# ASCII control characters other than the allowed ones: a sign of binary data.
_BINARY_RE = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A document's text with CRLF/CR turned into LF, and how it was repaired if at all."""

    text: str
    repaired: bool
    encoding_repair: str | None
    repairs: int


def decode(data: bytes, *, source: str) -> DecodedText:
    """Decode a document, refusing what is not a text document with a ``ParseError``.

    Refused: more than ``MAX_BYTES``; empty or blank input; NUL bytes or other binary
    control bytes; bytes that are not UTF-8 (the error names the first bad byte offset).
    """
    if len(data) > MAX_BYTES:
        raise ParseError(
            f"document is {len(data)} bytes, over the {MAX_BYTES} byte limit", source=source
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ParseError(
            "a NUL character (byte 0x00): a Markdown or plain-text document holds none; "
            "remove it (or, if this is binary data, upload a document instead)",
            where=f"byte {nul}",
            source=source,
        )
    bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"byte 0x{data[bom + exc.start]:02x} is not valid UTF-8; expected a UTF-8 text "
            "document",
            where=f"byte {bom + exc.start}",
            source=source,
        ) from exc
    bad = _BINARY_RE.search(text)
    if bad:
        ch = bad.group(0)
        raise ParseError(
            f"control character U+{ord(ch):04X}: this looks like binary data, expected a "
            "Markdown or plain-text document",
            where=f"byte {bom + len(text[: bad.start()].encode('utf-8'))}",
            source=source,
        )
    if not text.strip():
        raise ParseError("the document is empty", source=source)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return repair(text)


def repair(text: str) -> DecodedText:
    """Undo UTF-8 that was read as cp1252 or Mac Roman, when the text shows it happened."""
    best: tuple[int, int, str, str] | None = None
    for name, codec in _CODEPAGES:
        fixed, strong, total = _repair_with(text, codec, holes=name == "cp1252")
        if strong and (best is None or strong > best[0]):
            best = (strong, total, name, fixed)
    if best is None or badness(best[3]) > badness(text):
        return DecodedText(text=text, repaired=False, encoding_repair=None, repairs=0)
    strong, total, name, fixed = best
    # Text damaged twice shows a second layer once the first is gone.
    second, strong2, total2 = _repair_with(fixed, _codec(name), holes=name == "cp1252")
    if strong2 and badness(second) <= badness(fixed):
        fixed, total = second, total + total2
    return DecodedText(text=fixed, repaired=True, encoding_repair=name, repairs=total)


def _codec(name: str) -> str:
    return dict(_CODEPAGES)[name]


def _encodable(ch: str, codec: str) -> bytes | None:
    if ord(ch) < 0x80:
        return None
    try:
        b = ch.encode(codec)
    except UnicodeEncodeError:
        return None
    return b if len(b) == 1 and b[0] >= 0x80 else None


@cache
def _run_re(codec: str) -> re.Pattern[str]:
    """Runs of the characters a code page puts on bytes 0x80-0xFF."""
    chars = "".join(c for c in map(chr, range(0x80, 0x10000)) if _encodable(c, codec))
    return re.compile(f"[{re.escape(chars)}]+")


def _repair_with(text: str, codec: str, *, holes: bool) -> tuple[str, int, int]:
    """``text`` with every decodable run repaired; counts of long and of all repairs."""
    counts = [0, 0]

    def fix(m: re.Match[str]) -> str:
        run = m.group(0)
        fixed, strong, total = _decode_run(run, run.encode(codec), holes=holes)
        counts[0] += strong
        counts[1] += total
        return fixed

    repaired = _run_re(codec).sub(fix, text)
    return repaired, counts[0], counts[1]


def _seq_len(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _decode_run(chars: str, raw: bytes, *, holes: bool) -> tuple[str, int, int]:
    out: list[str] = []
    strong = total = 0
    k = 0
    while k < len(raw):
        size = _seq_len(raw[k])
        decoded = _try_decode(raw[k : k + size]) if size and k + size <= len(raw) else None
        if decoded is not None:
            out.append(decoded)
            strong += size >= 3
            total += 1
            k += size
            continue
        if size >= 3 and holes:
            patched = _fill_hole(raw[k : k + size - 1])
            if patched is not None:
                out.append(patched)
                strong += 1
                total += 1
                k += size - 1
                continue
        out.append(chars[k])
        k += 1
    return "".join(out), strong, total


def _try_decode(seq: bytes) -> str | None:
    try:
        ch = seq.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return ch if _real(ch) else None


def _fill_hole(short: bytes) -> str | None:
    """Complete a sequence one byte short with a cp1252 hole byte, end position first."""
    if not all(0x80 <= b <= 0xBF for b in short[1:]):
        return None
    for pos in range(len(short), 0, -1):
        for hole in _CP1252_HOLES:
            ch = _try_decode(short[:pos] + bytes([hole]) + short[pos:])
            if ch is not None:
                return ch
    return None


def _real(ch: str) -> bool:
    return all(unicodedata.category(c) not in {"Cn", "Co", "Cs", "Cc"} for c in ch)


def looks_like_text(head: bytes) -> bool:
    """Whether the first bytes of a file look like a human-written text document."""
    if not head.strip() or b"\x00" in head:
        return False
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    stripped = body.lstrip()
    if stripped[:1] in (b"{", b"[", b"<"):
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may cut a multi-byte character in two; anything earlier is real damage.
        if exc.start < len(body) - 3:
            return False
        text = body[: exc.start].decode("utf-8")
    controls = sum(
        1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS
    )
    return controls == 0 and any(ch.isalpha() for ch in text)
