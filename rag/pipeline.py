"""``ask()``: retrieve → choose sentences → answer with citations.

Three plain steps (prepare the query, retrieve and score sentences, compose the answer) whose
values are our own frozen dataclasses. LangChain adapters for these steps live in
``rag.langchain``; the hot path does not import LangChain (it costs most of a second to load).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.build import Indexer, IndexReport, Progress
from index.embed import Embedder, Vectors
from index.errors import CollectionNotFound, InvalidQuestion
from index.store import Store, check_name, open_client
from index.terms import terms
from rag import rules
from rag.compose import REFUSAL_START, compose
from rag.reader import MODEL_DIR, Passage, Reader, ReaderConfig, get_reader, title_of
from rag.retrieve import Retriever, documents_of
from rag.select import (
    HEAD_SENTENCES,
    READER_ONLY,
    Scorer,
    choose,
    head_of,
    read_candidates,
    score_sentences,
)
from rag.settings import Settings
from rag.text import Question, about_document
from rag.types import Answer, Candidate
from rag.view import CorpusView

if TYPE_CHECKING:
    from rag.generate import GenerativeAnswerer

History = list[tuple[str, str]]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MARKERS = re.compile(r"\[\d+\]|\*\*")
FOLLOW_UP_WORDS = 30
"""Words of the previous answer the reader reads beside a follow-up question."""


@dataclass(frozen=True)
class _Query:
    text: str
    question: Question
    history_terms: tuple[str, ...]
    vector: Vectors
    collection: str
    reading: str
    """What the reader reads as the question: for a follow-up, with the previous turn."""


@dataclass(frozen=True)
class _Scored:
    query: _Query
    candidates: tuple[Candidate, ...]
    view: CorpusView


class Engine:
    """Everything ``ask()`` needs, loaded once and shared by threads: model, store, views."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 client: Any = None) -> None:
        self.settings = settings or Settings()
        self.embedder = embedder or Embedder.from_settings(self.settings)
        self._client = client
        self._retrievers: dict[str, Retriever] = {}
        self._lock = threading.Lock()
        self.scorer = Scorer.load()
        self.config: ReaderConfig | None = ReaderConfig.load() if self.settings.reader else None
        """The reader's fitted settings (``rag/scoring.json``); None with ``RAG_READER=false``."""
        config = self.config
        default = config.threshold if config else rules.refuse_below()
        self.head = head_of(config) if config else READER_ONLY
        self.refuse_below = (self.settings.refuse_below if self.settings.refuse_below is not None
                             else default)
        self.generator: GenerativeAnswerer | None = None
        """The chat model's answerer, when ``settings.answerer`` names one (not extractive)."""
        if self.settings.answerer.strip().lower() != "extractive":
            from rag.generate import GenerativeAnswerer

            self.generator = GenerativeAnswerer(self.settings, self.embedder)

    @property
    def reader(self) -> Reader | None:
        """The reader model (loaded on the first question), or None with ``RAG_READER=false``."""
        return get_reader(self.settings.reader_path or MODEL_DIR) if self.settings.reader else None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    # -- collections ---------------------------------------------------------------------------

    def collections(self) -> list[str]:
        return Store.collection_names(self.client)

    def store(self, collection: str | None = None) -> Store:
        """The store of ``collection``; the default one is built from the seeds if missing."""
        name = check_name(collection or self.settings.collection)
        store = Store(self.client, name)
        if not store.exists():
            if name == self.settings.collection and self.settings.seeds_dir.exists():
                self.index([self.settings.seeds_dir], name, progress=True)
            else:
                raise CollectionNotFound(name, self.collections())
        return store

    def index(self, paths: list[Path], collection: str | None = None, *, rebuild: bool = False,
              progress: bool = False, base: Path | None = None,
              on_progress: Progress | None = None) -> IndexReport:
        """Index ``paths``; sources are named relative to ``base`` (default: the working
        folder) when inside it. ``on_progress``: see :meth:`index.build.Indexer.build`."""
        indexer = Indexer(self.settings, self.embedder, self.client)
        return indexer.build(paths, collection, rebuild=rebuild, progress=progress, base=base,
                             on_progress=on_progress)

    def repair(self, collection: str | None = None, progress: bool = False) -> bool:
        """Rebuild the collection's lexical index if missing or stale; whether it had to."""
        return Indexer(self.settings, self.embedder, self.client).repair(collection, progress)

    def documents(self, collection: str | None = None) -> list[dict[str, Any]]:
        return documents_of(self.store(collection))

    def document_text(self, source: str, collection: str | None = None) -> str | None:
        return self.store(collection).doc_text(source)

    def retriever(self, collection: str) -> Retriever:
        with self._lock:
            if collection not in self._retrievers:
                self._retrievers[collection] = Retriever(self.store(collection),
                                                         self.settings.lexical_dir)
            return self._retrievers[collection]

    # -- answering -----------------------------------------------------------------------------

    def ask(self, question: object, history: object = None,
            collection: str | None = None) -> Answer:
        scored, turns, answer = self._extractive(question, history, collection)
        if self.generator is None:
            return answer
        *_, final = self.generator.answer(scored.query.question, turns, answer)
        assert isinstance(final, Answer)
        return final

    def _extractive(self, question: object, history: object,
                    collection: str | None) -> tuple[_Scored, History, Answer]:
        """Check the input, retrieve and score, and compose the extractive answer."""
        text = self._check_question(question)
        turns = _check_history(history, self.settings.max_history_turns,
                               self.settings.max_history_chars)
        name = check_name(collection or self.settings.collection)
        retriever = self.retriever(name)
        view = retriever.view_soon()  # the version check runs while the question is encoded
        query = self._prepare({"text": text, "history": turns, "collection": name})
        scored = self._retrieve(query, retriever, view.result())
        return scored, turns, self._answer(scored)

    def ask_stream(self, question: object, history: object = None,
                   collection: str | None = None) -> Iterator[str | Answer]:
        """Like :meth:`ask`, streaming: while a chat model writes, yields its text so far (raw,
        with its evidence markers, unverified), then always ends with the final Answer. The
        extractive answerer yields the Answer only."""
        scored, turns, answer = self._extractive(question, history, collection)
        if self.generator is None:
            yield answer
            return
        yield from self.generator.answer(scored.query.question, turns, answer, stream=True)

    def _prepare(self, request: dict[str, Any]) -> _Query:
        text: str = request["text"]
        question = Question.parse(text)
        history_text = ""
        reading = text
        turns: History = request["history"]
        if turns and question.anaphoric:
            last_q, last_a = turns[-1]
            last_a = "" if last_a.startswith(REFUSAL_START) else _MARKERS.sub("", last_a)
            history_text = f"{last_q} {last_a}"
            reading = f"{text} ({last_q} {' '.join(last_a.split()[:FOLLOW_UP_WORDS])})"
        query_text = f"{text} {history_text}".strip()
        vector = self.embedder.embed([query_text])[0]
        return _Query(text, question, tuple(terms(history_text)), vector, request["collection"],
                      reading)

    def first_stage(self, question: str, history: History,
                    collection: str) -> tuple[_Query, list[Candidate], list[Passage]]:
        """The retrieved sentences ranked by the first-stage score, with what the reader would
        read for each (for calibration and ablations)."""
        retriever = self.retriever(collection)
        query = self._prepare({"text": question, "history": history, "collection": collection})
        first, passages = self._first(query, retriever, retriever.view())
        return query, first, passages

    def _first(self, query: _Query, retriever: Retriever,
               view: CorpusView) -> tuple[list[Candidate], list[Passage]]:
        query_terms = list(query.question.terms) + list(query.history_terms)
        near = retriever.nearest(view, query.vector, self.settings.top_sentences)
        hits = retriever.chunks(view, query.vector, query_terms, self.settings.top_chunks)
        heads = HEAD_SENTENCES if about_document(query.question) else 0
        records = retriever.sentences(view, hits, query.vector, near, heads)
        first = score_sentences(query.question, query.history_terms, records,
                                view.weight, self.scorer, view.known)
        prev = {r.id: r.prev for r in records}
        return first, [Passage(c.text, title_of(c.source), prev[c.id]) for c in first]

    def _retrieve(self, query: _Query, retriever: Retriever, view: CorpusView) -> _Scored:
        first, passages = self._first(query, retriever, view)
        reader = self.reader
        if reader is None or self.config is None:
            return _Scored(query, tuple(first), view)
        probs = reader.probabilities(query.reading, passages[:self.config.candidates])
        candidates = read_candidates(first, probs.tolist(), self.config.require_fit, self.head)
        return _Scored(query, tuple(candidates), view)

    def _answer(self, scored: _Scored) -> Answer:
        query = scored.query
        if self.config is None:
            chosen = rules.choose_by_rules(query.question, scored.candidates,
                                           self.settings.max_citations, scored.view.weight)
        else:
            chosen = choose(scored.candidates, self.settings.max_citations, self.config.second)
        return compose(query.text, query.question, query.collection, chosen,
                       scored.candidates, self.refuse_below)

    def _check_question(self, question: object) -> str:
        if not isinstance(question, str):
            raise InvalidQuestion(
                f"the question must be text, not {type(question).__name__}: pass a string")
        text = " ".join(_CONTROL.sub(" ", question).split())
        if not text:
            raise InvalidQuestion("the question is empty: type a question about your documents")
        _check_unicode(text, "the question")
        if not any(ch.isalnum() for ch in text):
            raise InvalidQuestion("the question holds no words (only marks, symbols or "
                                  "invisible characters): type a question about your documents")
        limit = self.settings.max_question_chars
        if len(text) > limit:
            raise InvalidQuestion(
                f"the question is {len(text):,} characters long, over the {limit:,} limit: "
                "ask a shorter question (RAG_MAX_QUESTION_CHARS sets the limit)")
        return text


def _check_history(history: object, max_turns: int, max_chars: int) -> History:
    """The last ``max_turns`` turns of ``history``, checked; refused when over ``max_chars``."""
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise InvalidQuestion("history must be a list of (question, answer) pairs, oldest first")
    turns: History = []
    for turn in history[-max_turns:] if max_turns > 0 else ():
        if (not isinstance(turn, list | tuple) or len(turn) != 2
                or not all(isinstance(x, str) for x in turn)):
            raise InvalidQuestion(
                "history must be a list of (question, answer) pairs of strings, oldest first")
        turns.append((str(turn[0]), str(turn[1])))
    size = sum(len(q) + len(a) for q, a in turns)
    if size > max_chars:
        raise InvalidQuestion(
            f"the history of the last {len(turns)} turns is {size:,} characters long, over the "
            f"{max_chars:,} limit: send fewer or shorter turns (RAG_MAX_HISTORY_CHARS sets the "
            "limit)")
    for q, a in turns:
        _check_unicode(q + a, "the history")
    return turns


def _check_unicode(text: str, what: str) -> None:
    """Refuse text holding a lone surrogate (not valid Unicode: no encoder accepts it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidQuestion(
            f"{what} holds an unpaired surrogate (U+{ord(text[exc.start]):04X} at character "
            f"{exc.start}), which is not valid text: send it as UTF-8") from exc


_engines: dict[Settings, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """One shared engine per settings (the model loads once per process)."""
    settings = settings or Settings()
    with _engines_lock:
        if settings not in _engines:
            _engines[settings] = Engine(settings)
        return _engines[settings]


def ask(question: str, history: list[tuple[str, str]] | None = None,
        collection: str | None = None, *, settings: Settings | None = None) -> Answer:
    """Answer ``question`` from ``collection`` (default: the seed corpus) with cited sentences.

    ``history`` holds earlier ``(question, answer_text)`` turns, oldest first. Raises a
    :class:`rag.errors.RagError` subclass whose message says what to do.
    """
    return get_engine(settings).ask(question, history, collection)
