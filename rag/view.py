"""One committed state of a collection, as questions see it: its version, its lexical index
(opened from disk, memory-mapped), and the term weights and records read from it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from index.docrecord import DocRecord, Version
from index.lexical import LexicalReader
from index.reads import doc_records_named
from index.store import Store
from index.types import ChunkRecord


class CorpusView:
    """One committed state of a collection: its version, its lexical index and term weights."""

    _CACHE = 65_536
    """Term weights and document records remembered per view (a few per question)."""

    def __init__(self, store: Store, lexical_root: Path) -> None:
        self._store = store
        self.version, self.generation = store.committed()
        self.lexical = LexicalReader.open(lexical_root, store.name, self.version,
                                          self.generation)
        self.n = self.lexical.n if self.lexical is not None else 0
        self._df: dict[str, int] = {}
        self._docs: dict[str, DocRecord] = {}

    def _doc_freq(self, term: str) -> int:
        df = self._df.get(term)
        if df is None:
            df = self.lexical.doc_freq(term) if self.lexical is not None else 0
            if len(self._df) >= self._CACHE:
                self._df.clear()
            self._df[term] = df
        return df

    def known(self, term: str) -> bool:
        """Whether some chunk of the collection holds ``term``."""
        return self._doc_freq(term) > 0

    def weight(self, term: str) -> float:
        """Smoothed IDF: a word in every chunk still counts 1; a word the corpus never uses
        counts like one found in a single chunk (it may be a paraphrase, or the topic)."""
        return math.log((1 + self.n) / (1 + max(1, self._doc_freq(term)))) + 1

    def records(self, ids: list[str]) -> dict[str, ChunkRecord]:
        """The records of the chunks ``ids`` this state holds."""
        return self.lexical.records(ids) if self.lexical is not None else {}

    def heads(self, versions: Iterable[Version]) -> dict[str, ChunkRecord]:
        """The records of the chunks that open the documents ``versions`` in this state."""
        return self.lexical.heads(versions) if self.lexical is not None else {}

    def lexical_hits(self, query_terms: list[str], k: int) -> dict[str, ChunkRecord]:
        """The records of the best ``k`` chunks by BM25 over the terms the collection knows,
        best first."""
        known = [t for t in query_terms if self.known(t)]
        if not known or self.lexical is None:
            return {}
        return self.lexical.search(known, k)

    def docs_of(self, sources: Iterable[str]) -> dict[str, DocRecord]:
        """The records of the documents ``sources`` in this state (a citation's page comes
        from them), read for the cited documents only."""
        wanted = set(sources)
        missing = sorted(wanted - self._docs.keys())
        if missing:
            found = doc_records_named(self._store, missing)
            if len(self._docs) >= self._CACHE:
                self._docs.clear()
            for record in found:
                if record.live_at(self.generation):
                    self._docs[record.source] = record
        return {s: self._docs[s] for s in wanted if s in self._docs}
