"""Reading a report file safely: its size, its hash, its encoding, a seekable window on it."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import shutil
from pathlib import Path

_SURROGATE = re.compile("[\ud800-\udfff]")


class IngestError(Exception):
    """An import that did not happen, with the message a user should read.

    The message may quote the report (a version, a key): a NUL or a lone surrogate in it is
    shown as U+FFFD, so that the message can be stored with the failed report."""

    def __init__(self, message: str = "") -> None:
        if not message.isascii() or "\x00" in message:
            message = _SURROGATE.sub("\ufffd", message.replace("\x00", "\ufffd"))
        super().__init__(message)


class ReportTooLarge(IngestError):
    """A report over ``MAX_REPORT_BYTES`` (the API answers it with 413)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def check_size(size: int, name: str, *, limit: int) -> None:
    """Refuse an empty report and one over ``limit`` bytes (the caller's setting,
    ``AUDITDASH_MAX_REPORT_BYTES``, which the message names)."""
    if size == 0:
        raise IngestError(f"{name}: the file is empty; expected a scanner report")
    if size > limit:
        raise ReportTooLarge(
            f"{name}: {size:,} bytes is over the limit of {limit:,} bytes "
            "(AUDITDASH_MAX_REPORT_BYTES)"
        )


class ReportWindow(io.RawIOBase):
    """A read-only, seekable view of a file from ``start`` on, counting how far it was read."""

    def __init__(self, handle, start: int) -> None:
        self.handle = handle
        self.start = start
        self.furthest = 0
        handle.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.furthest = max(self.furthest, self.handle.tell() - self.start)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            return self.handle.seek(self.start + offset) - self.start
        return self.handle.seek(offset, whence) - self.start

    def tell(self) -> int:
        return self.handle.tell() - self.start


def utf8_source(path: Path, name: str, workdir: Path) -> tuple[Path, int]:
    """The file to parse and where its content starts: a UTF-8 BOM skipped, UTF-16/32 re-encoded."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"\xef\xbb\xbf"):
        return path, 3
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif len(head) >= 2 and head[0] in b"{[" and head[1] == 0:
        encoding = "utf-16-le"
    elif len(head) >= 2 and head[0] == 0 and head[1] in b"{[":
        encoding = "utf-16-be"
    else:
        return path, 0
    target = workdir / "utf8"
    try:
        with path.open(encoding=encoding) as src, target.open("w", encoding="utf-8") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
    except UnicodeError as error:
        raise IngestError(
            f"{name}: the file looks {encoding.upper()}-encoded but is not valid {encoding}; "
            "expected a UTF-8 report"
        ) from error
    return target, 0


KEPT_SUFFIX = ".gz"
"""The name ending of a kept (gzip-compressed) report."""


def read_kept(path: Path) -> bytes:
    """The bytes of a kept report: inflated when it was kept compressed (its name ends with
    :data:`KEPT_SUFFIX`), as they are otherwise (reports kept before compression)."""
    if path.name.endswith(KEPT_SUFFIX):
        with gzip.open(path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


# Magic numbers of files people upload by mistake: (offset, bytes, what the file is).
_MAGIC = (
    (0, b"\x89PNG\r\n\x1a\n", "PNG image"),
    (0, b"\xff\xd8\xff", "JPEG image"),
    (0, b"GIF87a", "GIF image"),
    (0, b"GIF89a", "GIF image"),
    (8, b"WEBP", "WebP image"),
    (0, b"II*\x00", "TIFF image"),
    (0, b"MM\x00*", "TIFF image"),
    (0, b"%PDF-", "PDF document"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Microsoft Office document"),
    (0, b"PK\x03\x04", "ZIP archive, or a .docx, .xlsx or .jar"),
    (0, b"PK\x05\x06", "empty ZIP archive"),
    (0, b"\x1f\x8b", "gzip-compressed data"),
    (4, b"1AY&SY", "bzip2-compressed data"),
    (0, b"\xfd7zXZ\x00", "xz-compressed data"),
    (0, b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (0, b"Rar!\x1a\x07", "RAR archive"),
    (257, b"ustar", "tar archive"),
    (0, b"\x7fELF", "ELF executable"),
    (0, b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (0, b"\xca\xfe\xba\xbe", "Java class file or Mach-O executable"),
    (0, b"\x00asm", "WebAssembly module"),
    (0, b"SQLite format 3\x00", "SQLite database"),
)
# Bytes no text report holds (tab, line feed, carriage return and escape are text).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")


def binary_kind(head: bytes) -> str | None:
    """What kind of binary file ``head`` (a file's first bytes) starts, by its magic number:
    "PNG image", "ZIP archive, ...", or None when it starts no kind known here. A Windows
    executable's ``MZ`` counts only when control bytes follow (text may start with "MZ")."""
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head.startswith(b"MZ") and _CONTROL.search(head[:64]):
        return "Windows executable"
    return None


def describe_head(head: bytes) -> str:
    """How a message quotes the start of a report: its first 40 characters, or in words when
    they are not text (binary data is never quoted)."""
    kind = binary_kind(head)
    if kind is not None:
        return f"binary data ({kind})"
    text = head.lstrip()[:40]
    if _CONTROL.search(text):
        return "binary data"
    decoded = text.decode("utf-8", "replace")
    return repr(decoded) if decoded else "only whitespace"
