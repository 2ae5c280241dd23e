"""The chat's own errors (beside those of answering, in ``rag.errors``)."""

from __future__ import annotations

from rag.errors import RagError


class UploadRefused(RagError):
    """An uploaded file that is not indexed; the message says why and what to do."""
