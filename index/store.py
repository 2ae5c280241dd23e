"""The Chroma store: three collections per corpus, same code for embedded and server mode.

For a corpus ``NAME``:
- ``NAME``            chunks (the retrieval unit), vector = mean of its sentence vectors;
- ``NAME__sentences`` sentences with their own vectors (sentence-level scores without encoding);
- ``NAME__docs``      one record per document: full text, content hash, counts. It is written
  *after* a document's chunks and sentences, so it marks the document as complete; readers keep
  only hits whose ``doc_sha`` matches it, so a half-written or replaced document is never seen.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from index.errors import CollectionNotFound, InvalidCollectionName, StoreUnavailable
from index.settings import IndexSettings

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{1,58})[A-Za-z0-9]$")
SENTENCES = "__sentences"
DOCS = "__docs"


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or "__" in name:
        raise InvalidCollectionName(str(name))
    return name


def open_client(settings: IndexSettings) -> Any:
    """A Chroma client: HttpClient when ``chroma_url`` is set, else PersistentClient."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exception/ValueError subclasses
        where = settings.chroma_url or settings.chroma_path
        raise StoreUnavailable(
            f"cannot open the Chroma store at {where} ({exc}); check RAG_CHROMA_URL / "
            "RAG_DATA_DIR, and that no other process writes to that folder"
        ) from exc


@dataclass(frozen=True)
class DocRecord:
    source: str
    sha256: str
    kind: str
    sentences: int
    chunks: int
    indexed_at: float
    pages: str


class Store:
    """The three collections of one corpus."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = check_name(name)
        self._cols: dict[str, Any] = {}

    @staticmethod
    def collection_names(client: Any) -> list[str]:
        names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
        return sorted(n for n in names if f"{n}{DOCS}" in names)

    def exists(self) -> bool:
        return self.name in self.collection_names(self.client)

    def require(self) -> Store:
        if not self.exists():
            raise CollectionNotFound(self.name, self.collection_names(self.client))
        return self

    def col(self, suffix: str = "") -> Any:
        if suffix not in self._cols:
            self._cols[suffix] = self.client.get_or_create_collection(
                self.name + suffix,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        return self._cols[suffix]

    def drop(self) -> None:
        for suffix in ("", SENTENCES, DOCS):
            # a collection that is not there is already dropped
            with contextlib.suppress(Exception):
                self.client.delete_collection(self.name + suffix)
        self._cols.clear()

    @property
    def max_batch(self) -> int:
        return int(self.client.get_max_batch_size())

    def upsert(self, suffix: str, ids: Sequence[str], embeddings: Any,
               documents: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Upsert in batches no larger than the client allows."""
        col = self.col(suffix)
        step = self.max_batch
        for i in range(0, len(ids), step):
            col.upsert(
                ids=list(ids[i : i + step]),
                embeddings=embeddings[i : i + step],
                documents=list(documents[i : i + step]),
                metadatas=list(metadatas[i : i + step]),
            )

    def docs(self) -> dict[str, DocRecord]:
        """Every complete document, by source."""
        out: dict[str, DocRecord] = {}
        for meta in self._iter_meta(DOCS):
            rec = DocRecord(
                source=str(meta["source"]), sha256=str(meta["doc_sha"]), kind=str(meta["kind"]),
                sentences=int(meta["sentences"]), chunks=int(meta["chunks"]),
                indexed_at=float(meta["indexed_at"]), pages=str(meta.get("pages", "")),
            )
            out[rec.source] = rec
        return out

    def doc_text(self, source: str) -> str | None:
        got = self.col(DOCS).get(where={"source": source}, include=["documents"])
        docs = got.get("documents") or []
        return str(docs[0]) if docs else None

    def delete_source(self, source: str, keep_sha: str | None = None) -> None:
        """Remove a document's records; with ``keep_sha``, only those of other versions."""
        where: dict[str, Any] = {"source": source}
        if keep_sha is not None:
            where = {"$and": [{"source": source}, {"doc_sha": {"$ne": keep_sha}}]}
        for suffix in ("", SENTENCES):
            self.col(suffix).delete(where=where)
        if keep_sha is None:
            self.col(DOCS).delete(where={"source": source})

    def orphan_sources(self) -> set[tuple[str, str]]:
        """(source, doc_sha) pairs of chunk records that no complete document owns."""
        docs = {(d.source, d.sha256) for d in self.docs().values()}
        seen = {(str(m["source"]), str(m["doc_sha"])) for m in self._iter_meta("")}
        return seen - docs

    def version(self) -> str:
        """Changes whenever an indexing run changed the collection (readers cache on it)."""
        meta = self.client.get_collection(self.name + DOCS).metadata or {}
        return str(meta.get("version", ""))

    def bump_version(self) -> None:
        self.col(DOCS).modify(metadata={"version": uuid.uuid4().hex})

    def count(self, suffix: str = "") -> int:
        return int(self.col(suffix).count())

    def _iter_meta(self, suffix: str, page: int = 5000) -> Iterator[dict[str, Any]]:
        col = self.col(suffix)
        offset = 0
        while True:
            got = col.get(include=["metadatas"], limit=page, offset=offset)
            metas = got.get("metadatas") or []
            yield from (dict(m) for m in metas if m)
            if len(metas) < page:
                return
            offset += page
