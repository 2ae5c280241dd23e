"""Run one dataset through our system and the baseline: write corpora, index, ask, record.

Each corpus is written as ``.txt`` files into its own folder and indexed into its own
collection through the normal ``index/`` path, with the folder as the base for source names,
so a document's source is its file name (the name the dataset's gold spans use).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.baseline import LangChainBaseline
from eval.datasets import Case, Corpus, Dataset, Span
from eval.metrics import verbatim
from index.build import Indexer
from index.embed import Embedder, Vectors
from index.errors import RagError
from rag.markup import render
from rag.pipeline import Engine
from rag.types import Answer

Cited = tuple[str, int, int, str]
TOP_K = 5
"""Candidate sentences kept per case for the precision/recall-versus-k curve."""


@dataclass(frozen=True)
class CaseResult:
    """What one system did with one case (metrics are computed from it, see ``eval.report``)."""

    dataset: str
    system: str
    case_id: str
    question: str
    answerable: bool
    refused: bool
    score: float | None
    answer: str
    short_answer: str
    citations: tuple[Cited, ...]
    ranked: tuple[Span, ...]
    """The system's top sentences, best first (ours: scored candidates; baseline: the
    sentences of the retrieved chunks in retrieval order)."""
    gold: tuple[Span, ...]
    gold_text: tuple[str, ...]
    answers: tuple[str, ...]
    seconds: float
    verbatim: int
    """Citations whose text equals the source document's slice at their offsets."""
    chunks: tuple[Span, ...] = ()
    """The baseline's retrieved chunks (its citations are their sentences)."""
    follow_up: bool = False
    """The question came with earlier turns (``history``)."""
    fallback: str | None = None
    """Why the chat model's answer was not used (the extractive one was), or None."""


@dataclass(frozen=True)
class DatasetRun:
    dataset: Dataset
    results: tuple[CaseResult, ...]
    index_seconds: float
    baseline_index_seconds: float
    documents: int
    sentences: int


class CachingEmbedder(Embedder):
    """Shares a loaded :class:`Embedder`; while ``caching`` is on, each text is encoded once.

    The HotpotQA settings index the same paragraphs twice (distractor and open), so indexing
    reuses vectors. Queries are encoded with caching off, so latencies stay honest.
    """

    def __init__(self, base: Embedder) -> None:
        super().__init__(base.model_path, base.batch_size, base.backend, base.cache_dir)
        self.base = base
        self.caching = False
        self._cache: dict[str, Vectors] = {}

    @property
    def model(self) -> Any:
        return self.base.model

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not self.caching or not texts:
            return self.base.embed(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self.base.embed(missing), strict=True):
                self._cache[text] = vector
        return np.stack([self._cache[t] for t in texts])

    @contextmanager
    def cached(self) -> Iterator[None]:
        self.caching = True
        try:
            yield
        finally:
            self.caching = False


@contextmanager
def one_thread() -> Iterator[None]:
    """Encode single queries with one intra-op thread: on two cores, thread hand-offs cost
    more than they save for one short input (and collapse when other processes run). Only the
    torch backend needs it (the ONNX one already runs one thread on small machines); torch is
    not imported when it is not loaded."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


class Runner:
    """Runs datasets; ``work`` holds the corpora files (and the baseline's Chroma folder)."""

    def __init__(self, engine: Engine, embedder: CachingEmbedder, work: Path, prefix: str,
                 baseline: LangChainBaseline | None, progress: bool = True,
                 rules: Engine | None = None) -> None:
        self.engine = engine
        self.rules = rules
        """The hand-rule answerer the reader replaced, run beside it (system ``rules``)."""
        self.embedder = embedder
        self.work = work
        self.prefix = prefix
        self.baseline = baseline
        self.progress = progress

    def collection(self, corpus: str) -> str:
        return f"{self.prefix}-{corpus}"[:60].rstrip("-_")

    def run(self, dataset: Dataset) -> DatasetRun:
        index_s, base_s, docs, sentences = self.index(dataset)
        documents = {c.name: c.documents for c in dataset.corpora}
        results: list[CaseResult] = []
        with one_thread():
            for case in self._bar(dataset.cases, dataset.name, "question"):
                results.append(self.ask_ours(dataset.name, case, documents[case.corpus]))
                if self.rules is not None:
                    results.append(self.ask_ours(dataset.name, case, documents[case.corpus],
                                                 self.rules, "rules"))
                if self.baseline is not None:
                    results.append(self.ask_baseline(dataset.name, case,
                                                     documents[case.corpus]))
        return DatasetRun(dataset, tuple(results), index_s, base_s, docs, sentences)

    def index(self, dataset: Dataset) -> tuple[float, float, int, int]:
        ours = base = 0.0
        docs = sentences = 0
        indexer = Indexer(self.engine.settings, self.embedder, self.engine.client)
        with self.embedder.cached():
            for corpus in self._bar(dataset.corpora, f"index {dataset.name}", "corpus",
                                    len(dataset.corpora) > 1):
                folder = self.write(corpus)
                name = self.collection(corpus.name)
                started = time.perf_counter()
                report = indexer.build([folder], name, rebuild=True, base=folder,
                                       progress=self.progress and len(dataset.corpora) == 1)
                if report.indexed:
                    self.engine.retriever(name).view()  # opened here, not in a latency
                ours += time.perf_counter() - started
                docs += report.indexed
                sentences += report.sentences
                if self.baseline is not None:
                    started = time.perf_counter()
                    self.baseline.index(name, corpus.documents)
                    base += time.perf_counter() - started
        return ours, base, docs, sentences

    def write(self, corpus: Corpus) -> Path:
        folder = self.work / "corpora" / corpus.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for source, text in corpus.documents.items():
            path = folder / source
            path.parent.mkdir(parents=True, exist_ok=True)
            if source in corpus.originals:
                shutil.copyfile(corpus.originals[source], path)
            else:
                path.write_text(text, encoding="utf-8", newline="")
        return folder

    def ask_ours(self, dataset: str, case: Case, docs: dict[str, str],
                 engine: Engine | None = None, system: str = "ours") -> CaseResult:
        started = time.perf_counter()
        try:
            answer: Answer | None = (engine or self.engine).ask(
                case.question, list(case.history), self.collection(case.corpus))
            error = ""
        except RagError as exc:
            answer, error = None, f"error: {exc}"
        seconds = time.perf_counter() - started
        if answer is None:
            return _result(dataset, system, case, docs, True, None, error, error, (), (), seconds)
        cited = tuple((c.source, c.start, c.end, c.text) for c in answer.citations)
        plain = render(answer.parts, bold=False, markers=False).strip()
        short = plain
        if answer.citations and answer.citations[0].highlight is not None:
            lo, hi = answer.citations[0].highlight
            short = answer.citations[0].text[lo:hi]
        ranked = tuple((c.source, c.start, c.end) for c in answer.candidates[:TOP_K])
        result = _result(dataset, system, case, docs, answer.refused, answer.score,
                         "" if answer.refused else plain, "" if answer.refused else short,
                         cited, ranked, seconds)
        return replace(result, fallback=answer.fallback)

    def ask_baseline(self, dataset: str, case: Case, docs: dict[str, str]) -> CaseResult:
        assert self.baseline is not None
        started = time.perf_counter()
        got = self.baseline.ask(case.question, self.collection(case.corpus))
        seconds = time.perf_counter() - started
        ranked = tuple((s, a, b) for s, a, b, _ in got.citations[:TOP_K])
        result = _result(dataset, "baseline", case, docs, False, None, got.text, got.text,
                         got.citations, ranked, seconds)
        return replace(result, chunks=got.chunks)

    def _bar(self, items: Sequence[Any], desc: str, unit: str, enabled: bool = True) -> Any:
        from tqdm import tqdm

        return tqdm(items, desc=desc, unit=unit, file=sys.stderr, leave=False,
                    disable=not (self.progress and enabled))


def _result(dataset: str, system: str, case: Case, docs: dict[str, str], refused: bool,
            score: float | None, answer: str, short: str, cited: tuple[Cited, ...],
            ranked: tuple[Span, ...], seconds: float) -> CaseResult:
    ok = verbatim(cited, docs).exact
    gold_text = tuple(docs[s][a:b] for s, a, b in case.evidence if s in docs)
    return CaseResult(dataset, system, case.id, case.question, case.answerable, refused,
                      score, answer, short, cited, ranked, case.evidence, gold_text,
                      case.answers, seconds, ok, follow_up=bool(case.history))
