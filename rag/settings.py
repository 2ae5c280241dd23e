"""The one settings object (env prefix ``RAG_``): the index's settings plus answering and UI."""

from __future__ import annotations

from index.settings import IndexSettings


class Settings(IndexSettings):
    """Everything configurable. Construct it (reads ``RAG_*``), pass it in; nothing reads it
    at import time."""

    answerer: str = "extractive"
    """``extractive`` (default, no model) or a chat model such as ``openai:<model>``."""
    refuse_below: float | None = None
    """Support score under which the answer is a refusal; default: the calibrated value in
    ``rag/scoring.json`` (see README, "How refusal is calibrated")."""
    max_citations: int = 3
    top_chunks: int = 8
    """Chunks taken from each retriever (dense and BM25) before fusion."""
    top_sentences: int = 12
    """Sentences taken straight from the sentence vectors."""
    max_question_chars: int = 2000
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 20.0
