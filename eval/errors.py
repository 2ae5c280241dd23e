"""The evaluation's own errors (beside those of answering, in ``rag.errors``)."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset that cannot be found or read; the message says what to do."""
