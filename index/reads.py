"""Typed reads of a collection for answering: dense hits, sentence records and vectors, documents.

Each read is one Chroma call whose result is decoded here (:mod:`index.records`), so nothing
above ``index`` touches a Chroma collection or a metadata dict. Reads are of whatever is stored:
callers keep the records of the state they read (see :class:`index.docrecord.Snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from index.docrecord import DocRecord
from index.embed import Vectors
from index.records import sentence_record
from index.store import DOCS, SENTENCES, Store
from index.types import SentenceHit, SentenceRecord, StoredVectors


def nearest_chunks(store: Store, vector: Vectors, n: int) -> list[str]:
    """The ids of the ``n`` chunks nearest to ``vector``, nearest first (no text is read)."""
    got = store.col("").query(query_embeddings=[vector.tolist()], n_results=n, include=[])
    return [str(c) for c in got["ids"][0]]


def nearest_sentences(store: Store, vector: Vectors, n: int) -> list[SentenceHit]:
    """The ``n`` sentences nearest to ``vector`` by their own vectors, nearest first."""
    got = store.col(SENTENCES).query(query_embeddings=[vector.tolist()], n_results=n,
                                     include=["documents", "metadatas", "distances"])
    return [SentenceHit(sentence_record(str(sid), str(text), dict(meta)), float(distance))
            for sid, text, meta, distance in zip(got["ids"][0], got["documents"][0],
                                                 got["metadatas"][0], got["distances"][0],
                                                 strict=True)]


def head_sentence_ids(store: Store, sources: Sequence[str], heads: int) -> list[str]:
    """The ids of the first ``heads`` sentences of each of ``sources`` (every stored version)."""
    got = store.col(SENTENCES).get(
        where={"$and": [{"source": {"$in": list(sources)}}, {"index": {"$lt": heads}}]},
        include=[])
    return [str(sid) for sid in got["ids"]]


def sentences(store: Store, ids: Sequence[str]) -> list[SentenceRecord]:
    """The records of the sentences ``ids`` that are stored."""
    got = store.col(SENTENCES).get(ids=list(ids), include=["documents", "metadatas"])
    return [sentence_record(str(sid), str(text), dict(meta))
            for sid, text, meta in zip(got["ids"], got["documents"], got["metadatas"],
                                       strict=True)]


def sentence_vectors(store: Store, ids: Sequence[str]) -> StoredVectors:
    """The stored vectors of the sentences ``ids`` that are stored."""
    got = store.col(SENTENCES).get(ids=list(ids), include=["embeddings"])
    found = tuple(str(sid) for sid in got["ids"])
    if not found:  # all of them removed by a run that committed meanwhile
        return StoredVectors((), np.zeros((0, 0), dtype=np.float32))
    rows = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(found), -1)
    return StoredVectors(found, rows)


def doc_records_named(store: Store, sources: Iterable[str]) -> list[DocRecord]:
    """Every stored record (of any generation) of the documents ``sources``."""
    got = store.col(DOCS).get(where={"source": {"$in": list(sources)}}, include=["metadatas"])
    return [DocRecord.from_meta(str(id_), dict(meta))
            for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=True)]
