"""The baseline: a stock LangChain retrieval pipeline that cites whole retrieved chunks.

``RecursiveCharacterTextSplitter`` (1,000 characters, 200 overlap, ``add_start_index``) →
``langchain_chroma.Chroma`` (our offline embedding model wrapped as LangChain ``Embeddings``,
its own Chroma folder, telemetry off) → ``similarity_search(k=4)`` → every sentence of the
retrieved chunks is cited. A chunk's position in its document comes from its ``start_index``;
the sentences cited are the document's sentences (``split_sentences``) that overlap the chunk,
so each citation is a whole sentence at exact offsets. It never refuses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from index.embed import Embedder
from index.segment import split_sentences

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
_ADD_BATCH = 1000

Cited = tuple[str, int, int, str]


class EmbedderEmbeddings(Embeddings):
    """Our :class:`Embedder` (all-MiniLM-L6-v2, offline) as LangChain ``Embeddings``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        rows: list[list[float]] = self.embedder.embed(texts).tolist()
        return rows

    def embed_query(self, text: str) -> list[float]:
        row: list[float] = self.embedder.embed([text])[0].tolist()
        return row


@dataclass(frozen=True)
class BaselineAnswer:
    question: str
    text: str
    """The retrieved chunks' cited sentences, in retrieval order (what a reader is shown)."""
    citations: tuple[Cited, ...]
    """``(source, start, end, text)`` of every sentence of the retrieved chunks, deduplicated."""
    chunks: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class _Doc:
    text: str
    sentences: tuple[tuple[int, int], ...]


class LangChainBaseline:
    """One Chroma client; one LangChain ``Chroma`` vector store per collection."""

    def __init__(self, embedder: Embedder, persist_dir: Path, *, chunk_size: int = CHUNK_SIZE,
                 chunk_overlap: int = CHUNK_OVERLAP, k: int = TOP_K) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        persist_dir.mkdir(parents=True, exist_ok=True)
        self.client: Any = chromadb.PersistentClient(
            path=str(persist_dir), settings=ChromaSettings(anonymized_telemetry=False))
        self.embeddings = EmbedderEmbeddings(embedder)
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True)
        self.k = k
        self._stores: dict[str, Any] = {}
        self._docs: dict[str, dict[str, _Doc]] = {}

    def index(self, collection: str, documents: Mapping[str, str]) -> int:
        """(Re)build ``collection`` from ``source -> text``; returns the number of chunks."""
        from langchain_chroma import Chroma

        # chromadb raises NotFoundError or ValueError when the collection does not exist
        with contextlib.suppress(Exception):
            self.client.delete_collection(collection)
        sources = sorted(documents)
        chunks = self.splitter.create_documents(
            [documents[s] for s in sources], metadatas=[{"source": s} for s in sources])
        store = Chroma(collection_name=collection, embedding_function=self.embeddings,
                       client=self.client)
        for i in range(0, len(chunks), _ADD_BATCH):
            batch = chunks[i : i + _ADD_BATCH]
            store.add_documents(batch, ids=[f"{collection}-{i + j}" for j in range(len(batch))])
        self._stores[collection] = store
        self._docs[collection] = {
            s: _Doc(documents[s], tuple((x.start, x.end) for x in split_sentences(documents[s])))
            for s in sources
        }
        return len(chunks)

    def ask(self, question: str, collection: str) -> BaselineAnswer:
        hits = self._stores[collection].similarity_search(question, k=self.k)
        docs = self._docs[collection]
        citations: dict[tuple[str, int, int], str] = {}
        chunks = []
        for hit in hits:
            source = str(hit.metadata["source"])
            start = int(hit.metadata["start_index"])
            end = start + len(hit.page_content)
            chunks.append((source, start, end))
            doc = docs[source]
            for s, e in doc.sentences:
                if s < end and start < e:
                    citations.setdefault((source, s, e), doc.text[s:e])
        cited = tuple((src, s, e, text) for (src, s, e), text in citations.items())
        return BaselineAnswer(question, " ".join(c[3] for c in cited), cited, tuple(chunks))
