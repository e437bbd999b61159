"""The remediation-document extractor: Markdown handoffs in, checkable statements out.

``looks_like_document(head)`` sniffs content for the ingestion pipeline, and
``extract(data, source=...)`` returns an :class:`Extraction` (see ``model.py``) or raises
``scanners.base.ParseError``. Pure: no database, no Django models.
"""

from scanners.documents.extract import extract
from scanners.documents.model import Extraction
from scanners.documents.text import MAX_BYTES, looks_like_text


def looks_like_document(head: bytes) -> bool:
    """True for Markdown or plain-text documents, mojibake included; False for JSON or binary."""
    return looks_like_text(head)


__all__ = ["MAX_BYTES", "Extraction", "extract", "looks_like_document"]
