"""The reader: a small cross-encoder that reads a question together with one candidate sentence
(and a little context: the document's title and the end of the sentence before it) and gives
the probability that the sentence answers the question.

It runs on onnxruntime with the ``tokenizers`` library (no torch when serving). The model and its
tokenizer live in ``rag/models/reader/`` (``rag train`` rebuilds them from data; see that
folder's README); its settings (how many sentences it reads, the small head over its logit, the
refusal threshold) are the ``reader`` section of ``rag/scoring.json``
(``python -m rag.calibrate``). The input layout is defined
here once, and training uses the same functions.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.errors import ConfigError, ModelUnavailable
from index.onnx_model import available_cores, requested_threads

MODEL_DIR = Path(__file__).with_name("models") / "reader"
MODEL_FILE = "reader.onnx"
TOKENIZER_FILE = "tokenizer.json"
SCORING_FILE = Path(__file__).with_name("scoring.json")
"""First-stage weights and the reader's settings (its ``reader`` section)."""
QUESTION_PIECES = 48
"""Word pieces of the question kept (longer questions are cut at the end)."""
CONTEXT_PIECES = 24
"""Word pieces of context (title, then the end of the previous sentence) after the sentence."""
MAX_PIECES = 128
"""Longest input, special tokens included."""
_SEPARATORS = re.compile(r"[_\-]+")

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Passage:
    """What the reader reads beside the question: the sentence, its document's title and the
    end of the sentence before it."""

    sentence: str
    title: str
    prev: str = ""


@lru_cache(maxsize=65_536)
def title_of(source: str) -> str:
    """A document's title as the reader sees it: its file name without folders or suffix, with
    underscores and dashes read as spaces ("docs/espresso-manual.md" -> "espresso manual";
    cached: every candidate of a question asks for its document's)."""
    stem = Path(source).name
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    return " ".join(_SEPARATORS.sub(" ", stem).split())


@dataclass(frozen=True)
class Batch:
    input_ids: npt.NDArray[np.int64]
    attention_mask: npt.NDArray[np.int64]
    token_type_ids: npt.NDArray[np.int64]

    def feeds(self) -> dict[str, npt.NDArray[np.int64]]:
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask,
                "token_type_ids": self.token_type_ids}


def encode_pairs(tokenizer: Any, questions: Sequence[str], passages: Sequence[Passage],
                 max_pieces: int = MAX_PIECES) -> Batch:
    """``[CLS] question [SEP] sentence [SEP] title: end of previous sentence [SEP]``, padded
    to the longest row. The sentence is kept whole where it fits; context fills what is left."""
    cls_id = tokenizer.token_to_id("[CLS]")
    sep_id = tokenizer.token_to_id("[SEP]")
    pad_id = tokenizer.token_to_id("[PAD]") or 0
    n = len(passages)
    unique_q = list(dict.fromkeys(questions))
    q_ids = dict(zip(unique_q, (e.ids for e in tokenizer.encode_batch(
        unique_q, add_special_tokens=False)), strict=True))
    s_ids = [e.ids for e in tokenizer.encode_batch(
        [p.sentence for p in passages], add_special_tokens=False)]
    c_ids = [e.ids for e in tokenizer.encode_batch(
        [f"{p.title}: {p.prev}" if p.prev else p.title for p in passages],
        add_special_tokens=False)]
    rows: list[list[int]] = []
    types: list[list[int]] = []
    for i in range(n):
        q = q_ids[questions[i]][:QUESTION_PIECES]
        room = max_pieces - 4 - len(q)
        context = c_ids[i]
        if len(context) > CONTEXT_PIECES:  # keep the title's first words and the prev's end
            context = context[:6] + context[len(context) - (CONTEXT_PIECES - 6):]
        s = s_ids[i][:max(room - min(len(context), CONTEXT_PIECES // 2), 8)]
        context = context[:max(room - len(s), 0)]
        rows.append([cls_id, *q, sep_id, *s, sep_id, *context, sep_id])
        types.append([0] * (len(q) + 2) + [1] * (len(s) + len(context) + 2))
    width = max((len(r) for r in rows), default=0)
    ids = np.full((n, width), pad_id, dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    tt = np.zeros((n, width), dtype=np.int64)
    for i, (r, t) in enumerate(zip(rows, types, strict=True)):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
        tt[i, :len(t)] = t
    return Batch(ids, mask, tt)


@dataclass(frozen=True)
class ReaderConfig:
    """The reader's settings, fitted on validation articles by ``python -m rag.calibrate``
    (the ``reader`` section of ``rag/scoring.json``)."""

    threshold: float
    """Probability under which the best sentence does not answer: the answer is a refusal."""
    second: float
    """Probability a second sentence needs to be cited beside the first."""
    candidates: int
    """How many of the retrieved sentences (by the first-stage score) the reader reads."""
    require_fit: bool = True
    """Whether a sentence must hold the kind of thing asked for (a number for "how many")."""
    max_pieces: int = MAX_PIECES
    head: tuple[float, ...] = ()
    """Weights of the small head over the reader's logit and first-stage features, bias last
    (empty: the reader's probability alone)."""
    head_features: tuple[str, ...] = ()
    """The names of the head's inputs, in the order of its weights."""

    @classmethod
    def load(cls, path: Path = SCORING_FILE) -> ReaderConfig:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))["reader"]
            head = data.get("head") or {}
            return cls(float(data["threshold"]), float(data["second"]), int(data["candidates"]),
                       bool(data.get("require_fit", True)),
                       int(data.get("max_pieces", MAX_PIECES)),
                       tuple(float(w) for w in [*head.get("weights", []), head.get("bias", 0.0)])
                       if head else (), tuple(str(f) for f in head.get("features", [])))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"the reader section of {path} cannot be read ({type(exc).__name__}:"
                              f" {exc}): restore the file from the package, or rerun "
                              "python -m rag.calibrate") from exc


class Reader:
    """Loads the ONNX reader once; :meth:`probabilities` is safe to call from many threads."""

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int | None = None) -> None:
        onnx_path = model_dir / MODEL_FILE
        if not onnx_path.is_file():
            raise ModelUnavailable(
                f"the reader model {onnx_path} is missing: reinstall the package, or rebuild "
                "it with `make train`")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.config = ReaderConfig.load()
        try:
            self.tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises its own exception types
            raise ModelUnavailable(f"the reader's tokenizer {model_dir / TOKENIZER_FILE} cannot "
                                   f"be read ({exc}): reinstall the package, or rebuild it with "
                                   "`make train`") from exc
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _threads()
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(onnx_path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelUnavailable(
                f"the reader model {onnx_path} cannot be loaded ({exc}): reinstall the package, "
                "or rebuild it with `make train`") from exc

    def probabilities(self, question: str, passages: Sequence[Passage],
                      batch_size: int = 32, max_pieces: int | None = None) -> Floats:
        """P(sentence answers question) for each passage, in order."""
        out: list[Floats] = []
        for i in range(0, len(passages), batch_size):
            part = passages[i:i + batch_size]
            batch = encode_pairs(self.tokenizer, [question] * len(part), part,
                                 max_pieces or self.config.max_pieces)
            logits = self.session.run(None, batch.feeds())[0].reshape(-1)
            out.append((1.0 / (1.0 + np.exp(-logits))).astype(np.float32))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def _threads() -> int:
    """``OMP_NUM_THREADS`` when set, else every core up to four (one question's sentences are
    read as one batch, which two threads on two cores serve faster than one)."""
    return requested_threads() or max(1, min(4, available_cores()))


_readers: dict[Path, Reader] = {}
_readers_lock = threading.Lock()


def get_reader(model_dir: Path = MODEL_DIR) -> Reader:
    """One reader per model folder and process."""
    with _readers_lock:
        if model_dir not in _readers:
            _readers[model_dir] = Reader(model_dir)
        return _readers[model_dir]
