"""Typed reads of a collection for answering: dense hits and document records.

Each read is one Chroma call whose result is decoded here, so nothing above ``index`` touches a
Chroma collection or a metadata dict. Reads are of whatever is stored: callers keep the records
of the state they read (see :class:`index.docrecord.Snapshot`). The hit chunks' records and
their sentences (text, offsets, vectors) come from the lexical index
(:class:`index.lexical.LexicalReader`), not from Chroma.
"""

from __future__ import annotations

from collections.abc import Iterable

from index.docrecord import DocRecord
from index.embed import Vectors
from index.store import DOCS, Store


def nearest_chunks(store: Store, vector: Vectors, n: int) -> list[str]:
    """The ids of the ``n`` chunks nearest to ``vector``, nearest first (no text is read)."""
    got = store.col("").query(query_embeddings=[vector.tolist()], n_results=n, include=[])
    return [str(c) for c in got["ids"][0]]


def doc_records_named(store: Store, sources: Iterable[str]) -> list[DocRecord]:
    """Every stored record (of any generation) of the documents ``sources``."""
    got = store.col(DOCS).get(where={"source": {"$in": list(sources)}}, include=["metadatas"])
    return [DocRecord.from_meta(str(id_), dict(meta))
            for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=True)]
