"""Uploaded reports before the pipeline sees them: gzip, recognised by its bytes, inflated
under a cap.

An upload's name and declared content type are not trusted: a file is gzip when its first
bytes are gzip's magic number, whatever it is called. It is inflated chunk by chunk into a
temporary file and refused as soon as the inflated size passes ``MAX_REPORT_BYTES`` (the
same limit as an uncompressed report), so a zip bomb costs at most that much disk and a
constant amount of memory, never its full expansion.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


class UploadError(ValueError):
    """An upload refused before import; the message names the file and the reason."""


class UploadTooLarge(UploadError):
    """A gzip upload that inflates past the report limit."""


def is_gzip(upload: UploadedFile) -> bool:
    """Whether the upload's first bytes are gzip's magic number (the name does not count)."""
    upload.seek(0)
    head = upload.read(2)
    upload.seek(0)
    return head == GZIP_MAGIC


def _trailing(name: str, end: int) -> UploadError:
    return UploadError(
        f"{name}: byte {end:,}: holds data after the end of its gzip stream (a second file "
        "or trailing bytes); upload one file"
    )


def inflate_upload(upload: UploadedFile, *, limit: int | None = None) -> UploadedFile:
    """The upload itself, or, when it is gzip, its inflated content as a new upload.

    The inflated file is named like the upload without ``.gz``. Raises UploadError when the
    inflated size passes ``limit`` (default ``settings.MAX_REPORT_BYTES``), when the gzip
    data is corrupt or cut short, or when it holds another gzip file.
    """
    if not is_gzip(upload):
        return upload
    limit = settings.MAX_REPORT_BYTES if limit is None else limit
    name = Path(upload.name or "report.gz").name
    inner = name[:-3] if name.lower().endswith(".gz") and len(name) > 3 else f"{name}.inflated"
    target = TemporaryUploadedFile(inner, "application/octet-stream", 0, None)
    # wbits 16 + MAX_WBITS: gzip framing only; a raw deflate or zlib stream is not gzip.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size = 0
    try:
        upload.seek(0)
        read = 0
        for chunk in upload.chunks(_CHUNK):
            if inflater.eof:
                raise _trailing(name, read - len(inflater.unused_data))
            read += len(chunk)
            data = inflater.decompress(chunk, _CHUNK)
            while True:
                size += len(data)
                if size > limit:
                    raise UploadTooLarge(
                        f"{name}: inflates to more than {limit:,} bytes, the limit for one "
                        "report (AUDITDASH_MAX_REPORT_BYTES); refused before reading further"
                    )
                target.write(data)
                # At the end of the member zlib may leave the bytes after it in
                # ``unconsumed_tail`` as well as ``unused_data``: feeding them again would
                # never end, so the member's end stops the loop.
                if inflater.eof or not inflater.unconsumed_tail:
                    break
                data = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
            if inflater.eof and inflater.unused_data:
                raise _trailing(name, read - len(inflater.unused_data))
        if not inflater.eof:
            raise UploadError(f"{name}: the gzip data ends early (the file is cut short)")
    except zlib.error as error:
        target.close()
        raise UploadError(f"{name}: not valid gzip data after byte 0 ({error})") from None
    except UploadError:
        target.close()
        raise
    target.size = size
    target.seek(0)
    if target.read(2) == GZIP_MAGIC:
        target.close()
        raise UploadError(f"{name}: holds another gzip file; upload it inflated once at most")
    target.seek(0)
    return target


__all__ = ["GZIP_MAGIC", "UploadError", "UploadTooLarge", "inflate_upload", "is_gzip"]
