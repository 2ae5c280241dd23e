"""The one settings object (env prefix ``RAG_``): the index's settings plus answering and UI."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from index.settings import IndexSettings


class Settings(IndexSettings):
    """Everything configurable. Construct it (reads ``RAG_*``), pass it in; nothing reads it
    at import time."""

    answerer: str = "extractive"
    """``extractive`` (default, no model) or a chat model: ``openai:<model>`` (OpenAI or any
    OpenAI-compatible server) or ``ollama:<model>`` (needs ``pip install '.[llm]'``)."""
    reader: bool = True
    """Answer with the trained reader (``rag/models/reader``); ``false``: the hand-rule
    answerer it replaced (rag/rules.py), kept as the eval's baseline."""
    reader_path: Path | None = None
    """Folder of the reader model; default: the one shipped in ``rag/models/reader``."""
    refuse_below: float | None = None
    """Support score under which the answer is a refusal, on the scale of the answerer in use:
    the reader head's probability (default: the value fitted on validation articles, in
    ``rag/scoring.json``, about 0.03), or with ``RAG_READER=false`` the rules' support score
    (default 0.488)."""
    max_citations: int = 3
    top_chunks: int = 8
    """Chunks taken from each retriever (dense and BM25) before fusion."""
    top_sentences: int = 12
    """Sentences taken by their own vectors, nearest to the question, from the sentences of the
    ``near_chunks`` chunks nearest to it (whatever their fused rank)."""
    near_chunks: int = 16
    """Chunks the dense query ranks first whose sentences compete for ``top_sentences``."""
    max_question_chars: int = 2000
    max_history_turns: int = 8
    """Earlier turns read for a follow-up (older ones are ignored)."""
    max_history_chars: int = 20_000
    """Longest history (those turns, questions and answers together) a question may carry."""
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 20.0
    ui_auth: SecretStr | None = None
    """``USER:PASSWORD`` the web chat asks for (Gradio's login page)."""
    ui_users_file: Path | None = None
    """A file of ``USER:PASSWORD`` lines, one user a line, that the web chat accepts."""
    ui_public: bool = False
    """Serve on a non-loopback address without a login (``rag ui --public``)."""
    ui_uploads: bool = True
    """``false``: a read-only chat, without uploads or changes to collections."""
    ui_collections: str | None = None
    """Comma-separated collections the web chat serves (the others are refused); default:
    any."""

    # -- generative answers (ignored by the extractive answerer) --------------------------------
    llm_base_url: str | None = None
    """Server of the chat model, e.g. ``http://localhost:8000/v1``; default: ``OPENAI_BASE_URL``
    for ``openai:``, ``OLLAMA_HOST`` or ``http://localhost:11434`` for ``ollama:``."""
    llm_api_key: SecretStr | None = None
    """Key of an ``openai:`` server; default: ``OPENAI_API_KEY`` (a placeholder when a base URL
    is set, for local servers that need none)."""
    llm_timeout_s: float = 60.0
    """Seconds to wait for the model (per request; while streaming, between two pieces). On
    timeout the request is closed, so the server stops generating."""
    llm_max_retries: int = 0
    """Retries of a failed model call (a timeout included); each retry waits as long again."""
    llm_temperature: float = 0.0
    llm_max_tokens: int = 512
    """Longest answer, in tokens (sent as ``max_tokens`` to OpenAI-compatible servers,
    ``max_completion_tokens`` to OpenAI, ``num_predict`` to Ollama)."""
    llm_evidence_sentences: int = 8
    """Retrieved sentences shown to the model, numbered, best first."""
    llm_history_turns: int = 4
    """Earlier turns of the conversation passed to the model."""
    llm_system_role: bool = True
    """Send the prompt's rules as a system message; ``false`` for chat formats without a system
    role (they would drop it): the rules then open the user message with the evidence."""
    llm_fallback: bool = True
    """When the model fails (unreachable, timeout, malformed output), answer extractively with a
    notice instead of raising."""
    claim_support_min: float = 0.26
    """Support a claim needs from its cited sentences: the reader's probability that one of
    them answers the claim (fitted by ``python -m eval.claims`` on validation articles)."""
    drop_unsupported: bool = False
    """Leave unsupported claims out of generative answers (default: shown, marked)."""
