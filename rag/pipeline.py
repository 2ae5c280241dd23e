"""``ask()``: retrieve → choose sentences → answer with citations.

Three plain steps (prepare the query, retrieve and score sentences, compose the answer) whose
values are our own frozen dataclasses. LangChain adapters for these steps live in
``rag.langchain``; the hot path does not import LangChain (it costs most of a second to load).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.build import Indexer, IndexReport, Progress
from index.chunk import tiktoken_counter
from index.embed import Embedder, Vectors
from index.errors import CollectionNotFound
from index.load import has_pages
from index.store import DOCS, Store, check_name, open_client
from index.terms import terms
from rag import rules
from rag.checks import check_history, check_question
from rag.compose import REFUSAL_START, compose, with_pages
from rag.markup import unmarked
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
FOLLOW_UP_WORDS = 30
"""Words of the previous answer the reader reads beside a follow-up question."""


def follow_up(text: str, question: Question, turns: History) -> tuple[str, str]:
    """(history text, what the reader reads) for ``text`` asked after ``turns``: a question
    that leans on the last turn ("And when?") gets that turn's question and the start of its
    answer beside it; any other question stands alone."""
    if not (turns and question.anaphoric):
        return "", text
    last_q, last_a = turns[-1]
    last_a = "" if last_a.startswith(REFUSAL_START) else unmarked(last_a)
    return (f"{last_q} {last_a}",
            f"{text} ({last_q} {' '.join(last_a.split()[:FOLLOW_UP_WORDS])})")


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

            self.generator = GenerativeAnswerer(self.settings)

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
        """The store of ``collection``, which must exist (reading never indexes: see
        :meth:`ensure_default`)."""
        name = check_name(collection or self.settings.collection)
        store = Store(self.client, name)
        if not store.exists():
            raise CollectionNotFound(name, self.collections())
        return store

    def ensure_default(self, collection: str | None = None) -> IndexReport | None:
        """Build the default collection from the seeds when ``collection`` (default: the
        default one) is it and it is missing, as the command line, the app and :func:`ask` do
        before their first question; the report of that run, or None when nothing was built."""
        name = check_name(collection or self.settings.collection)
        if name != self.settings.collection or not self.settings.seeds_dir.exists() or \
                Store(self.client, name).exists():
            return None
        return self.index([self.settings.seeds_dir], name, progress=True)

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

    def document(self, source: str,
                 collection: str | None = None) -> tuple[str, tuple[int, ...]] | None:
        """The text of ``source`` and the start offset of each of its pages (PDFs; else
        empty), or None when the collection does not hold it."""
        found = self.store(collection).document(source)
        return None if found is None else (found[0], found[1].page_starts)

    def warm(self, collection: str | None = None, indexing: bool = False) -> None:
        """Load now what the first question on ``collection`` would otherwise wait for: the
        reader model, the embedding model's first batch, the collection's lexical index and
        Chroma's vector index of its chunks (one dense query); with ``indexing``, also what a
        first upload would load: the chunk tokenizer, and the collection of document records
        (Chroma loads a collection on its first read: 0.4 s at a million chunks). A served chat
        does this at start, so its first answer comes as fast as the next one. Raises what that
        first question would raise (e.g. :class:`index.errors.LexicalIndexMissing`)."""
        name = check_name(collection or self.settings.collection)
        _ = self.reader
        retriever = self.retriever(name)
        view = retriever.view()
        if indexing:
            tiktoken_counter()
            retriever.store.count(DOCS)
        retriever.chunks(view, self.embedder.embed([name])[0], [], 1)

    def forget(self, collection: str) -> None:
        """Drop what was loaded for ``collection`` (it was deleted, and may be made again)."""
        with self._lock:
            self._retrievers.pop(collection, None)

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
        return _paged(final, scored.view)

    def _extractive(self, question: object, history: object,
                    collection: str | None) -> tuple[_Scored, History, Answer]:
        """Check the input, retrieve and score, and compose the extractive answer."""
        text = check_question(question, self.settings.max_question_chars)
        turns = check_history(history, self.settings.max_history_turns,
                               self.settings.max_history_chars)
        name = check_name(collection or self.settings.collection)
        retriever = self.retriever(name)
        view = retriever.view_soon()  # the version check runs while the question is encoded
        query = self._prepare({"text": text, "history": turns, "collection": name})
        scored = self._retrieve(query, retriever, view.result())
        return scored, turns, _paged(self._answer(scored), scored.view)

    def ask_stream(self, question: object, history: object = None,
                   collection: str | None = None) -> Iterator[str | Answer]:
        """Like :meth:`ask`, streaming: while a chat model writes, yields its text so far (raw,
        with its evidence markers, unverified), then always ends with the final Answer. The
        extractive answerer yields the Answer only."""
        scored, turns, answer = self._extractive(question, history, collection)
        if self.generator is None:
            yield answer
            return
        for item in self.generator.answer(scored.query.question, turns, answer, stream=True):
            yield _paged(item, scored.view) if isinstance(item, Answer) else item

    def _prepare(self, request: dict[str, Any]) -> _Query:
        text: str = request["text"]
        question = Question.parse(text)
        turns: History = request["history"]
        history_text, reading = follow_up(text, question, turns)
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
        settings = self.settings
        hits, near = retriever.chunks(view, query.vector, query_terms, settings.top_chunks,
                                      settings.near_chunks)
        heads = HEAD_SENTENCES if about_document(query.question) else 0
        records = retriever.sentences(view, hits, near, query.vector, settings.top_sentences,
                                      heads)
        first = score_sentences(query.question, query.history_terms, records,
                                view.weight, self.scorer, view.known)
        prev = {r.sentence.id: r.sentence.prev for r in records}
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


_engines: dict[Settings, Engine] = {}
_engines_lock = threading.Lock()


def _paged(answer: Answer, view: CorpusView) -> Answer:
    """``answer`` with each citation's page, from the records of the cited documents that have
    pages (PDFs; an answer from other documents reads no record)."""
    return with_pages(answer, view.docs_of(c.source for c in answer.citations
                                           if has_pages(c.source)))


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
    return ask_building_default(get_engine(settings), question, history, collection)


def ask_building_default(engine: Engine, question: object, history: object = None,
                         collection: str | None = None) -> Answer:
    """``engine.ask``; when the default collection is missing, it is built from the seeds
    first (:meth:`Engine.ensure_default`), as on a fresh machine."""
    try:
        return engine.ask(question, history, collection)
    except CollectionNotFound:
        if engine.ensure_default(collection) is None:
            raise
    return engine.ask(question, history, collection)
